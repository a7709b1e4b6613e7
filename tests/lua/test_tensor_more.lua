-- The ops a student reaches for next (issue 20): trigonometry and rounding,
-- creation (*_like, randint, logspace, meshgrid, outer, diag, tril/triu),
-- where, cumsum, norm, sort, topk. Values against PyTorch are in
-- test_tensor_torch.lua (fixture tensor_ops.lua); here: gradients against
-- finite differences, grad_fn names, saved tensors changed in place, errors.

-- the values of t in row-major order, as a Lua array (read without recording)
local function values(t)
  return tensor.no_grad(function() return t:contiguous():reshape(-1):totable() end)
end

local function R(seed, ...)
  return tensor.randn({...}, tensor.Generator(seed)):requires_grad_()
end

-- gradcheck(fn, inputs [, opts]): the gradient of sum(fn(inputs) * w) (w fixed random
-- weights) against central differences, summed in double in Lua, for every input that
-- requires grad. opts: eps (1e-2), tol (2e-3, absolute and relative), what.
local function gradcheck(fn, inputs, opts)
  opts = opts or {}
  local eps, tol, what = opts.eps or 1e-2, opts.tol or 2e-3, opts.what or "gradcheck"
  local out = fn(inputs)
  assert(out.requires_grad, what .. ": the result does not require grad")
  assert(type(out.grad_fn) == "string", what .. ": the result has no grad_fn")
  local w = tensor.randn(out.shape, tensor.Generator(99))
  local wv = values(w)
  ;(out * w):sum():backward()
  local function objective()
    return tensor.no_grad(function()
      local v, s = values(fn(inputs)), 0
      for m = 1, #v do s = s + v[m] * wv[m] end
      return s
    end)
  end
  for k, x in ipairs(inputs) do
    if x.requires_grad then
      assert(x.grad, what .. ": input " .. k .. " got no gradient")
      local g, flat = values(x.grad), x:detach():view(-1)
      for i = 1, #g do
        local v = flat[i]
        flat[i] = v + eps
        local up = objective()
        flat[i] = v - eps
        local down = objective()
        flat[i] = v
        local num = (up - down) / (2 * eps)
        if math.abs(num - g[i]) > tol * (1 + math.abs(num)) then
          error(string.format("%s: input %d element %d: autograd %.7g, finite differences %.7g",
                              what, k, i, g[i], num), 2)
        end
      end
    end
  end
end

-- the op's backward refuses an input it reads that was changed in place after the forward pass
local function check_saved(make, change, what)
  local out = make()
  tensor.no_grad(change)
  local err = expect_error(function() out:sum():backward() end, "modified in place")
  assert(err:find("backward", 1, true), what .. ": " .. err)
end

---------------------------------------------------------------------------------------
-- trigonometry and rounding
---------------------------------------------------------------------------------------

test("sin cos tan: values, gradients, grad_fn", function()
  local x = tensor.new{0, math.pi / 6, -1}
  check_close(x:sin(), {0, 0.5, math.sin(-1)}, 1e-6)
  check_close(x:cos(), {1, math.cos(math.pi / 6), math.cos(-1)}, 1e-6)
  check_close(x:tan(), {0, math.tan(math.pi / 6), math.tan(-1)}, 1e-6)
  gradcheck(function(a) return a[1]:sin() end, {R(1, 3, 4)}, {what = "sin"})
  gradcheck(function(a) return a[1]:cos() end, {R(2, 3, 4)}, {what = "cos"})
  gradcheck(function(a) return (a[1] * 0.5):tan() end, {R(3, 3, 4)}, {what = "tan"})
  gradcheck(function(a) return a[1]:t():sin() * a[1]:t():cos() end, {R(4, 3, 4)}, {what = "sin cos of a view"})
  check_eq(R(5, 2):sin().grad_fn, "SinBackward0")
  check_eq(R(5, 2):cos().grad_fn, "CosBackward0")
  check_eq(R(5, 2):tan().grad_fn, "TanBackward0")
end)

test("floor round trunc: half to even, gradient zero as PyTorch", function()
  local x = tensor.new{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 1.7}
  check_close(x:floor(), {-3, -2, -1, 0, 1, 2, -2, 1}, 0)
  check_close(x:round(), {-2, -2, -0, 0, 2, 2, -2, 2}, 0)
  check_close(x:trunc(), {-2, -1, -0, 0, 1, 2, -1, 1}, 0)
  for _, f in ipairs{"floor", "round", "trunc"} do
    local p = tensor.new{0.3, 1.7, -2.2}:requires_grad_()
    local y = p[f](p)
    check_eq(y.grad_fn, f:sub(1, 1):upper() .. f:sub(2) .. "Backward0")
    ;(y * 3 + p):sum():backward()
    check_close(p.grad, {1, 1, 1}, 0, f .. ": only the identity term has a gradient")
  end
end)

test("sin and cos read their input: changing it in place fails backward", function()
  for _, f in ipairs{"sin", "cos"} do
    local x = tensor.new{1, 2}:requires_grad_()
    local y = x * 1
    check_saved(function() return y[f](y) end, function() y:mul_(2) end, f)
  end
  local x = tensor.new{0.1, 0.2}:requires_grad_()
  local y = x:tan()
  check_saved(function() return y * 1 end, function() y:mul_(2) end, "tan's result")
end)
