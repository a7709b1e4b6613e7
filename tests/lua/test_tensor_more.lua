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

---------------------------------------------------------------------------------------
-- creation
---------------------------------------------------------------------------------------

test("zeros_like, ones_like, full_like, rand_like, randn_like: x's shape, no gradient", function()
  local x = R(1, 2, 3):t()                          -- a view that requires grad
  for _, y in ipairs{tensor.zeros_like(x), tensor.ones_like(x), tensor.full_like(x, 7), tensor.rand_like(x),
                     tensor.randn_like(x)} do
    check_eq(table.concat(y.shape, ","), "3,2")
    check_eq(y.requires_grad, false)
  end
  check_close(tensor.full_like(x, -2.5), tensor.full({3, 2}, -2.5), 0)
  check_eq(tensor.rand_like(x, tensor.Generator(5)):equal(tensor.rand(3, 2, tensor.Generator(5))), true,
           "rand_like draws as rand does")
  check_eq(tensor.randn_like(x, tensor.Generator(5)):equal(tensor.randn(3, 2, tensor.Generator(5))), true)
  check_eq(tensor.zeros_like(tensor.new(3)):dim(), 0, "0-d")
  expect_error(function() return tensor.zeros_like({2, 3}) end, "bad argument #1 to 'zeros_like'")
  expect_error(function() return tensor.full_like(x) end, "bad argument #2 to 'full_like'")
  expect_error(function() return tensor.zeros_like(x, 5) end, "bad argument #2 to 'zeros_like'")
end)

test("randint: whole numbers in [low, high), its own stream, errors", function()
  local t = tensor.randint(1, 11, {1000}, tensor.Generator(3))
  check_eq(t:min():item(), 1)
  check_eq(t:max():item(), 10)
  check_eq(t:eq(t:round()):sum():item(), 1000, "whole numbers")
  for v = 1, 10 do
    local c = t:eq(v):sum():item()
    assert(c > 60 and c < 140, "value " .. v .. " drawn " .. c .. " times of 1000")
  end
  check_eq(tensor.randint(1, 11, {1000}, tensor.Generator(3)):equal(t), true, "same generator, same numbers")
  local z = tensor.randint(3, {2, 5})
  check_eq(table.concat(z.shape, ","), "2,5")
  check_eq(z:min():item() >= 0 and z:max():item() <= 2, true, "randint(high, shape): low is 0, as PyTorch")
  check_eq(tensor.randint(-5, -4, 3):sum():item(), -15, "one value only; a number as the shape")
  local big = tensor.randint(-2 ^ 24, 2 ^ 24 + 1, {100}, tensor.Generator(1))
  check_eq(big:eq(big:round()):sum():item(), 100)
  tensor.manual_seed(4)
  local a = tensor.randint(0, 100, {5})
  tensor.manual_seed(4)
  check_eq(tensor.randint(0, 100, {5}):equal(a), true, "the default generator follows manual_seed")
  expect_error(function() return tensor.randint(5, 5, {2}) end, "randint: expected low < high")
  expect_error(function() return tensor.randint(0, 2 ^ 25, {2}) end, "exact in float32")
  expect_error(function() return tensor.randint(0.5, 3, {2}) end, "bad argument #1 to 'randint'")
  expect_error(function() return tensor.randint(0, 3, "a") end, "bad argument #3 to 'randint'")
  expect_error(function() return tensor.randint(1, 11) end, "bad argument #3 to 'randint' (shape")
  expect_error(function() return tensor.randint(0, 3, {-1}) end, "sizes must be whole numbers >= 0")
end)

test("logspace: base^linspace, errors", function()
  check_close(tensor.logspace(0, 3, 4), {1, 10, 100, 1000}, 1e-3)
  check_close(tensor.logspace(0, 3, 4, 2), {1, 2, 4, 8}, 0)
  check_eq(tensor.logspace(0, 1, 0):numel(), 0)
  expect_error(function() return tensor.logspace(0, 1, -1) end, "logspace: steps must be >= 0")
  expect_error(function() return tensor.logspace(0, 1 / 0, 3) end, "logspace: start, end and base must be finite")
end)

test("meshgrid: several results, ij by default, xy, lists, gradient", function()
  local a, b = tensor.new{1, 2, 3}, tensor.new{10, 20}
  local X, Y = tensor.meshgrid(a, b)
  check_close(X, {{1, 1}, {2, 2}, {3, 3}}, 0)
  check_close(Y, {{10, 20}, {10, 20}, {10, 20}}, 0)
  check_eq(select("#", tensor.meshgrid(a, b, a)), 3, "one result per input")
  local Xs, Ys = tensor.meshgrid({a, b}, {indexing = "xy"})
  check_close(Xs, {{1, 2, 3}, {1, 2, 3}}, 0)
  check_close(Ys, {{10, 10, 10}, {20, 20, 20}}, 0)
  local Xl = tensor.meshgrid{a, b}
  check_close(Xl, X, 0, "a list alone")
  gradcheck(function(x) local p, q = tensor.meshgrid(x[1], x[2]); return p * q + p:sin() end,
            {R(2, 3), R(3, 4)}, {what = "meshgrid"})
  check_eq((tensor.meshgrid(R(2, 3), b)).grad_fn, "ExpandBackward0")
  expect_error(function() return tensor.meshgrid(a, tensor.zeros(2, 2)) end, "meshgrid: input 2 must be a 0-d or 1-d tensor")
  expect_error(function() return tensor.meshgrid(a, b, {indexing = "yx"}) end, "meshgrid: indexing must be \"ij\" or \"xy\"")
  expect_error(function() return tensor.meshgrid(a, b, {index = "xy"}) end, "meshgrid: unknown option 'index'")
  expect_error(function() return tensor.meshgrid() end, "meshgrid: expected 1 to 8 tensors, got 0")
end)

test("outer: values, MulBackward0, gradient, errors", function()
  check_close(tensor.outer(tensor.new{1, 2}, tensor.new{3, 4, 5}), {{3, 4, 5}, {6, 8, 10}}, 0)
  check_close(tensor.new{1, 2}:outer(tensor.new{3}), {{3}, {6}}, 0, "as a method")
  gradcheck(function(x) return tensor.outer(x[1], x[2]) end, {R(4, 3), R(5, 4)}, {what = "outer"})
  check_eq(tensor.outer(R(4, 3), R(5, 4)).grad_fn, "MulBackward0")
  expect_error(function() return tensor.outer(tensor.zeros(2, 2), tensor.zeros(2)) end,
               "outer: expected two 1-d tensors, got shapes [2, 2] and [2]")
end)

test("diag: vector to matrix and back, offsets, gradient, errors", function()
  check_close(tensor.diag(tensor.new{1, 2}), {{1, 0}, {0, 2}}, 0)
  check_close(tensor.new{1, 2}:diag(-1), {{0, 0, 0}, {1, 0, 0}, {0, 2, 0}}, 0)
  local m = tensor.arange(12):view(3, 4)
  check_close(m:diag(), {1, 6, 11}, 0)
  check_close(m:diag(2), {3, 8}, 0)
  check_close(m:diag(-2), {9}, 0)
  check_eq(m:diag(7):numel(), 0, "past the edge: empty")
  check_eq(m:diag(-math.maxinteger):numel(), 0)
  check_eq(m:diag(math.mininteger):numel(), 0)
  expect_error(function() return tensor.zeros(2):diag(math.mininteger) end, "diag: a diagonal of 2 elements")
  gradcheck(function(x) return x[1]:diag(1) end, {R(6, 3)}, {what = "diag of a vector"})
  gradcheck(function(x) return x[1]:diag(-1) end, {R(7, 3, 4)}, {what = "diag of a matrix"})
  gradcheck(function(x) return x[1]:t():diag(1) end, {R(8, 3, 4)}, {what = "diag of a transposed matrix"})
  check_eq(R(7, 3, 4):diag().grad_fn, "DiagBackward0")
  expect_error(function() return tensor.zeros(2, 2, 2):diag() end, "diag: expected a 1-d or 2-d tensor, got shape [2, 2, 2]")
  expect_error(function() return tensor.zeros(2):diag(math.maxinteger) end, "diag: a diagonal of 2 elements")
  expect_error(function() return tensor.zeros(2):diag(0.5) end, "bad argument #1 to 'diag'")
  expect_error(function() return tensor.diag(tensor.zeros(2), 0.5) end, "bad argument #2 to 'diag'")
end)

test("tril and triu: offsets, batches, gradient, errors", function()
  local m = tensor.ones(3, 3)
  check_close(m:tril(), {{1, 0, 0}, {1, 1, 0}, {1, 1, 1}}, 0)
  check_close(m:triu(1), {{0, 1, 1}, {0, 0, 1}, {0, 0, 0}}, 0)
  check_close(tensor.tril(m, -1), {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}}, 0)
  check_close(tensor.triu(tensor.ones(2, 2, 2), math.maxinteger), tensor.zeros(2, 2, 2), 0)
  check_close(tensor.tril(tensor.ones(2, 2, 2), math.mininteger), tensor.zeros(2, 2, 2), 0)
  gradcheck(function(x) return x[1]:tril(1) end, {R(9, 3, 4)}, {what = "tril"})
  gradcheck(function(x) return x[1]:triu(-1) end, {R(10, 2, 3, 3)}, {what = "triu of a batch"})
  check_eq(R(9, 3, 4):tril().grad_fn, "TrilBackward0")
  check_eq(R(9, 3, 4):triu().grad_fn, "TriuBackward0")
  expect_error(function() return tensor.zeros(3):tril() end, "tril: expected a tensor of 2 or more dims")
end)

---------------------------------------------------------------------------------------
-- where, cumsum, norm, masked_select
---------------------------------------------------------------------------------------

test("where: tensors and numbers, broadcasting, gradient to both sides", function()
  local c = tensor.new{1, 0, 1}
  check_close(tensor.where(c, tensor.new{1, 2, 3}, 0), {1, 0, 3}, 0)
  check_close(tensor.where(c, -1, tensor.new{{4, 5, 6}, {7, 8, 9}}), {{-1, 5, -1}, {-1, 8, -1}}, 0)
  check_close(tensor.new{1, 2, 3}:where(c, 9), {1, 9, 3}, 0, "x:where(cond, y)")
  local cond = tensor.new{{1, 0, 0, 1}, {0, 1, 1, 0}, {1, 1, 0, 0}}
  gradcheck(function(x) return tensor.where(cond, x[1], x[2]) end, {R(11, 3, 4), R(12, 3, 4)}, {what = "where"})
  gradcheck(function(x) return tensor.where(cond, x[1], x[2]) end, {R(13, 4), R(14, 3, 1)}, {what = "where broadcast"})
  gradcheck(function(x) return tensor.where(cond, x[1], 0) end, {R(15, 3, 4)}, {what = "where with a number"})
  check_eq(tensor.where(cond, R(15, 3, 4), 0).grad_fn, "WhereBackward0")
  local x = R(16, 3, 4)
  local cc = cond:clone()
  check_saved(function() return tensor.where(cc, x, 0) end, function() cc:fill_(1) end, "where's condition")
  expect_error(function() return tensor.where(tensor.zeros(2), tensor.zeros(3), 0) end,
               "where: shapes [2] and [3] cannot be broadcast")
  expect_error(function() return tensor.where(1, tensor.zeros(3), 0) end, "bad argument #1 to 'where'")
  expect_error(function() return tensor.where(c, "a", 0) end, "bad argument #2 to 'where'")
end)

test("cumsum: values, gradient, errors", function()
  check_close(tensor.new{1, 2, 3, 4}:cumsum(1), {1, 3, 6, 10}, 0)
  check_close(tensor.new{{1, 2}, {3, 4}}:cumsum(1), {{1, 2}, {4, 6}}, 0)
  check_close(tensor.new{{1, 2}, {3, 4}}:cumsum(-1), {{1, 3}, {3, 7}}, 0)
  gradcheck(function(x) return x[1]:cumsum(2) end, {R(17, 3, 4)}, {what = "cumsum dim 2"})
  gradcheck(function(x) return x[1]:t():cumsum(1) end, {R(18, 4, 6)}, {what = "cumsum of a view"})
  check_eq(R(17, 3):cumsum(1).grad_fn, "CumsumBackward0")
  expect_error(function() return tensor.zeros(3):cumsum() end, "bad argument #1 to 'cumsum'")
  expect_error(function() return tensor.zeros(3):cumsum(2) end, "dim 2 out of range")
end)

test("norm: Frobenius by default, p = 1, 2, inf, along a dim; gradients; errors", function()
  local a = tensor.new{{3, -4}, {0, 0}}
  check_close(a:norm(), 5, 0)
  check_close(a:norm(1), 7, 0)
  check_close(a:norm(math.huge), 4, 0)
  check_close(a:norm("fro"), 5, 0)
  check_close(a:norm(2, 2), {5, 0}, 0)
  check_close(a:norm(1, 1, true), {{3, 4}}, 0)
  check_close(a:norm({p = 1, dim = 2}), {7, 0}, 0, "as options")
  for _, p in ipairs{1, 2, math.huge} do
    gradcheck(function(x) return x[1]:norm(p) end, {R(19, 3, 4)}, {what = "norm p=" .. p})
    gradcheck(function(x) return x[1]:norm(p, 2) end, {R(20, 3, 4)}, {what = "norm p=" .. p .. " dim 2"})
    gradcheck(function(x) return x[1]:norm(p, 1, true) end, {R(21, 3, 4)}, {what = "norm p=" .. p .. " keepdim"})
  end
  local z = tensor.zeros(3):requires_grad_()
  z:norm():backward()
  check_close(z.grad, {0, 0, 0}, 0, "the gradient of the 2-norm at 0 is 0, as PyTorch")
  local t = tensor.new{2, -2, 1}:requires_grad_()
  t:norm(math.huge):backward()
  check_close(t.grad, {0.5, -0.5, 0}, 0, "inf-norm: shared among ties")
  check_eq(R(19, 3):norm().grad_fn, "LinalgVectorNormBackward0")
  local x = R(22, 3)
  local y = x * 1
  check_saved(function() return y:norm() end, function() y:mul_(2) end, "norm's input")
  expect_error(function() return a:norm(3) end, "bad argument #1 to 'norm' (p must be 1, 2, math.huge or \"fro\"")
  expect_error(function() return a:norm("nuc") end, "p must be 1, 2, math.huge or \"fro\", got \"nuc\"")
  expect_error(function() return a:norm(2, 3) end, "dim 3 out of range")
  expect_error(function() return a:norm({q = 1}) end, "norm: unknown option 'q'")
end)

---------------------------------------------------------------------------------------
-- sort, topk
---------------------------------------------------------------------------------------

test("sort: stable for ties both ways, NaN largest, indices exact, gradient", function()
  local v, i = tensor.new{2, 1, 2, 1, 2}:sort()
  check_close(v, {1, 1, 2, 2, 2}, 0)
  check_close(i, {2, 4, 1, 3, 5}, 0, "ties keep their order")
  v, i = tensor.new{2, 1, 2, 1, 2}:sort(1, true)
  check_close(i, {1, 3, 5, 2, 4}, 0, "descending: ties keep their order too")
  v, i = tensor.new{1, 0 / 0, -1}:sort()
  check_eq(v[3] ~= v[3], true, "NaN sorts last")
  check_close(i, {3, 1, 2}, 0)
  v, i = tensor.new(5):sort()
  check_eq(v:item(), 5)
  check_eq(i:item(), 1)
  gradcheck(function(x) return (x[1]:sort(2)) end, {R(23, 3, 4)}, {what = "sort"})
  gradcheck(function(x) return (x[1]:sort(1, true)) end, {R(24, 3, 4)}, {what = "sort descending dim 1"})
  check_eq((R(23, 3):sort()).grad_fn, "SortBackward0")
  local x, idx = R(25, 4), nil
  check_saved(function() local s, ix = x:sort(); idx = ix; return s end, function() idx:fill_(1) end,
              "sort's indices")
  expect_error(function() return tensor.zeros(3):sort(2) end, "dim 2 out of range")
  expect_error(function() return tensor.zeros(3):sort(1, 1) end, "bad argument #2 to 'sort'")
  expect_error(function() return tensor.zeros(1):expand(2 ^ 24 + 1):sort() end,
               "sort: dim 1 has 16777217 elements; 1-based indices above 2^24 are not exact in float32")
end)

test("topk: largest first, sorted; smallest; ties in index order; gradient; errors", function()
  local v, i = tensor.new{1, 5, 3, 5, 2}:topk(3)
  check_close(v, {5, 5, 3}, 0)
  check_close(i, {2, 4, 3}, 0)
  v, i = tensor.new{{1, 5, 3}, {4, 0, 4}}:topk(2, 2, false)
  check_close(v, {{1, 3}, {0, 4}}, 0)
  check_close(i, {{1, 3}, {2, 1}}, 0)
  v = tensor.new{{1, 5, 3}, {4, 0, 4}}:topk(1, 1)
  check_close(v, {{4, 5, 4}}, 0)
  check_eq(tensor.zeros(3):topk(0):numel(), 0)
  gradcheck(function(x) return (x[1]:topk(2)) end, {R(26, 3, 4)}, {what = "topk"})
  gradcheck(function(x) return (x[1]:topk(2, 1, false)) end, {R(27, 3, 4)}, {what = "topk smallest dim 1"})
  check_eq((R(26, 3):topk(1)).grad_fn, "TopkBackward0")
  expect_error(function() return tensor.zeros(3):topk(4) end, "topk: k = 4 is larger than dim 1 of size 3")
  expect_error(function() return tensor.zeros(3):topk(-1) end, "bad argument #1 to 'topk' (k must be >= 0, got -1)")
  expect_error(function() return tensor.zeros(3):topk(1, 1, "yes") end, "bad argument #3 to 'topk'")
end)

---------------------------------------------------------------------------------------
-- select and slice (the view ops of API.md's indexing row)
---------------------------------------------------------------------------------------

test("slice: a whole float selects as an integer does; writes go through; errors", function()
  local x = tensor.arange(24):view(2, 3, 4)
  check_close(x:slice{{1, 2}, {}, 2.0}, x:slice{{1, 2}, {}, 2}, 0)
  check_eq(table.concat(x:slice{{1, 2}, {}, 2}.shape, ","), "2,3", "the picked dim is dropped")
  x:slice{2, {2, 3}, {1, -1, 3}}:fill_(0)
  check_eq(x[2][2][1] + x[2][2][4] + x[2][3][1] + x[2][3][4], 0, "writes go through the view")
  check_eq(x[2][2][2], 18)
  expect_error(function() return x:slice{2.5} end, "slice: entry 1 must be a table or a whole number, got number")
  expect_error(function() return x:slice{"1"} end, "slice: entry 1 must be a table or a whole number, got string")
end)

test("select keeps the gradient where x[i] gives a number (a loss written with p[1] loses it)", function()
  local p = tensor.new{1.5, 0.5}:requires_grad_()
  check_eq(type(p[1]), "number")
  local x, y = p:select(1, 1), p:select(1, 2)
  local loss = (1.5 - x + x * y) ^ 2 + (2.25 - x + x * y ^ 2) ^ 2 + (2.625 - x + x * y ^ 3) ^ 2
  loss:backward()
  -- Beale's function by hand at (1.5, 0.5)
  local function beale(a, b) return (1.5 - a + a * b) ^ 2 + (2.25 - a + a * b ^ 2) ^ 2 + (2.625 - a + a * b ^ 3) ^ 2 end
  local h = 1e-6
  check_close(p.grad, {(beale(1.5 + h, 0.5) - beale(1.5 - h, 0.5)) / (2 * h),
                       (beale(1.5, 0.5 + h) - beale(1.5, 0.5 - h)) / (2 * h)}, 1e-3)
  check_close(loss, beale(1.5, 0.5), 1e-5)
end)
