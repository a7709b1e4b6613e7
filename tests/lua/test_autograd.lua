-- autograd: every differentiable op against central finite differences (gradcheck),
-- broadcasting, reductions, matmul ranks, views, indexing, chains; then the semantics
-- (accumulation, zeroing, detach, no_grad, grad_fn, errors, in-place checks, memory).

---------------------------------------------------------------------------------------
-- helpers
---------------------------------------------------------------------------------------

local function shape_str(t) return "[" .. table.concat(t.shape, ", ") .. "]" end

-- the values of t in row-major order, as a Lua array (read without recording)
local function values(t)
  return tensor.no_grad(function()
    local v = t:contiguous():reshape(-1):totable()
    return v
  end)
end

-- a leaf that requires grad, made from a tensor built without recording
local function leaf(t)
  t.requires_grad = true
  return t
end

-- randn leaf of the given shape from its own generator
local function R(seed, ...)
  return leaf(tensor.randn({...}, tensor.Generator(seed)))
end

-- randn values pushed at least m away from 0 (for relu, abs, sign, division, ...)
local function away(seed, m, ...)
  local t = tensor.randn({...}, tensor.Generator(seed))
  return leaf(t + t:sign() * m)
end

-- uniform values in [lo, hi)
local function U(seed, lo, hi, ...)
  return leaf(tensor.rand({...}, tensor.Generator(seed)) * (hi - lo) + lo)
end

-- gradcheck(fn, inputs [, opts]): fn maps the list of inputs to a tensor. The analytic
-- gradient of sum(fn(inputs) * w), for a fixed random w of the output's shape, must match
-- central differences computed under tensor.no_grad, for every input that requires grad.
-- opts: eps (1e-2), atol (2e-3), rtol (2e-3), what (a label), wseed. (Measured: the worst
-- mismatch of a correct gradient here is under a tenth of these tolerances.)
local function gradcheck(fn, inputs, opts)
  opts = opts or {}
  local eps = opts.eps or 1e-2
  local atol = opts.atol or 2e-3
  local rtol = opts.rtol or 2e-3
  local what = opts.what or "gradcheck"
  for i, x in ipairs(inputs) do
    assert(x.grad == nil, string.format("%s: input %d has a .grad before backward", what, i))
  end
  local out = fn(inputs)
  assert(tensor.is_tensor(out), what .. ": fn must return a tensor")
  assert(out.requires_grad == true, what .. ": the output does not require grad")
  local is_input = false
  for _, x in ipairs(inputs) do is_input = is_input or rawequal(out, x) end
  if not is_input then                    -- an op may return its input itself (contiguous)
    assert(type(out.grad_fn) == "string", what .. ": the output has no grad_fn")
  end
  local w = tensor.randn(out.shape, tensor.Generator(opts.wseed or 1234))
  local wv = values(w)
  local expect_shape = shape_str(out)
  local ref = values(out)
  ;(out * w):sum():backward()

  local function objective(args)
    return tensor.no_grad(function()
      local o = fn(args)
      local passthrough = false
      for _, y in ipairs(args) do passthrough = passthrough or rawequal(o, y) end
      if o.requires_grad and not passthrough then
        error(what .. ": a result computed under no_grad requires grad")
      end
      if shape_str(o) ~= expect_shape then error(what .. ": output shape changed") end
      local ov = values(o)
      local s = 0
      for m = 1, #ov do s = s + ov[m] * wv[m] end
      return s
    end)
  end

  -- the forward under no_grad must equal the recorded forward
  local same = objective(inputs)
  local s_ref = 0
  for m = 1, #ref do s_ref = s_ref + ref[m] * wv[m] end
  if math.abs(same - s_ref) > 1e-5 * (1 + math.abs(s_ref)) then
    error(string.format("%s: forward differs with and without grad (%.9g vs %.9g)", what, s_ref, same))
  end

  for k, x in ipairs(inputs) do
    if x.requires_grad then
      local g = x.grad
      if g == nil then error(string.format("%s: input %d got no .grad", what, k)) end
      if shape_str(g) ~= shape_str(x) then
        error(string.format("%s: input %d: .grad has shape %s, input %s", what, k, shape_str(g), shape_str(x)))
      end
      if g.requires_grad then error(string.format("%s: input %d: .grad requires grad", what, k)) end
      local gv = values(g)
      local base = values(x)
      local worst, worst_i, worst_a, worst_n = -1, nil, nil, nil
      for i = 1, #base do
        local fx = {}
        for _, sgn in ipairs{1, -1} do
          local args = {}
          for j, y in ipairs(inputs) do args[j] = y end
          local p, actual = tensor.no_grad(function()
            local p = x:clone():contiguous()
            local flat = p:view(-1)
            flat[i] = base[i] + sgn * eps
            return p, flat[i]
          end)
          args[k] = p
          fx[sgn] = {objective(args), actual}
        end
        local num = (fx[1][1] - fx[-1][1]) / (fx[1][2] - fx[-1][2])
        local err = math.abs(gv[i] - num) - (atol + rtol * math.abs(num))
        if err > worst then worst, worst_i, worst_a, worst_n = err, i, gv[i], num end
      end
      if worst > 0 then
        error(string.format("%s: input %d %s, element %d: analytic %.6g, numeric %.6g",
                            what, k, shape_str(x), worst_i, worst_a, worst_n), 2)
      end
    end
  end
end


---------------------------------------------------------------------------------------
-- the checker itself catches a wrong gradient (sanity of the test harness, no autograd bug)
---------------------------------------------------------------------------------------

test("gradcheck: self-test rejects a wrong gradient", function()
  -- x * stop(x) has gradient x, not 2x: a correct autograd gives x, and gradcheck on the
  -- function x * x written as x * detached x must fail numerically
  local x = R(1, 3)
  local ok = pcall(gradcheck, function(a) return a[1] * a[1]:detach() end, {x})
  assert(not ok, "gradcheck accepted a wrong gradient")
end)

---------------------------------------------------------------------------------------
-- arithmetic with broadcasting
---------------------------------------------------------------------------------------

test("grad add: same shape, broadcasting, numbers, alpha", function()
  gradcheck(function(a) return a[1] + a[2] end, {R(1, 3, 4), R(2, 3, 4)}, {what = "[3,4]+[3,4]"})
  gradcheck(function(a) return a[1] + a[2] end, {R(1, 3, 4), R(2, 4)}, {what = "[3,4]+[4]"})
  gradcheck(function(a) return a[1] + a[2] end, {R(1, 3, 4), R(2, 3, 1)}, {what = "[3,4]+[3,1]"})
  gradcheck(function(a) return a[1] + a[2] end, {R(1, 3, 4), R(2)}, {what = "[3,4]+0-d"})
  gradcheck(function(a) return a[2] + a[1] end, {R(1, 3, 4), R(2)}, {what = "0-d+[3,4]"})
  gradcheck(function(a) return a[1] + a[2] end, {R(1, 1, 4), R(2, 3, 1)}, {what = "[1,4]+[3,1]"})
  gradcheck(function(a) return a[1] + a[2] end, {R(1, 2, 1, 4), R(2, 3, 1)}, {what = "[2,1,4]+[3,1]"})
  gradcheck(function(a) return a[1] + 2.5 end, {R(1, 3, 4)}, {what = "x + 2.5"})
  gradcheck(function(a) return 2.5 + a[1] end, {R(1, 3, 4)}, {what = "2.5 + x"})
  gradcheck(function(a) return a[1]:add(a[2]) end, {R(1, 3, 4), R(2, 4)}, {what = "add(y)"})
  gradcheck(function(a) return a[1]:add(a[2], 3) end, {R(1, 3, 4), R(2, 3, 1)}, {what = "add(y, 3)"})
  gradcheck(function(a) return a[1]:add(2, 3) end, {R(1, 3, 4)}, {what = "add(2, 3)"})
  -- only one side requires grad
  local c = tensor.randn(4, tensor.Generator(9))
  gradcheck(function(a) return a[1] + c end, {R(1, 3, 4)}, {what = "x + constant"})
end)

test("grad sub: same shape, broadcasting, numbers, alpha", function()
  gradcheck(function(a) return a[1] - a[2] end, {R(1, 3, 4), R(2, 3, 4)}, {what = "[3,4]-[3,4]"})
  gradcheck(function(a) return a[1] - a[2] end, {R(1, 3, 4), R(2, 4)}, {what = "[3,4]-[4]"})
  gradcheck(function(a) return a[2] - a[1] end, {R(1, 3, 4), R(2, 3, 1)}, {what = "[3,1]-[3,4]"})
  gradcheck(function(a) return a[1] - a[2] end, {R(1, 3, 4), R(2)}, {what = "[3,4]-0-d"})
  gradcheck(function(a) return a[1] - 2 end, {R(1, 3, 4)}, {what = "x - 2"})
  gradcheck(function(a) return 2 - a[1] end, {R(1, 3, 4)}, {what = "2 - x"})
  gradcheck(function(a) return a[1]:sub(a[2]) end, {R(1, 3, 4), R(2, 4)}, {what = "sub(y)"})
  gradcheck(function(a) return a[1]:sub(a[2], 2) end, {R(1, 3, 4), R(2, 3, 1)}, {what = "sub(y, 2)"})
  gradcheck(function(a) return a[1]:sub(1.5) end, {R(1, 3, 4)}, {what = "sub(1.5)"})
end)

test("grad mul: same shape, broadcasting, numbers, same tensor twice", function()
  gradcheck(function(a) return a[1] * a[2] end, {R(1, 3, 4), R(2, 3, 4)}, {what = "[3,4]*[3,4]"})
  gradcheck(function(a) return a[1] * a[2] end, {R(1, 3, 4), R(2, 4)}, {what = "[3,4]*[4]"})
  gradcheck(function(a) return a[1] * a[2] end, {R(1, 3, 4), R(2, 3, 1)}, {what = "[3,4]*[3,1]"})
  gradcheck(function(a) return a[1] * a[2] end, {R(1, 3, 4), R(2)}, {what = "[3,4]*0-d"})
  gradcheck(function(a) return a[1] * a[2] end, {R(1, 1, 4), R(2, 3, 1)}, {what = "[1,4]*[3,1]"})
  gradcheck(function(a) return a[1] * 3 end, {R(1, 3, 4)}, {what = "x * 3"})
  gradcheck(function(a) return -1.5 * a[1] end, {R(1, 3, 4)}, {what = "-1.5 * x"})
  gradcheck(function(a) return a[1] * a[1] end, {R(1, 3, 4)}, {what = "x * x"})
  gradcheck(function(a) return a[1]:mul(a[2]) end, {R(1, 3, 4), R(2, 4)}, {what = "mul(y)"})
  gradcheck(function(a) return a[1]:mul(0.5) end, {R(1, 3, 4)}, {what = "mul(0.5)"})
end)

test("grad div: same shape, broadcasting, numbers", function()
  gradcheck(function(a) return a[1] / a[2] end, {R(1, 3, 4), away(2, 0.7, 3, 4)}, {what = "[3,4]/[3,4]"})
  gradcheck(function(a) return a[1] / a[2] end, {R(1, 3, 4), away(2, 0.7, 4)}, {what = "[3,4]/[4]"})
  gradcheck(function(a) return a[1] / a[2] end, {R(1, 3, 4), away(2, 0.7, 3, 1)}, {what = "[3,4]/[3,1]"})
  gradcheck(function(a) return a[2] / a[1] end, {away(1, 0.7, 3, 4), R(2)}, {what = "0-d/[3,4]"})
  gradcheck(function(a) return a[1] / 4 end, {R(1, 3, 4)}, {what = "x / 4"})
  gradcheck(function(a) return 2 / a[1] end, {away(1, 0.7, 3, 4)}, {what = "2 / x"})
  gradcheck(function(a) return a[1]:div(a[2]) end, {R(1, 3, 4), away(2, 0.7, 4)}, {what = "div(y)"})
  gradcheck(function(a) return a[1]:div(-3) end, {R(1, 3, 4)}, {what = "div(-3)"})
end)

test("grad pow: integer, fractional, negative exponents, number base, tensor exponent", function()
  gradcheck(function(a) return a[1] ^ 3 end, {R(1, 3, 4)}, {what = "x ^ 3"})
  gradcheck(function(a) return a[1] ^ 2 end, {R(1, 3, 4)}, {what = "x ^ 2"})
  gradcheck(function(a) return a[1] ^ 0.5 end, {U(1, 0.5, 2, 3, 4)}, {what = "x ^ 0.5"})
  gradcheck(function(a) return a[1] ^ -1 end, {U(1, 0.5, 2, 3, 4)}, {what = "x ^ -1"})
  gradcheck(function(a) return a[1]:pow(2.5) end, {U(1, 0.5, 2, 3, 4)}, {what = "pow(2.5)"})
  gradcheck(function(a) return 2 ^ a[1] end, {R(1, 3, 4)}, {what = "2 ^ x"})
  gradcheck(function(a) return 0.5 ^ a[1] end, {R(1, 3, 4)}, {what = "0.5 ^ x"})
  gradcheck(function(a) return a[1] ^ a[2] end, {U(1, 0.5, 2, 3, 4), R(2, 3, 4)}, {what = "x ^ y"})
  gradcheck(function(a) return a[1] ^ a[2] end, {U(1, 0.5, 2, 3, 4), R(2, 4)}, {what = "[3,4] ^ [4]"})
  gradcheck(function(a) return a[1]:pow(a[2]) end, {U(1, 0.5, 2, 3, 1), R(2, 3, 4)}, {what = "[3,1]:pow([3,4])"})
end)

test("grad unary minus and neg", function()
  gradcheck(function(a) return -a[1] end, {R(1, 3, 4)}, {what = "-x"})
  gradcheck(function(a) return a[1]:neg() end, {R(1, 3, 4)}, {what = "neg"})
  gradcheck(function(a) return -(a[1] * a[2]) end, {R(1, 3, 4), R(2, 4)}, {what = "-(x*y)"})
end)

---------------------------------------------------------------------------------------
-- elementwise functions
---------------------------------------------------------------------------------------

test("grad exp", function()
  gradcheck(function(a) return a[1]:exp() end, {R(1, 3, 4)})
end)

test("grad log", function()
  gradcheck(function(a) return a[1]:log() end, {U(1, 0.5, 3, 3, 4)})
end)

test("grad sqrt", function()
  gradcheck(function(a) return a[1]:sqrt() end, {U(1, 0.5, 3, 3, 4)})
end)

test("grad abs", function()
  gradcheck(function(a) return a[1]:abs() end, {away(1, 0.2, 3, 4)})
end)

test("grad sign is zero", function()
  gradcheck(function(a) return a[1]:sign() * 2 + a[1] end, {away(1, 0.2, 3, 4)})
  local x = away(1, 0.2, 3, 4)
  ;(x:sign() * 2 + x):sum():backward()
  check_close(x.grad, tensor.ones(3, 4), 0, "grad of sum(sign(x) * 2 + x)")
end)

test("grad relu", function()
  gradcheck(function(a) return a[1]:relu() end, {away(1, 0.2, 3, 4)})
end)

test("grad sigmoid", function()
  gradcheck(function(a) return a[1]:sigmoid() end, {R(1, 3, 4)})
end)

test("grad tanh", function()
  gradcheck(function(a) return a[1]:tanh() end, {R(1, 3, 4)})
end)

test("grad clamp", function()
  -- values at least 0.1 away from the bounds -0.5 and 0.5
  local function vals() return leaf(tensor.new{{-1.2, -0.7, -0.3, 0.0}, {0.2, 0.35, 0.8, 1.5}, {-0.9, 0.1, 0.65, -0.25}}) end
  gradcheck(function(a) return a[1]:clamp(-0.5, 0.5) end, {vals()}, {what = "clamp(lo, hi)"})
  gradcheck(function(a) return a[1]:clamp(-0.5) end, {vals()}, {what = "clamp(lo)"})
  gradcheck(function(a) return a[1]:clamp(nil, 0.5) end, {vals()}, {what = "clamp(nil, hi)"})
  local x = vals()
  x:clamp(-0.5, 0.5):sum():backward()
  check_close(x.grad, {{0, 0, 1, 1}, {1, 1, 0, 0}, {0, 1, 0, 1}}, 0, "clamp passes the gradient only inside")
end)

---------------------------------------------------------------------------------------
-- reductions
---------------------------------------------------------------------------------------

test("grad sum: all, each dim, keepdim, negative dim, 3-d", function()
  gradcheck(function(a) return a[1]:sum() end, {R(1, 3, 4)}, {what = "sum()"})
  gradcheck(function(a) return a[1]:sum(1) end, {R(1, 3, 4)}, {what = "sum(1)"})
  gradcheck(function(a) return a[1]:sum(2) end, {R(1, 3, 4)}, {what = "sum(2)"})
  gradcheck(function(a) return a[1]:sum(1, true) end, {R(1, 3, 4)}, {what = "sum(1, true)"})
  gradcheck(function(a) return a[1]:sum(2, true) end, {R(1, 3, 4)}, {what = "sum(2, true)"})
  gradcheck(function(a) return a[1]:sum(-1) end, {R(1, 3, 4)}, {what = "sum(-1)"})
  for d = 1, 3 do
    gradcheck(function(a) return a[1]:sum(d) end, {R(1, 2, 3, 4)}, {what = "3-d sum(" .. d .. ")"})
    gradcheck(function(a) return a[1]:sum(d, true) end, {R(1, 2, 3, 4)}, {what = "3-d sum(" .. d .. ", true)"})
  end
  gradcheck(function(a) return a[1]:sum() end, {R(1, 5)}, {what = "1-d sum()"})
  gradcheck(function(a) return a[1]:sum(1) end, {R(1, 5)}, {what = "1-d sum(1)"})
  local x = R(3, 2, 3)
  x:sum():backward()
  check_close(x.grad, tensor.ones(2, 3), 0, "d sum / dx")
end)

test("grad mean: all, each dim, keepdim, 3-d", function()
  gradcheck(function(a) return a[1]:mean() end, {R(1, 3, 4)}, {what = "mean()"})
  gradcheck(function(a) return a[1]:mean(1) end, {R(1, 3, 4)}, {what = "mean(1)"})
  gradcheck(function(a) return a[1]:mean(2) end, {R(1, 3, 4)}, {what = "mean(2)"})
  gradcheck(function(a) return a[1]:mean(2, true) end, {R(1, 3, 4)}, {what = "mean(2, true)"})
  for d = 1, 3 do
    gradcheck(function(a) return a[1]:mean(d, true) end, {R(1, 2, 3, 4)}, {what = "3-d mean(" .. d .. ", true)"})
  end
  local x = R(3, 2, 3)
  x:mean():backward()
  check_close(x.grad, tensor.full({2, 3}, 1 / 6), 1e-7, "d mean / dx")
end)

test("grad var: all, each dim, keepdim, unbiased = false", function()
  gradcheck(function(a) return a[1]:var() end, {R(1, 3, 4)}, {what = "var()"})
  gradcheck(function(a) return a[1]:var(1) end, {R(1, 3, 4)}, {what = "var(1)"})
  gradcheck(function(a) return a[1]:var(2) end, {R(1, 3, 4)}, {what = "var(2)"})
  gradcheck(function(a) return a[1]:var(2, true) end, {R(1, 3, 4)}, {what = "var(2, true)"})
  gradcheck(function(a) return a[1]:var(2, {unbiased = false}) end, {R(1, 3, 4)}, {what = "var(2, unbiased=false)"})
  gradcheck(function(a) return a[1]:var(3) end, {R(1, 2, 3, 4)}, {what = "3-d var(3)"})
end)

test("grad std: all, each dim, keepdim, unbiased = false", function()
  gradcheck(function(a) return a[1]:std() end, {R(1, 3, 4)}, {what = "std()"})
  gradcheck(function(a) return a[1]:std(1) end, {R(1, 3, 4)}, {what = "std(1)"})
  gradcheck(function(a) return a[1]:std(2, true) end, {R(1, 3, 4)}, {what = "std(2, true)"})
  gradcheck(function(a) return a[1]:std(1, {unbiased = false}) end, {R(1, 3, 4)}, {what = "std(1, unbiased=false)"})
end)

test("grad max: all, each dim (values), keepdim", function()
  gradcheck(function(a) return a[1]:max() end, {R(1, 3, 4)}, {what = "max()"})
  gradcheck(function(a) return (a[1]:max(1)) end, {R(1, 3, 4)}, {what = "max(1)"})
  gradcheck(function(a) return (a[1]:max(2)) end, {R(1, 3, 4)}, {what = "max(2)"})
  gradcheck(function(a) return (a[1]:max(2, true)) end, {R(1, 3, 4)}, {what = "max(2, true)"})
  gradcheck(function(a) return (a[1]:max(3)) end, {R(1, 2, 3, 4)}, {what = "3-d max(3)"})
  local x = leaf(tensor.new{{1, 5, 2}, {7, 3, 4}})
  local v, i = x:max(2)
  check_eq(i.requires_grad, false, "indices require grad")
  v:sum():backward()
  check_close(x.grad, {{0, 1, 0}, {1, 0, 0}}, 0, "max(2) gradient goes to the argmax")
end)

test("grad min: all, each dim (values), keepdim", function()
  gradcheck(function(a) return a[1]:min() end, {R(1, 3, 4)}, {what = "min()"})
  gradcheck(function(a) return (a[1]:min(1)) end, {R(1, 3, 4)}, {what = "min(1)"})
  gradcheck(function(a) return (a[1]:min(2, true)) end, {R(1, 3, 4)}, {what = "min(2, true)"})
end)

test("grad max(other) elementwise", function()
  -- x and y differ by at least 0.2 everywhere
  local x = R(1, 3, 4)
  local y = tensor.no_grad(function() local d = tensor.randn(3, 4, tensor.Generator(2)); return x + d + d:sign() * 0.2 end)
  gradcheck(function(a) return a[1]:max(a[2]) end, {x, leaf(y)}, {what = "max(y)"})
end)

---------------------------------------------------------------------------------------
-- softmax, log_softmax
---------------------------------------------------------------------------------------

test("grad softmax", function()
  gradcheck(function(a) return a[1]:softmax(1) end, {R(1, 3, 4)}, {what = "softmax(1)"})
  gradcheck(function(a) return a[1]:softmax(2) end, {R(1, 3, 4)}, {what = "softmax(2)"})
  gradcheck(function(a) return a[1]:softmax(2) end, {R(1, 2, 3, 4)}, {what = "3-d softmax(2)"})
  gradcheck(function(a) return a[1]:softmax(1) end, {R(1, 5)}, {what = "1-d softmax(1)"})
  gradcheck(function(a) return a[1]:softmax(-1) end, {R(1, 3, 4)}, {what = "softmax(-1)"})
end)

test("grad log_softmax", function()
  gradcheck(function(a) return a[1]:log_softmax(1) end, {R(1, 3, 4)}, {what = "log_softmax(1)"})
  gradcheck(function(a) return a[1]:log_softmax(2) end, {R(1, 3, 4)}, {what = "log_softmax(2)"})
  gradcheck(function(a) return a[1]:log_softmax(3) end, {R(1, 2, 3, 4)}, {what = "3-d log_softmax(3)"})
  gradcheck(function(a) return a[1]:log_softmax(1) end, {R(1, 2, 3, 4)}, {what = "3-d log_softmax(1)"})
end)

---------------------------------------------------------------------------------------
-- matmul
---------------------------------------------------------------------------------------

test("grad matmul 1-d x 1-d (dot)", function()
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 4), R(2, 4)})
end)

test("grad matmul 1-d x 2-d and 2-d x 1-d", function()
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 4), R(2, 4, 3)}, {what = "[4] @ [4,3]"})
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 3, 4), R(2, 4)}, {what = "[3,4] @ [4]"})
end)

test("grad matmul 2-d x 2-d", function()
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 3, 4), R(2, 4, 5)}, {what = "[3,4] @ [4,5]"})
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 1, 4), R(2, 4, 1)}, {what = "[1,4] @ [4,1]"})
end)

test("grad matmul with transposed view operands", function()
  gradcheck(function(a) return a[1]:matmul(a[2]:t()) end, {R(1, 3, 4), R(2, 5, 4)}, {what = "x @ w:t()"})
  gradcheck(function(a) return a[1]:t():matmul(a[2]) end, {R(1, 4, 3), R(2, 4, 5)}, {what = "x:t() @ w"})
  gradcheck(function(a) return a[1]:t():matmul(a[2]:t()) end, {R(1, 4, 3), R(2, 5, 4)}, {what = "x:t() @ w:t()"})
  gradcheck(function(a) return a[1]:matmul(a[2]:transpose(2, 3)) end, {R(1, 2, 3, 4), R(2, 2, 5, 4)},
            {what = "[2,3,4] @ [2,5,4]:transpose(2,3)"})
end)

test("grad matmul batched 3-d x 3-d", function()
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 2, 3, 4), R(2, 2, 4, 5)}, {what = "[2,3,4] @ [2,4,5]"})
end)

test("grad matmul batched with broadcasting", function()
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 2, 3, 4), R(2, 4, 5)}, {what = "[2,3,4] @ [4,5]"})
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 3, 4), R(2, 2, 4, 5)}, {what = "[3,4] @ [2,4,5]"})
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 2, 1, 3, 4), R(2, 3, 4, 2)}, {what = "[2,1,3,4] @ [3,4,2]"})
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 1, 3, 4), R(2, 2, 4, 5)}, {what = "[1,3,4] @ [2,4,5]"})
end)

test("grad matmul batched with a 1-d operand", function()
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 2, 3, 4), R(2, 4)}, {what = "[2,3,4] @ [4]"})
  gradcheck(function(a) return a[1]:matmul(a[2]) end, {R(1, 4), R(2, 2, 4, 3)}, {what = "[4] @ [2,4,3]"})
end)

---------------------------------------------------------------------------------------
-- views and copies
---------------------------------------------------------------------------------------

test("grad view", function()
  gradcheck(function(a) return a[1]:view(4, 3) end, {R(1, 3, 4)}, {what = "view(4, 3)"})
  gradcheck(function(a) return a[1]:view(-1) end, {R(1, 3, 4)}, {what = "view(-1)"})
  gradcheck(function(a) return a[1]:view(2, 6):exp() end, {R(1, 3, 4)}, {what = "view(2, 6):exp()"})
end)

test("grad reshape", function()
  gradcheck(function(a) return a[1]:reshape(2, 6) end, {R(1, 3, 4)}, {what = "reshape(2, 6)"})
  gradcheck(function(a) return a[1]:t():reshape(12) end, {R(1, 3, 4)}, {what = "t():reshape(12) (copying)"})
  gradcheck(function(a) return a[1]:reshape{6, 2} * a[1]:reshape{6, 2} end, {R(1, 3, 4)}, {what = "reshape{6, 2} twice"})
end)

test("grad flatten", function()
  gradcheck(function(a) return a[1]:flatten() end, {R(1, 2, 3, 4)}, {what = "flatten()"})
  gradcheck(function(a) return a[1]:flatten(2) end, {R(1, 2, 3, 4)}, {what = "flatten(2)"})
end)

test("grad t and transpose", function()
  gradcheck(function(a) return a[1]:t() end, {R(1, 3, 4)}, {what = "t()"})
  gradcheck(function(a) return a[1]:t() * a[2] end, {R(1, 3, 4), R(2, 4, 3)}, {what = "t() * y"})
  gradcheck(function(a) return a[1]:transpose(1, 3) end, {R(1, 2, 3, 4)}, {what = "transpose(1, 3)"})
  gradcheck(function(a) return a[1]:transpose(2, 3):exp() end, {R(1, 2, 3, 4)}, {what = "transpose(2, 3):exp()"})
end)

test("grad permute", function()
  gradcheck(function(a) return a[1]:permute(3, 1, 2) end, {R(1, 2, 3, 4)}, {what = "permute(3, 1, 2)"})
  gradcheck(function(a) return a[1]:permute(2, 3, 1):sigmoid() end, {R(1, 2, 3, 4)}, {what = "permute(2, 3, 1):sigmoid()"})
end)

test("grad squeeze and unsqueeze", function()
  gradcheck(function(a) return a[1]:squeeze() end, {R(1, 3, 1, 4, 1)}, {what = "squeeze()"})
  gradcheck(function(a) return a[1]:squeeze(2) end, {R(1, 3, 1, 4)}, {what = "squeeze(2)"})
  gradcheck(function(a) return a[1]:unsqueeze(1) end, {R(1, 3, 4)}, {what = "unsqueeze(1)"})
  gradcheck(function(a) return a[1]:unsqueeze(3) end, {R(1, 3, 4)}, {what = "unsqueeze(3)"})
  gradcheck(function(a) return a[1]:unsqueeze(2) * a[2] end, {R(1, 3, 4), R(2, 5, 1)}, {what = "unsqueeze(2) broadcast"})
end)

test("grad select: every dim, negative indices, 0-d from 1-d", function()
  gradcheck(function(a) return a[1]:select(1, 2) end, {R(1, 3, 4)}, {what = "select(1, 2)"})
  gradcheck(function(a) return a[1]:select(2, -1) end, {R(1, 3, 4)}, {what = "select(2, -1)"})
  gradcheck(function(a) return a[1]:select(3, 1) end, {R(1, 2, 3, 4)}, {what = "select(3, 1)"})
  gradcheck(function(a) return a[1]:select(1, 3) * a[1]:select(1, 1) end, {R(1, 4)}, {what = "1-d select products"})
  local x = R(2, 5)
  check_eq(x:select(1, 2):dim(), 0, "0-d from a 1-d tensor")
  check_eq(x:select(1, -1):item(), x[5], "negative counts from the end")
  check_eq(x:select(1, 2).grad_fn, "SelectBackward0")
  expect_error(function() return x:select(1, 6) end, "select: index 6 is out of range for dim 1 of size 5")
  expect_error(function() return x:select(2, 1) end, "dim")
  expect_error(function() return tensor.new(3):select(1, 1) end, "select: cannot select from a 0-d tensor")
end)

test("masked_select: values in row-major order, broadcasting, gradient", function()
  local x = tensor.new{{1, 2, 3}, {4, 5, 6}}
  check_close(x:masked_select(x:gt(2)), {3, 4, 5, 6}, 0)
  check_close(x:masked_select(tensor.new{1, 0, 1}), {1, 3, 4, 6}, 0, "mask broadcast over rows")
  check_close(tensor.new{1, 2}:masked_select(tensor.new{{1, 0}, {0, 1}}), {1, 2}, 0, "x broadcast")
  check_eq(x:masked_select(tensor.zeros(2, 3)):numel(), 0)
  expect_error(function() return x:masked_select(tensor.zeros(4)) end, "masked_select: shapes [2, 3] and [4]")
  local m = tensor.new{{1, 0, 1, 1}, {0, 1, 1, 0}, {1, 1, 0, 0}}
  gradcheck(function(a) return a[1]:masked_select(m) end, {R(4, 3, 4)}, {what = "masked_select"})
  gradcheck(function(a) return a[1]:masked_select(tensor.new{0, 1, 1, 0}) end, {R(5, 3, 4)},
            {what = "masked_select broadcast mask"})
end)

test("slice: ranges, steps, negatives, selects; a view with the gradient", function()
  local x = tensor.arange(12):view(3, 4)
  check_close(x:slice{{1, 3, 2}, {}}, {{1, 2, 3, 4}, {9, 10, 11, 12}}, 0, "rows 1 and 3")
  check_close(x:slice{{}, {2, -1}}, {{2, 3, 4}, {6, 7, 8}, {10, 11, 12}}, 0, "{} is the whole dim")
  check_close(x:slice{2}, {5, 6, 7, 8}, 0, "a number selects and drops the dim")
  check_close(x:slice{{-2, -1}, 3}, {7, 11}, 0, "negatives from the end")
  check_eq(x:slice{{3, 1}}:numel(), 0, "first past last: empty")
  local y = tensor.zeros(3, 4)
  y:slice{{}, {1, 4, 3}}:fill_(7)
  check_close(y:sum(2), {14, 14, 14}, 0, "writes go through the view")
  check_eq(x:slice{{1, 3, 2}, {2, 4, 2}}:requires_grad_(false).shape[2], 2)
  gradcheck(function(a) return a[1]:slice{{1, 3, 2}, {2, 4, 2}} end, {R(6, 3, 4)}, {what = "slice with steps"})
  gradcheck(function(a) return a[1]:slice{{}, -1} end, {R(7, 3, 4)}, {what = "slice select"})
  gradcheck(function(a) return a[1]:slice{{2, 2}, {}, {1, 5, 4}} end, {R(8, 2, 3, 5)}, {what = "slice 3-d"})
  check_eq(R(9, 3, 4):slice{{1, 3, 2}}.grad_fn, "SliceBackward0")
  expect_error(function() return x:slice{{0, 2}} end, "slice: entry 1: {0, 2} is out of range for a dim of size 3")
  expect_error(function() return x:slice{{1, 2, 0}} end, "slice: entry 1: step 0 must be >= 1")
  expect_error(function() return x:slice{1, 2, 3} end, "slice: 3 entries for a tensor of shape [3, 4]")
  expect_error(function() return x:slice{"a"} end, "slice: entry 1 must be a table or a whole number, got string")
  expect_error(function() return x:slice{{1}} end, "slice: entry 1 must be {} or {first, last [, step]}")
end)

test("grad narrow", function()
  gradcheck(function(a) return a[1]:narrow(1, 2, 2) end, {R(1, 3, 4)}, {what = "narrow(1, 2, 2)"})
  gradcheck(function(a) return a[1]:narrow(2, 2, 2) end, {R(1, 3, 4)}, {what = "narrow(2, 2, 2)"})
  gradcheck(function(a) return a[1]:narrow(2, 1, 2) * a[1]:narrow(2, 3, 2) end, {R(1, 3, 4)},
            {what = "two narrows of one tensor"})
  local x = R(1, 3, 4)
  x:narrow(2, 2, 2):sum():backward()
  check_close(x.grad, {{0, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}}, 0, "narrow gradient is zero outside")
end)

test("grad expand", function()
  gradcheck(function(a) return a[1]:expand(3, 4) end, {R(1, 4)}, {what = "[4]:expand(3, 4)"})
  gradcheck(function(a) return a[1]:expand(3, 4) end, {R(1, 3, 1)}, {what = "[3,1]:expand(3, 4)"})
  gradcheck(function(a) return a[1]:expand(2, 3, 4) * a[2] end, {R(1, 1, 4), R(2, 2, 3, 4)}, {what = "[1,4]:expand(2,3,4) * y"})
end)

test("grad x[i]", function()
  gradcheck(function(a) return a[1][2] end, {R(1, 3, 4)}, {what = "x[2]"})
  gradcheck(function(a) return a[1][1] * a[1][3] end, {R(1, 3, 4)}, {what = "x[1] * x[3]"})
  gradcheck(function(a) return a[1][2][3] end, {R(1, 2, 3, 4)}, {what = "x[2][3]"})
  local x = R(1, 3, 4)
  x[3]:sum():backward()
  check_close(x.grad, {{0, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 1}}, 0, "x[3] gradient")
end)

test("grad contiguous", function()
  gradcheck(function(a) return a[1]:t():contiguous() end, {R(1, 3, 4)}, {what = "t():contiguous()"})
  gradcheck(function(a) return a[1]:contiguous() end, {R(1, 3, 4)}, {what = "contiguous() of contiguous"})
end)

test("grad clone", function()
  gradcheck(function(a) return a[1]:clone() end, {R(1, 3, 4)}, {what = "clone()"})
  gradcheck(function(a) return a[1]:clone() * a[1] end, {R(1, 3, 4)}, {what = "clone() * x"})
end)

---------------------------------------------------------------------------------------
-- indexing
---------------------------------------------------------------------------------------

test("grad index_select", function()
  gradcheck(function(a) return a[1]:index_select(1, tensor.new{3, 1}) end, {R(1, 3, 4)}, {what = "index_select(1, {3, 1})"})
  gradcheck(function(a) return a[1]:index_select(2, tensor.new{2, 4, 2, 2}) end, {R(1, 3, 4)},
            {what = "index_select(2) with repeats"})
  gradcheck(function(a) return a[1]:index_select(1, tensor.new{5, 1, 5}) end, {R(1, 5)}, {what = "1-d index_select"})
  local x = R(1, 3, 4)
  x:index_select(1, tensor.new{2, 2, 3}):sum():backward()
  check_close(x.grad, {{0, 0, 0, 0}, {2, 2, 2, 2}, {1, 1, 1, 1}}, 0, "repeated indices accumulate")
end)

test("grad gather", function()
  local idx2 = tensor.new{{1, 4}, {3, 3}, {2, 1}}
  gradcheck(function(a) return a[1]:gather(2, idx2) end, {R(1, 3, 4)}, {what = "gather(2)"})
  local idx1 = tensor.new{{3, 1, 2, 3}, {3, 3, 1, 2}}
  gradcheck(function(a) return a[1]:gather(1, idx1) end, {R(1, 3, 4)}, {what = "gather(1)"})
  local x = R(1, 3, 4)
  x:gather(2, idx2):sum():backward()
  check_close(x.grad, {{1, 0, 0, 1}, {0, 0, 2, 0}, {1, 1, 0, 0}}, 0, "gather scatters back, accumulating")
end)

test("grad masked_fill", function()
  local mask = tensor.new{{1, 0, 0, 1}, {0, 0, 1, 0}, {1, 1, 1, 1}}
  gradcheck(function(a) return a[1]:masked_fill(mask, 5) end, {R(1, 3, 4)}, {what = "masked_fill"})
  gradcheck(function(a) return a[1]:masked_fill(tensor.new{0, 1, 0, 1}, -2) end, {R(1, 3, 4)}, {what = "masked_fill broadcast mask"})
  local x = R(1, 3, 4)
  x:masked_fill(mask, 5):sum():backward()
  check_close(x.grad, tensor.new{{0, 1, 1, 0}, {1, 1, 0, 1}, {0, 0, 0, 0}}, 0, "masked positions get no gradient")
end)

---------------------------------------------------------------------------------------
-- cat, stack
---------------------------------------------------------------------------------------

test("grad tensor.cat", function()
  gradcheck(function(a) return tensor.cat({a[1], a[2]}, 1) end, {R(1, 2, 4), R(2, 3, 4)}, {what = "cat dim 1"})
  gradcheck(function(a) return tensor.cat({a[1], a[2], a[3]}, 2) end, {R(1, 3, 1), R(2, 3, 4), R(3, 3, 2)}, {what = "cat dim 2"})
  gradcheck(function(a) return tensor.cat({a[1], a[1]}, 1) end, {R(1, 2, 3)}, {what = "cat of one tensor twice"})
  local c = tensor.randn(2, 4, tensor.Generator(8))
  gradcheck(function(a) return tensor.cat({c, a[1]}, 1) end, {R(1, 3, 4)}, {what = "cat with a constant"})
end)

test("grad tensor.stack", function()
  for d = 1, 3 do
    gradcheck(function(a) return tensor.stack({a[1], a[2]}, d) end, {R(1, 3, 4), R(2, 3, 4)}, {what = "stack dim " .. d})
  end
  local c = tensor.randn(3, tensor.Generator(8))
  gradcheck(function(a) return tensor.stack({a[1], c, a[1]}, 1) end, {R(1, 3)}, {what = "stack with a constant and a repeat"})
end)

---------------------------------------------------------------------------------------
-- chains
---------------------------------------------------------------------------------------

test("grad chain: 2-layer MLP with log_softmax gathered at targets", function()
  local targets = tensor.new{{2}, {3}, {1}, {3}, {2}}
  gradcheck(function(a)
    local x, w1, b1, w2 = a[1], a[2], a[3], a[4]
    local logp = x:matmul(w1):add(b1):relu():matmul(w2):log_softmax(2)
    return -logp:gather(2, targets):sum()
  end, {R(1, 5, 4), R(2, 4, 6), R(3, 6), R(4, 6, 3)}, {eps = 2e-3, what = "MLP"})
end)

test("grad chain: diamond and reused intermediates", function()
  gradcheck(function(a)
    local y = a[1] * 2 + a[2]
    return y * y + y:exp() - y:tanh():mean(1)
  end, {R(1, 3, 4), R(2, 4)}, {what = "diamond"})
  gradcheck(function(a)
    local x = a[1]
    local s = x:softmax(2)
    return (s * x:log_softmax(2)):sum(2) + x:sigmoid():std(2) + x:var(1):sum()
  end, {R(1, 3, 4)}, {what = "entropy-like"})
end)

test("grad chain: mse-like loss of a linear model", function()
  local x = tensor.randn(6, 3, tensor.Generator(11))
  local y = tensor.randn(6, 1, tensor.Generator(12))
  gradcheck(function(a) return ((x:matmul(a[1]) + a[2] - y) ^ 2):mean() end, {R(1, 3, 1), R(2, 1)}, {what = "mse"})
end)

test("gradient of a long chain (20,000 ops) without stack overflow", function()
  local x = leaf(tensor.new{1, 2})
  local y = x
  for _ = 1, 20000 do y = y * 1 + 0 end
  y:sum():backward()
  check_close(x.grad, {1, 1}, 0, "grad through 40,000 nodes")
end)

---------------------------------------------------------------------------------------
-- semantics
---------------------------------------------------------------------------------------

test("requires_grad defaults, setter, requires_grad_", function()
  local x = tensor.randn(3)
  check_eq(x.requires_grad, false, "fresh tensor")
  x.requires_grad = true
  check_eq(x.requires_grad, true, "after = true")
  x.requires_grad = false
  check_eq(x.requires_grad, false, "after = false")
  local r = x:requires_grad_()
  check_eq(rawequal(r, x), true, "requires_grad_ returns x itself")
  check_eq(x.requires_grad, true, "after requires_grad_()")
  x:requires_grad_(false)
  check_eq(x.requires_grad, false, "after requires_grad_(false)")
  x:requires_grad_(true)
  check_eq(x.requires_grad, true, "after requires_grad_(true)")
  check_eq(x.grad, nil, "no .grad before any backward")
  check_eq(x.grad_fn, nil, "leaf grad_fn")
end)

test("results record: requires_grad and grad_fn", function()
  local x = R(1, 2, 3)
  local c = tensor.randn(2, 3)
  local y = x * c
  check_eq(y.requires_grad, true, "x * constant requires grad")
  check_eq(y.grad_fn, "MulBackward0", "grad_fn of x * c")
  check_eq((c * c).requires_grad, false, "constant * constant")
  check_eq((c * c).grad_fn, nil, "constant * constant grad_fn")
  local ops = {
    add = x + c, sub = x - 1, div = x / 2, pow = x ^ 2, neg = -x, exp = x:exp(),
    sum = x:sum(), mean = x:mean(1), matmul = x:matmul(c:t()), view = x:view(6), t = x:t(),
    relu = x:relu(), softmax = x:softmax(2), index_select = x:index_select(1, tensor.new{1}),
    cat = tensor.cat({x, c}, 1), clone = x:clone(), sel = x[1], narrow = x:narrow(2, 1, 1),
    expand = x:unsqueeze(1):expand(2, 2, 3), gather = x:gather(2, tensor.new{{1}, {2}}),
    masked_fill = x:masked_fill(tensor.new{1, 0, 1}, 0), sigmoid = x:sigmoid(), tanh = x:tanh(),
  }
  for name, r in pairs(ops) do
    check_eq(r.requires_grad, true, name .. " requires_grad")
    check_eq(type(r.grad_fn), "string", name .. " grad_fn type")
    assert(r.grad_fn:find("Backward", 1, true), name .. ": grad_fn " .. tostring(r.grad_fn) .. " is not a *Backward name")
  end
  assert(ops.add.grad_fn:find("Add", 1, true), "add grad_fn " .. ops.add.grad_fn)
  assert(ops.sum.grad_fn:find("Sum", 1, true), "sum grad_fn " .. ops.sum.grad_fn)
  assert(ops.exp.grad_fn:find("Exp", 1, true), "exp grad_fn " .. ops.exp.grad_fn)
  assert(ops.div.grad_fn:find("Div", 1, true), "div grad_fn " .. ops.div.grad_fn)
end)

test("backward: 1-element implicit, explicit grad, on a leaf", function()
  local x = leaf(tensor.new{1, 2, 3})
  ;(x * x):sum():backward()
  check_close(x.grad, {2, 4, 6}, 0, "d sum(x^2)")
  local y = leaf(tensor.new{1, 2, 3})
  ;(y * 2):backward(tensor.new{1, 10, 100})
  check_close(y.grad, {2, 20, 200}, 0, "explicit grad")
  local z = leaf(tensor.new{4})
  ;(z * 3):backward()                             -- a 1-element 1-d tensor: implicit ones
  check_close(z.grad, {3}, 0, "1-element [1] output")
  local u = leaf(tensor.new{1, 2})
  u:backward(tensor.new{5, 6})
  check_close(u.grad, {5, 6}, 0, "backward on a leaf")
end)

test("backward argument errors", function()
  local x = R(1, 2, 3)
  local y = x * 2
  expect_error(function() y:backward() end)                     -- not one element
  expect_error(function() y:backward(tensor.ones(3, 2)) end)    -- wrong shape
  expect_error(function() y:backward(tensor.ones(6)) end)       -- wrong shape, same numel
  expect_error(function() y:backward(5) end)                    -- not a tensor
  check_eq(x.grad, nil, "failed backward left .grad alone")
  y:backward(tensor.ones(2, 3))                                 -- the graph is still usable
  check_close(x.grad, tensor.full({2, 3}, 2), 0, "after the failed attempts")
end)

test("backward on a tensor that does not require grad", function()
  expect_error(function() tensor.randn(3):sum():backward() end, "does not require grad")
  expect_error(function() tensor.new(2):backward() end, "does not require grad")
  local x = R(1, 3)
  local d = tensor.no_grad(function() return (x * 2):sum() end)
  expect_error(function() d:backward() end, "does not require grad")
end)

test("accumulation over two backward calls; zero_ and = nil reset", function()
  local x = leaf(tensor.new{1, 2, 3})
  local function run() (x * x * 0.5):sum():backward() end
  run()
  check_close(x.grad, {1, 2, 3}, 0, "first")
  run()
  check_close(x.grad, {2, 4, 6}, 0, "accumulated")
  x.grad:zero_()
  check_close(x.grad, {0, 0, 0}, 0, "zeroed")
  run()
  check_close(x.grad, {1, 2, 3}, 0, "after zero_")
  x.grad = nil
  check_eq(x.grad, nil, "after = nil")
  run()
  check_close(x.grad, {1, 2, 3}, 0, "after = nil and backward")
end)

test("a leaf used twice in one graph sums both paths", function()
  local x = leaf(tensor.new{1, 2, 3})
  local y = leaf(tensor.new{4, 5, 6})
  ;(x * y + x:exp() + x * 3):sum():backward()
  check_close(x.grad, {4 + math.exp(1) + 3, 5 + math.exp(2) + 3, 6 + math.exp(3) + 3}, 1e-4, "x")
  check_close(y.grad, {1, 2, 3}, 0, "y")
end)

test("assigning .grad", function()
  local x = leaf(tensor.new{1, 2, 3})
  x.grad = tensor.new{10, 20, 30}
  check_close(x.grad, {10, 20, 30}, 0, "assigned")
  ;(x * 2):sum():backward()
  check_close(x.grad, {12, 22, 32}, 0, "backward adds to an assigned .grad")
  expect_error(function() x.grad = tensor.zeros(4) end)
  expect_error(function() x.grad = tensor.zeros(3, 1) end)
  expect_error(function() x.grad = tensor.zeros(1, 3) end)
  expect_error(function() x.grad = 5 end)
  expect_error(function() x.grad = "a" end)
  check_close(x.grad, {12, 22, 32}, 0, "unchanged by failed assignments")
end)

test("gradients of the leaves only; non-leaf .grad is nil; .grad has no history", function()
  local x = R(1, 3)
  local c = tensor.randn(3)
  local y = x * 2
  local z = (y * c):sum()
  z:backward()
  check_eq(y.grad, nil, "non-leaf .grad")
  check_eq(c.grad, nil, "constant .grad")
  check_eq(x.grad.requires_grad, false, ".grad requires grad")
  check_eq(x.grad.grad_fn, nil, ".grad grad_fn")
  check_close(x.grad, c * 2, 1e-6, "x.grad")
  local unused = R(2, 3)
  ;(x * 1):sum():backward()
  check_eq(unused.grad, nil, "a leaf outside the graph")
end)

test("detach stops gradients", function()
  local x = leaf(tensor.new{1, 2, 3})
  local d = x:detach()
  check_eq(d.requires_grad, false, "detach requires_grad")
  check_eq(d.grad_fn, nil, "detach grad_fn")
  check_close(d, {1, 2, 3}, 0, "detach values")
  ;(x * d):sum():backward()
  check_close(x.grad, {1, 2, 3}, 0, "only the non-detached path")
  local y = x * 2
  local yd = y:detach()
  check_eq(yd.requires_grad, false, "detached non-leaf")
  check_eq(yd.grad_fn, nil, "detached non-leaf grad_fn")
  yd:requires_grad_()                               -- a detached tensor is a leaf
  ;(yd * 3):sum():backward()
  check_close(yd.grad, {3, 3, 3}, 0, "gradient stops at the detached leaf")
  check_close(x.grad, {1, 2, 3}, 0, "x untouched by the detached graph")
end)

test("no_grad: nothing recorded, results returned, mode restored (also after an error)", function()
  local x = R(1, 3)
  local a, b = tensor.no_grad(function() return x * 2, 7 end)
  check_eq(a.requires_grad, false, "no_grad result requires_grad")
  check_eq(a.grad_fn, nil, "no_grad result grad_fn")
  check_eq(b, 7, "second result")
  local nested = tensor.no_grad(function()
    local inner = tensor.no_grad(function() return x + 1 end)
    return inner + x
  end)
  check_eq(nested.requires_grad, false, "nested no_grad")
  check_eq((x * 2).requires_grad, true, "recording resumes after no_grad")
  local ok, err = pcall(tensor.no_grad, function() error("boom") end)
  check_eq(ok, false, "error propagates")
  assert(tostring(err):find("boom", 1, true), "error message kept: " .. tostring(err))
  check_eq((x * 2).requires_grad, true, "recording resumes after an error inside no_grad")
  check_eq((x * 2).grad_fn, "MulBackward0", "grad_fn after an error inside no_grad")
  -- a no_grad result is a leaf
  local n = tensor.no_grad(function() return x * 2 end)
  n.requires_grad = true
  ;(n * n):sum():backward()
  check_eq(x.grad, nil, "no gradient reaches x through a no_grad result")
  check_close(n.grad, values(n * 2), 1e-6, "n.grad")
end)

test("a second backward through the same graph errors; retain_graph allows it", function()
  local x = leaf(tensor.new{1, 2})
  local y = (x * x):sum()
  y:backward()
  expect_error(function() y:backward() end, "graph")
  check_close(x.grad, {2, 4}, 0, "after the refused second pass")
  local x2 = leaf(tensor.new{1, 2})
  local y2 = (x2:exp() * x2):sum()
  y2:backward(tensor.new(1), {retain_graph = true})
  y2:backward(tensor.new(1), {retain_graph = true})
  y2:backward(tensor.new(1))
  local e1, e2 = math.exp(1), math.exp(2)
  check_close(x2.grad, {3 * (e1 + e1), 3 * (2 * e2 + e2)}, 1e-4, "three passes accumulate")
  expect_error(function() y2:backward(tensor.new(1)) end, "graph")
end)

test("a shared sub-graph freed by one backward is refused by another", function()
  local x = leaf(tensor.new{1, 2})
  local h = x:exp()
  local a = (h * 2):sum()
  local b = (h * 3):sum()
  a:backward()
  expect_error(function() b:backward() end, "graph")
end)

test("backward(nil, {retain_graph = true}) for a scalar; unknown option named", function()
  local x = leaf(tensor.new{1, 2})
  local y = (x * x):sum()
  y:backward(nil, {retain_graph = true})
  y:backward()
  check_close(x.grad, {4, 8}, 0, "two passes")
  local z = (x * x):sum()
  expect_error(function() z:backward(tensor.new(1), {retain = true}) end, "retain")
end)

test("in-place ops on a leaf that requires grad raise 'in place'", function()
  local x = leaf(tensor.new{1, 2, 3})
  expect_error(function() x:add_(1) end, "in place")
  expect_error(function() x:add_(x, 2) end, "in place")
  expect_error(function() x:mul_(2) end, "in place")
  expect_error(function() x:fill_(0) end, "in place")
  expect_error(function() x:zero_() end, "in place")
  expect_error(function() x:copy_(tensor.new{4, 5, 6}) end, "in place")
  expect_error(function() x:clamp_(0, 1) end, "in place")
  expect_error(function() x:uniform_(0, 1) end, "in place")
  expect_error(function() x:normal_(0, 1) end, "in place")
  expect_error(function() x[2] = 7 end, "in place")
  check_close(x, {1, 2, 3}, 0, "x unchanged by the refused writes")
  local m = leaf(tensor.new{{1, 2}, {3, 4}})
  expect_error(function() m[1] = 0 end, "in place")
  expect_error(function() m[1] = tensor.new{8, 9} end, "in place")
  check_close(m, {{1, 2}, {3, 4}}, 0, "m unchanged")
end)

test("in-place ops through a view of a leaf that requires grad are refused", function()
  local x = leaf(tensor.new{{1, 2}, {3, 4}})
  expect_error(function() x:view(4):fill_(0) end, "in place")
  expect_error(function() x[1]:fill_(0) end, "in place")
  expect_error(function() x:t():add_(1) end, "in place")
  check_close(x, {{1, 2}, {3, 4}}, 0, "x unchanged")
end)

test("in-place ops on leaves are allowed inside no_grad", function()
  local x = leaf(tensor.new{1, 2, 3})
  tensor.no_grad(function()
    x:add_(1)
    x:mul_(2)
    x[1] = 0
  end)
  check_close(x, {0, 6, 8}, 0, "modified under no_grad")
  check_eq(x.requires_grad, true, "still requires grad")
  check_eq(x.grad_fn, nil, "still a leaf")
  ;(x * x):sum():backward()
  check_close(x.grad, {0, 12, 16}, 0, "gradient at the new values")
  -- the usual SGD step
  tensor.no_grad(function() x:add_(x.grad, -0.5) end)
  check_close(x, {0, 0, 0}, 0, "after an SGD step")
  x.grad:zero_()
  tensor.no_grad(function() x:copy_(tensor.new{1, 1, 1}); x:uniform_(0, 1); x:normal_(0, 1); x:fill_(2); x:zero_(); x:clamp_(0, 1) end)
  check_close(x, {0, 0, 0}, 0, "other in-place ops under no_grad")
end)

test("in-place ops on tensors that do not require grad are allowed with grad on", function()
  local c = tensor.new{1, 2, 3}
  c:add_(1)
  c[1] = 5
  check_close(c, {5, 3, 4}, 0, "c")
end)

test("modifying in place a tensor a graph saved, then backward, raises 'modified in place'", function()
  -- a saved input that does not require grad
  local w = leaf(tensor.new{1, 2, 3})
  local a = tensor.new{4, 5, 6}
  local out = (a * w):sum()
  a:mul_(2)
  expect_error(function() out:backward() end, "modified in place")
  -- a saved leaf modified under no_grad
  local x = leaf(tensor.new{1, 2, 3})
  local out2 = (x * x):sum()
  tensor.no_grad(function() x:add_(1) end)
  expect_error(function() out2:backward() end, "modified in place")
  -- a saved output (exp keeps its result) modified under no_grad
  local z = leaf(tensor.new{0.1, 0.2})
  local e = z:exp()
  local out3 = e:sum()
  tensor.no_grad(function() e:fill_(0) end)
  expect_error(function() out3:backward() end, "modified in place")
  -- through a view of the saved tensor
  local b = tensor.new{{1, 2}, {3, 4}}
  local v = leaf(tensor.new{{1, 1}, {1, 1}})
  local out4 = (v * b):sum()
  b[2][1] = 9
  expect_error(function() out4:backward() end, "modified in place")
end)

test("modifying in place a tensor the graph does not read is fine", function()
  local x = leaf(tensor.new{1, 2, 3})
  local c = tensor.new{1, 1, 1}
  local out = (x + c):sum()
  c:add_(5)
  out:backward()
  check_close(x.grad, {1, 1, 1}, 0, "add does not read its inputs in backward")
end)

-- Every op recorded through the fused path (layers and losses in C) checks what
-- its backward reads: each input it reads, changed in place under no_grad after
-- the forward pass, makes backward() fail; an input it does not read may change.
local F = nn.functional
local function r(...) return tensor.randn(...) end
local fused = {
  {"linear", function(a, b, c) return F.linear(a, b, c) end, function() return r(3, 4), r(2, 4), r(2) end, {1, 2}, {3}},
  {"linear without bias", function(a, b) return F.linear(a, b) end, function() return r(3, 4), r(2, 4) end, {1, 2}, {}},
  {"leaky_relu", function(a) return F.leaky_relu(a, 0.1) end, function() return r(5) end, {1}, {}},
  {"gelu", function(a) return F.gelu(a) end, function() return r(5) end, {1}, {}},
  {"gelu tanh", function(a) return F.gelu(a, {approximate = "tanh"}) end, function() return r(5) end, {1}, {}},
  {"dropout", function(a) return F.dropout(a, 0.5, true) end, function() return r(50) end, {}, {1}},
  {"batch_norm", function(a, w, b) return F.batch_norm(a, nil, nil, w, b, true, 0.1, 1e-5) end,
   function() return r(4, 3), r(3), r(3) end, {1, 2}, {3}},
  {"cross_entropy", function(a) return F.cross_entropy(a, tensor.new{1, 3}) end, function() return r(2, 3) end, {1}, {}},
  {"cross_entropy probabilities", function(a, p) return F.cross_entropy(a, p) end,
   function() return r(2, 3), r(2, 3):softmax(2) end, {1, 2}, {}},
  {"nll_loss", function(a) return F.nll_loss(a, tensor.new{2, 1}) end, function() return r(2, 3) end, {1}, {}},  -- saved, as PyTorch saves it
  {"mse_loss", function(a, b) return F.mse_loss(a, b) end, function() return r(4), r(4) end, {1, 2}, {}},
  {"l1_loss", function(a, b) return F.l1_loss(a, b) end, function() return r(4), r(4) end, {1, 2}, {}},
  {"binary_cross_entropy", function(a, b) return F.binary_cross_entropy(a, b) end,
   function() return r(4):sigmoid(), r(4):sigmoid() end, {1, 2}, {}},
  {"binary_cross_entropy_with_logits", function(a, b) return F.binary_cross_entropy_with_logits(a, b) end,
   function() return r(4), r(4):sigmoid() end, {1, 2}, {}},
  {"huber_loss", function(a, b) return F.huber_loss(a, b) end, function() return r(4), r(4) end, {1, 2}, {}},
}

for _, case in ipairs(fused) do
  local name, op, make, read, unread = table.unpack(case)
  local function run(changed)
    tensor.manual_seed(7)
    local ins = {make()}
    for _, t in ipairs(ins) do t:requires_grad_() end
    local out = op(table.unpack(ins)):sum()
    tensor.no_grad(function() ins[changed]:mul_(3) end)
    return out, ins
  end
  for _, i in ipairs(read) do
    test("fused " .. name .. ": input " .. i .. ", which backward reads, changed in place fails backward", function()
      local out = run(i)
      local err = expect_error(function() out:backward() end, "input " .. i .. " of ")
      assert(err:find("modified in place", 1, true), err)
    end)
  end
  for _, i in ipairs(unread) do
    test("fused " .. name .. ": input " .. i .. ", which backward does not read, may change", function()
      local out, ins = run(i)
      out:backward()
      assert(ins[i].grad ~= nil)
    end)
  end
end

test("an optimizer step between forward and backward fails backward (every layer of an MLP)", function()
  for _, make in ipairs {function(ps) return optim.SGD(ps, {lr = 0.1}) end,
                         function(ps) return optim.RMSprop(ps) end} do
    tensor.manual_seed(1)
    local model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 3))
    local opt = make(model:parameters())
    local x, y = tensor.randn(5, 4), tensor.new{1, 2, 3, 1, 2}
    nn.CrossEntropyLoss()(model(x), y):backward()   -- every parameter has a grad
    local loss = nn.CrossEntropyLoss()(model(x), y)
    opt:step()
    expect_error(function() loss:backward() end, "was modified in place")
  end
end)

test("the lin(x) example of the issue: the weight scaled under no_grad fails backward", function()
  local lin = nn.Linear(2, 2)
  local x = tensor.randn(1, 2):requires_grad_()
  local y = lin(x):sum()
  tensor.no_grad(function() lin.weight:mul_(10) end)
  expect_error(function() y:backward() end, "input 2 of AddmmBackward0 (shape [2, 2]) was modified in place")
end)

test("requires_grad cannot be set on a non-leaf", function()
  local x = R(1, 3)
  local y = x * 2
  expect_error(function() y.requires_grad = true end, "requires_grad")
  expect_error(function() y.requires_grad = false end, "requires_grad")
  expect_error(function() y:requires_grad_(false) end, "requires_grad")
  check_eq(y.requires_grad, true, "y still requires grad")
  -- a result of ops on tensors without grad is a leaf
  local c = tensor.randn(3) * 2
  c.requires_grad = true
  check_eq(c.requires_grad, true, "leaf from an op without grad")
end)

test("integer-valued index tensors stay out of the graph", function()
  local x = R(1, 3, 4)
  local idx = tensor.new{{1}, {2}, {3}}
  local y = x:gather(2, idx)
  check_eq(idx.requires_grad, false, "idx requires_grad")
  y:sum():backward()
  check_eq(idx.grad, nil, "idx.grad")
  local _, i = x:max(2)
  check_eq(i.requires_grad, false, "argmax indices")
  check_eq(x:argmax(2).requires_grad, false, "argmax")
  check_eq(x:gt(0).requires_grad, false, "comparison results")
end)

---------------------------------------------------------------------------------------
-- edge cases: PyTorch's conventions at kinks, layouts, 0-d and empty tensors
---------------------------------------------------------------------------------------

test("relu backward: the one-pass kernel equals grad * (x > 0), contiguous or not", function()
  local g = tensor.Generator(3)
  for _, shape in ipairs{{70000}, {64, 256}, {3, 5}} do
    local x = leaf(tensor.randn(shape, g))
    local up = tensor.randn(shape, g)
    x:relu():backward(up)
    local want = up * (x:detach():gt(0))
    check_eq(x.grad:equal(want), true, "relu grad of shape " .. table.concat(shape, "x"))
  end
  local x = leaf(tensor.randn({6, 4}, g))          -- the output seen through a transpose
  local up = tensor.randn({4, 6}, g)
  x:relu():t():backward(up)
  check_eq(x.grad:equal(up:t() * x:detach():gt(0)), true, "relu grad through a transposed view")
end)

test("gradients at kinks follow PyTorch", function()
  local x = leaf(tensor.new{-1, 0, 2})
  x:relu():sum():backward()
  check_close(x.grad, {0, 0, 1}, 0, "relu'(0) = 0")
  x.grad = nil
  x:abs():sum():backward()
  check_close(x.grad, {-1, 0, 1}, 0, "abs'(0) = 0")
  x.grad = nil
  x:clamp(-1, 2):sum():backward()
  check_close(x.grad, {1, 1, 1}, 0, "clamp passes the gradient at the bounds")
  x.grad = nil
  x:sign():sum():backward()
  check_close(x.grad, {0, 0, 0}, 0, "sign' = 0")
  x.grad = nil
  ;(x ^ 0):sum():backward()
  check_close(x.grad, {0, 0, 0}, 0, "d x^0 = 0 (also at 0)")
  x.grad = nil
  ;(x ^ 2):sum():backward()
  check_close(x.grad, {-2, 0, 4}, 0, "d x^2")
  local r = leaf(tensor.new{0, 4})
  r:sqrt():sum():backward()
  check_eq(r.grad[1], math.huge, "sqrt'(0)")
  check_close(r.grad[2], 0.25, 1e-7, "sqrt'(4)")
end)

test("max/min ties: full reduction splits evenly, dim reduction follows the index", function()
  local x = leaf(tensor.new{1, 3, 3, 2})
  x:max():backward()
  check_close(x.grad, {0, 0.5, 0.5, 0}, 0, "max() with a tie")
  local y = leaf(tensor.new{4, 1, 1, 1})
  y:min():backward()
  check_close(y.grad, {0, 1 / 3, 1 / 3, 1 / 3}, 1e-7, "min() with a three-way tie")
  local z = leaf(tensor.new{{1, 3, 3}, {5, 5, 0}})
  local v, i = z:max(2)
  v:sum():backward()
  local want = {{0, 0, 0}, {0, 0, 0}}
  for r = 1, 2 do want[r][i[r]] = 1 end
  check_close(z.grad, want, 0, "max(2) with ties goes to the returned index only")
end)

test("max(other)/min(other) ties split the gradient in half", function()
  local a = leaf(tensor.new{1, 2, 3})
  local b = leaf(tensor.new{3, 2, 1})
  a:max(b):sum():backward()
  check_close(a.grad, {0, 0.5, 1}, 0, "a")
  check_close(b.grad, {1, 0.5, 0}, 0, "b")
  local c = leaf(tensor.new{1, 2, 3})
  local d = leaf(tensor.new{3, 2, 1})
  c:min(d):sum():backward()
  check_close(c.grad, {1, 0.5, 0}, 0, "c")
  check_close(d.grad, {0, 0.5, 1}, 0, "d")
end)

test("softmax after masked_fill(-inf) and log_softmax of large values stay finite", function()
  local x = R(1, 2, 4)
  local mask = tensor.new{{0, 1, 0, 1}, {1, 0, 0, 0}}
  local w = tensor.randn(2, 4, tensor.Generator(5))
  local s = x:masked_fill(mask, -math.huge):softmax(2)
  ;(s * w):sum():backward()
  local g = values(x.grad)
  for k = 1, #g do assert(g[k] == g[k] and math.abs(g[k]) < math.huge, "non-finite gradient " .. g[k]) end
  check_close(x.grad * mask, tensor.zeros(2, 4), 0, "no gradient at masked positions")
  local y = leaf(tensor.new{1000, 0, -1000})
  y:log_softmax(1):narrow(1, 2, 1):backward()   -- d logp2 / dy = onehot(2) - softmax(y) = {-1, 1, 0}
  check_close(y.grad, {-1, 1, 0}, 1e-6, "log_softmax gradient at extreme values")
end)

test("0-d leaves and empty tensors", function()
  local x = leaf(tensor.new(3))
  ;(x * x):backward()
  check_eq(x.grad:dim(), 0, "0-d grad")
  check_close(x.grad, 6, 0, "0-d grad value")
  gradcheck(function(a) return tensor.stack({a[1], a[2] * a[1]}, 1) end, {R(1), R(2)}, {what = "stack of 0-d"})
  gradcheck(function(a) return a[1]:unsqueeze(1) * a[2] end, {R(1), R(2, 3)}, {what = "0-d unsqueeze"})
  local e = leaf(tensor.zeros(0, 3))
  e:sum():backward()
  check_eq(shape_str(e.grad), "[0, 3]", "empty grad shape")
  local f = leaf(tensor.zeros(0, 3))
  local out = (f:sum(1) + 1):sum()                  -- [3] of zeros + 1
  out:backward()
  check_eq(shape_str(f.grad), "[0, 3]", "empty grad shape after sum(1)")
end)

test("non-contiguous leaves get gradients of their shape", function()
  local xt = leaf(tensor.randn(4, 3, tensor.Generator(1)):t())       -- [3, 4], strides transposed
  gradcheck(function(a) return a[1]:exp() * a[1] end, {xt}, {what = "transposed leaf"})
  local xe = leaf(tensor.randn(4, tensor.Generator(2)):expand(3, 4)) -- stride 0
  local w = tensor.randn(3, 4, tensor.Generator(3))
  ;(xe * w):sum():backward()
  check_close(xe.grad, w, 1e-6, "expanded leaf: one gradient per (aliased) element, as in PyTorch")
  local xn = leaf(tensor.randn(3, 5, tensor.Generator(4)):narrow(2, 2, 3))
  gradcheck(function(a) return a[1]:sigmoid() end, {xn}, {what = "narrowed leaf"})
end)

test("backward with a non-contiguous or expanded gradient argument", function()
  local x = leaf(tensor.new{{1, 2, 3}, {4, 5, 6}})
  local y = x * 2
  y:backward(tensor.new{{1, 2}, {3, 4}, {5, 6}}:t(), {retain_graph = true})
  check_close(x.grad, {{2, 6, 10}, {4, 8, 12}}, 0, "transposed grad")
  x.grad = nil
  y:backward(tensor.new{1, 2, 3}:expand(2, 3))
  check_close(x.grad, {{2, 4, 6}, {2, 4, 6}}, 0, "expanded grad")
end)

test("accumulating into an assigned non-contiguous or expanded .grad", function()
  local c = tensor.new{{1, 1, 1}, {10, 10, 10}}
  local x = leaf(tensor.zeros(2, 3))
  x.grad = tensor.new{{1, 4}, {2, 5}, {3, 6}}:t()
  ;(x * c):sum():backward()
  check_close(x.grad, {{2, 3, 4}, {14, 15, 16}}, 0, "transposed .grad")
  -- an expanded .grad has aliased elements: PyTorch refuses the in-place accumulation
  -- ("more than one element of the written-to tensor refers to a single memory location");
  -- an error or the right values are fine, silently wrong values are not
  local y = leaf(tensor.zeros(2, 3))
  y.grad = tensor.new{1, 2, 3}:expand(2, 3)
  local ok = pcall(function() (y * c):sum():backward() end)
  if ok then check_close(y.grad, {{2, 3, 4}, {11, 12, 13}}, 0, "expanded .grad") end
end)

test("detach shares storage; a write through it is seen by backward", function()
  local x = leaf(tensor.new{1, 2, 3})
  local d = x:detach()
  d[1] = 5
  check_eq(x[1], 5, "x sees the write through detach")
  local out = (x * x):sum()
  x:detach():mul_(2)
  expect_error(function() out:backward() end, "modified in place")
end)

test("error messages name backward and the shapes", function()
  local x = R(1, 2, 3)
  local y = x * 2
  local e = expect_error(function() y:backward(tensor.ones(3, 2)) end, "backward")
  assert(e:find("[3, 2]", 1, true) and e:find("[2, 3]", 1, true), "both shapes in: " .. e)
  e = expect_error(function() x.grad = tensor.zeros(4) end, "[4]")
  assert(e:find("[2, 3]", 1, true), "both shapes in: " .. e)
  expect_error(function() y:backward() end, "backward")
end)

test("gradients of large tensors (multithreaded kernels) match closed forms", function()
  local g = tensor.Generator(21)
  local A = leaf(tensor.randn({96, 300}, g))
  local B = leaf(tensor.randn({300, 80}, g))
  local G = tensor.randn({96, 80}, g)
  ;(A:matmul(B) * G):sum():backward()
  check_close(A.grad, G:matmul(B:detach():t()), 1e-3, "matmul dA")
  check_close(B.grad, A:detach():t():matmul(G), 1e-3, "matmul dB")

  local x = leaf(tensor.randn({512, 1024}, g))
  local b = leaf(tensor.randn({1024}, g))
  local G2 = tensor.randn({512, 1024}, g)
  ;((x + b) * G2):sum():backward()
  check_close(x.grad, G2, 0, "broadcast add dx")
  check_close(b.grad, G2:sum(1), 1e-3, "broadcast add db (sum over 512 rows)")

  local z = leaf(tensor.randn({256, 1000}, g))
  local G3 = tensor.randn({256, 1000}, g)
  local s = z:softmax(2)
  ;(s * G3):sum():backward()
  local sd = s:detach()
  check_close(z.grad, sd * (G3 - (G3 * sd):sum(2, true)), 1e-5, "softmax over 1000 columns")

  local u = leaf(tensor.randn({200000}, g))
  local G4 = tensor.randn({200000}, g)
  ;(u:tanh() * G4):sum():backward()
  local th = u:detach():tanh()
  check_close(u.grad, G4 * (1 - th * th), 1e-5, "tanh over 200,000 elements")

  local m = leaf(tensor.randn({300, 700}, g))
  m:mean(1):sum():backward()
  check_close(m.grad, tensor.full({300, 700}, 1 / 300), 1e-8, "mean(1)")

  local q = leaf(tensor.randn({2000, 64}, g))
  local idx = tensor.randperm(2000, g):narrow(1, 1, 1500)
  local G5 = tensor.randn({3000, 64}, g)
  q:index_select(1, tensor.cat({idx, idx}, 1)):mul(G5):sum():backward()
  local want = tensor.zeros(2000, 64)
  tensor.no_grad(function()
    local iv = idx:totable()
    for k = 1, 1500 do want[iv[k]]:add_(G5[k]):add_(G5[k + 1500]) end
  end)
  check_close(q.grad, want, 1e-5, "index_select with every index twice")
end)

test("gradients are bit-identical whatever the number of threads", function()
  local before = tensor.get_num_threads()
  local function run(n)
    tensor.set_num_threads(n)
    local g = tensor.Generator(77)
    local x = tensor.randn({256, 512}, g)
    local w1 = leaf(tensor.randn({512, 384}, g) * 0.05)
    local b1 = leaf(tensor.randn({384}, g))
    local w2 = leaf(tensor.randn({384, 10}, g) * 0.05)
    local targets = tensor.new{{3}}:expand(256, 1):contiguous()
    local h = x:matmul(w1):add(b1):relu()
    local loss = -h:matmul(w2):log_softmax(2):gather(2, targets):mean() + h:var(1):sum() * 1e-3
    loss:backward()
    return w1.grad, b1.grad, w2.grad
  end
  local ok, err = pcall(function()
    local a1, a2, a3 = run(1)
    local b1, b2, b3 = run(4)
    check_eq(a1:equal(b1), true, "w1.grad 1 vs 4 threads")
    check_eq(a2:equal(b2), true, "b1.grad 1 vs 4 threads")
    check_eq(a3:equal(b3), true, "w2.grad 1 vs 4 threads")
  end)
  tensor.set_num_threads(before)
  if not ok then error(err, 0) end
end)

test("requires_grad can be set inside no_grad; no_grad results of it do not require grad", function()
  tensor.no_grad(function()
    local x = tensor.randn(3)
    x.requires_grad = true
    check_eq(x.requires_grad, true, "set inside no_grad")
    check_eq((x * 2).requires_grad, false, "result inside no_grad")
  end)
end)

test("ops on non-contiguous operands (transposed, narrowed, expanded views)", function()
  gradcheck(function(a) return a[1]:t():softmax(2) end, {R(1, 3, 4)}, {what = "t():softmax(2)"})
  gradcheck(function(a) return a[1]:t():log_softmax(1) end, {R(1, 3, 4)}, {what = "t():log_softmax(1)"})
  gradcheck(function(a) return a[1]:t():sum(1) end, {R(1, 3, 4)}, {what = "t():sum(1)"})
  gradcheck(function(a) return a[1]:t():var(2) end, {R(1, 3, 4)}, {what = "t():var(2)"})
  gradcheck(function(a) return (a[1]:t():max(2)) end, {R(1, 3, 4)}, {what = "t():max(2)"})
  gradcheck(function(a) return a[1]:t():index_select(2, tensor.new{3, 1, 3}) end, {R(1, 3, 4)}, {what = "t():index_select"})
  gradcheck(function(a) return a[1]:t():gather(1, tensor.new{{1, 2, 3}, {3, 3, 1}}) end, {R(1, 3, 4)}, {what = "t():gather"})
  gradcheck(function(a) return a[1]:t():masked_fill(tensor.new{1, 0, 1}, 0) end, {R(1, 3, 4)}, {what = "t():masked_fill"})
  gradcheck(function(a) return a[1]:narrow(2, 2, 3):exp() * a[2]:t() end, {R(1, 3, 5), R(2, 3, 3)}, {what = "narrow * t"})
  gradcheck(function(a) return a[1]:expand(3, 4):tanh() end, {R(1, 4)}, {what = "expand:tanh"})
  gradcheck(function(a) return tensor.cat({a[1]:t(), a[2]:narrow(1, 2, 2)}, 1) end, {R(1, 3, 4), R(2, 4, 3)}, {what = "cat of views"})
  gradcheck(function(a) return tensor.stack({a[1]:t(), a[2]}, 2) end, {R(1, 3, 4), R(2, 4, 3)}, {what = "stack of views"})
  gradcheck(function(a) return a[1]:permute(2, 1, 3):matmul(a[2]) end, {R(1, 3, 2, 4), R(2, 4, 2)}, {what = "permuted matmul"})
end)

test("the same leaf on both sides of an op", function()
  gradcheck(function(a) return a[1] / a[1] end, {away(1, 0.7, 3, 4)}, {what = "x / x"})
  gradcheck(function(a) return a[1]:sub(a[1], 2) end, {R(1, 3, 4)}, {what = "x:sub(x, 2)"})
  gradcheck(function(a) return a[1] ^ a[1] end, {U(1, 0.5, 2, 3, 4)}, {what = "x ^ x"})
  gradcheck(function(a) return a[1]:matmul(a[1]) end, {R(1, 3, 3)}, {what = "x @ x"})
  gradcheck(function(a) return a[1]:matmul(a[1]:t()) end, {R(1, 3, 4)}, {what = "x @ x:t()"})
  gradcheck(function(a) return a[1]:max(a[1]:t()) end, {R(1, 3, 3)}, {what = "max(x, x:t()) (diagonal: a tie with itself)"})
end)

test("backward inside no_grad works; intermediates dropped before backward are kept by the graph", function()
  local x = leaf(tensor.new{1, 2})
  local out = (x * x):sum()
  tensor.no_grad(function() out:backward() end)
  check_close(x.grad, {2, 4}, 0, "backward called inside no_grad")
  local y = leaf(tensor.new{0.5, 1})
  local h = y:exp()
  local out2 = (h * 2):sum()
  h = nil
  collectgarbage(); collectgarbage()
  out2:backward()
  check_close(y.grad, {2 * math.exp(0.5), 2 * math.exp(1)}, 1e-5, "after the intermediate was collected")
  local z = (leaf(tensor.new{1, 2}) * 3):sum()      -- the leaf itself is only held by the graph
  collectgarbage(); collectgarbage()
  z:backward()
end)

test("retain_graph on a shared sub-graph, then another root", function()
  local x = leaf(tensor.new{0.5, 1})
  local h = x:exp()
  local a = (h * 2):sum()
  local b = (h * 3):sum()
  a:backward(tensor.new(1), {retain_graph = true})
  b:backward()
  check_close(x.grad, {5 * math.exp(0.5), 5 * math.exp(1)}, 1e-5, "both roots")
end)

test(".grad modified in place between backward calls (gradient clipping)", function()
  local x = leaf(tensor.new{1, 2})
  ;(x * 4):sum():backward()
  x.grad:mul_(0.5)
  check_close(x.grad, {2, 2}, 0, "scaled")
  ;(x * 4):sum():backward()
  check_close(x.grad, {6, 6}, 0, "accumulated onto the scaled .grad")
end)

test("dropping a 200,000-op graph without backward does not crash (run in a child process)", function()
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
local x = tensor.new{1, 2}:requires_grad_()
local y = x
for _ = 1, 200000 do y = y * 1 end
y = nil
collectgarbage(); collectgarbage()
local z = x
for _ = 1, 200000 do z = z + 0 end
z:sum():backward()
z = nil
collectgarbage(); collectgarbage()
io.write("ok ", x.grad[1], "\n")
]])
  f:close()
  local exe = os.getenv("NNLUA") or arg[-1]
  local p = assert(io.popen(exe .. " " .. script .. " 2>&1; echo \"rc=$?\""))
  local text = p:read("a")
  p:close()
  os.remove(script)
  assert(text:find("ok 1.0", 1, true) or text:find("ok 1\n", 1, true),
         "child process output: " .. text)
end)

test("10,000 forward+backward steps keep RSS flat (no collectgarbage)", function()
  -- sized so that a leaked graph (~40 KB a step) or a leaked .grad (32 KB) would show
  local x = tensor.randn(32, 128, tensor.Generator(1))
  local w1 = R(2, 128, 64)
  local b1 = R(3, 64)
  local w2 = R(4, 64, 4)
  local t = {}
  for k = 1, 32 do t[k] = {(k - 1) % 4 + 1} end
  local targets = tensor.new(t)
  local function step(i)
    local logp = x:matmul(w1):add(b1):relu():matmul(w2):log_softmax(2)
    local loss = -logp:gather(2, targets):mean()
    if i % 5 == 0 then return end                   -- some graphs are dropped without backward
    loss:backward()
    if i % 2 == 0 then
      w1.grad = nil
      b1.grad:zero_()
    end
  end
  for i = 1, 1000 do step(i) end
  local rss0 = status_kb("VmRSS")
  for i = 1, 10000 do step(i) end
  local grown = (status_kb("VmRSS") - rss0) / 1024
  local limit = os.getenv("NNLUA_ASAN") == "1" and 320 or 64
  assert(grown < limit, string.format("RSS grew by %.1f MB over 10,000 steps", grown))
end)

test("a NaN or infinite loss stops backward with a clear error, unless allowed", function()
  -- a run that diverges: the error comes at the first non-finite loss, at the script's line
  local m = nn.Linear(2, 1)
  local opt = optim.SGD(m:parameters(), {lr = 1e30})
  local x, y = tensor.ones(4, 2) * 1e10, tensor.zeros(4, 1)
  local err, steps
  for step = 1, 10 do
    local loss = nn.MSELoss()(m(x), y)
    opt:zero_grad()
    local ok, e = pcall(function() loss:backward() end)
    if not ok then err, steps = e, step; break end
    opt:step()
  end
  assert(err, "the diverging run was not stopped")
  assert(err:find("backward: the loss is inf", 1, true) or err:find("backward: the loss is nan", 1, true), err)
  assert(err:find("test_autograd.lua:%d+:"), "points at the script: " .. err)
  check_eq(steps <= 3, true, "stopped at step " .. tostring(steps))
  for _, l in ipairs{0 / 0, math.huge, -math.huge} do
    local w = tensor.new{1}:requires_grad_()
    local loss = (w * l):sum()
    expect_error(function() loss:backward() end, "(loss:backward({allow_nonfinite = true}) runs it anyway)")
    check_eq(w.grad, nil, "no gradient after the refusal")
    loss:backward({allow_nonfinite = true})
    check_eq(w.grad[1] == l or (l ~= l and w.grad[1] ~= w.grad[1]), true, "allowed: d(w*l)/dw = l")
  end
  -- a finite loss with a NaN given as the gradient is the caller's choice: not checked
  local w = tensor.new{1}:requires_grad_()
  w:sum():backward(tensor.new(0 / 0))
  check_eq(w.grad[1] ~= w.grad[1], true, "explicit NaN grad")
  expect_error(function() w:sum():backward({allow_nonfinite = 1, retain = true}) end, "unknown option 'retain'")
end)
