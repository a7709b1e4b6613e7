-- arithmetic with broadcasting (hand-computed), elementwise, reductions, in place, matmul

test("broadcasting rules by hand", function()
  local a = tensor.new{{1, 2, 3}, {4, 5, 6}}               -- [2, 3]
  check_close(a + tensor.new{10, 20, 30}, {{11, 22, 33}, {14, 25, 36}})   -- [3]
  check_close(a + tensor.new{{100}, {200}}, {{101, 102, 103}, {204, 205, 206}})  -- [2, 1]
  check_close(tensor.new{{1}, {2}} * tensor.new{1, 10}, {{1, 10}, {2, 20}})  -- [2,1] x [2] -> [2,2]
  local c = tensor.new{{{1, 2}}, {{3, 4}}}                  -- [2, 1, 2]
  local d = tensor.new{{10}, {20}, {30}}                    -- [3, 1]
  local s = c + d                                           -- [2, 3, 2]
  check_eq(table.concat(s.shape, ","), "2,3,2")
  check_close(s, {{{11, 12}, {21, 22}, {31, 32}}, {{13, 14}, {23, 24}, {33, 34}}})
  check_close(a + tensor.new(1), a + 1)                     -- 0-d broadcasts
  check_eq(table.concat((tensor.zeros(0, 3) + tensor.zeros(3)).shape, ","), "0,3")
  check_eq(table.concat((tensor.zeros(1, 3) + tensor.zeros(4, 1)).shape, ","), "4,3")
end)

test("broadcast failure names both shapes", function()
  expect_error(function() return tensor.zeros(2, 3) + tensor.zeros(2) end,
               "add: shapes [2, 3] and [2] cannot be broadcast")
  expect_error(function() return tensor.zeros(4, 3) * tensor.zeros(2, 3) end,
               "mul: shapes [4, 3] and [2, 3] cannot be broadcast")
  expect_error(function() return tensor.zeros(2) - {} end, "number expected")
end)

test("scalar arithmetic both ways", function()
  local a = tensor.new{1, 2, 4}
  check_close(a + 1, {2, 3, 5}); check_close(1 + a, {2, 3, 5})
  check_close(a - 1, {0, 1, 3}); check_close(1 - a, {0, -1, -3})
  check_close(a * 2, {2, 4, 8}); check_close(2 * a, {2, 4, 8})
  check_close(a / 2, {0.5, 1, 2}); check_close(2 / a, {2, 1, 0.5})
  check_close(a ^ 2, {1, 4, 16}); check_close(2 ^ a, {2, 4, 16})
  check_close(a ^ 0.5, {1, math.sqrt(2), 2}, 1e-6)
  check_close(a ^ a, {1, 4, 256})
  check_close(-a, {-1, -2, -4})
  check_close(a:add(a), {2, 4, 8}); check_close(a:sub(1), {0, 1, 3})
  check_close(a:mul(a), {1, 4, 16}); check_close(a:div(a), {1, 1, 1})
  check_close(a:pow(3), {1, 8, 64})
  check_close(a:add(a, 10), {11, 22, 44})
  check_close(tensor.new{{1, 2}}:add(tensor.new{{1}, {2}}, 2), {{3, 4}, {5, 6}})
  check_close(a:sub(a, 2), {-1, -2, -4})
  check_close(a:add(1, 3), {4, 5, 7})
  expect_error(function() a:mul(a, 2) end, "bad argument #2 to 'mul' (unexpected argument)")
  expect_error(function() a:eq(a, 1) end, "unexpected argument")
end)

test("elementwise functions", function()
  local x = tensor.new{-2, -0.5, 0, 0.5, 2}
  check_close(x:abs(), {2, 0.5, 0, 0.5, 2})
  check_close(x:neg(), {2, 0.5, 0, -0.5, -2})
  check_close(x:sign(), {-1, -1, 0, 1, 1})
  check_close(x:relu(), {0, 0, 0, 0.5, 2})
  check_close(x:exp(), {math.exp(-2), math.exp(-0.5), 1, math.exp(0.5), math.exp(2)}, 1e-6)
  check_close(x:sigmoid(), {1 / (1 + math.exp(2)), 1 / (1 + math.exp(0.5)), 0.5, 1 / (1 + math.exp(-0.5)), 1 / (1 + math.exp(-2))}, 1e-6)
  check_close(x:tanh()[5], 0.9640275800758169, 1e-6)
  check_close(tensor.new{1, 4, 9}:sqrt(), {1, 2, 3})
  check_close(tensor.new{1, math.exp(1)}:log(), {0, 1}, 1e-6)
  check_close(x:clamp(-1, 1), {-1, -0.5, 0, 0.5, 1})
  check_close(x:clamp(0), {0, 0, 0, 0.5, 2})
  check_close(x:clamp(nil, 0), {-2, -0.5, 0, 0, 0})
  expect_error(function() x:clamp() end, "clamp: give at least one of min and max")
  -- NaN means "no bound" inside: a NaN bound from the script would clamp nothing on that side
  expect_error(function() x:clamp(0 / 0, 1) end, "min is NaN")
  expect_error(function() x:clamp(-1, 0 / 0) end, "max is NaN")
  expect_error(function() x:clone():clamp_(0 / 0) end, "min is NaN")
  check_close(x:clamp(1, -1), {-1, -1, -1, -1, -1}, 0, "min > max gives max everywhere, as PyTorch")
  local n = tensor.new{0/0}:relu()[1]
  check_eq(n ~= n, true, "relu keeps NaN")
  check_eq(tensor.new{-1}:log()[1] ~= tensor.new{-1}:log()[1], true, "log(-1) is NaN")
  check_eq(tensor.new{0}:log()[1], -math.huge)
end)

test("comparisons give 0/1 tensors", function()
  local a, b = tensor.new{1, 2, 3}, tensor.new{3, 2, 1}
  check_close(a:eq(b), {0, 1, 0}); check_close(a:ne(b), {1, 0, 1})
  check_close(a:lt(b), {1, 0, 0}); check_close(a:le(b), {1, 1, 0})
  check_close(a:gt(b), {0, 0, 1}); check_close(a:ge(b), {0, 1, 1})
  check_close(a:gt(2), {0, 0, 1})
  check_close(tensor.new{{1}, {3}}:lt(a), {{0, 1, 1}, {0, 0, 0}})
end)

test("reductions", function()
  local a = tensor.new{{1, 2, 3}, {4, 5, 6}}
  check_eq(a:sum():dim(), 0)
  check_eq(a:sum():item(), 21)
  check_close(a:sum(1), {5, 7, 9})
  check_close(a:sum(2), {6, 15})
  check_close(a:sum(-1), {6, 15})
  check_close(a:sum(2, true), {{6}, {15}})
  check_close(a:sum({dim = 1, keepdim = true}), {{5, 7, 9}})
  check_close(a:mean(), 3.5)
  check_close(a:mean(1), {2.5, 3.5, 4.5})
  check_close(a:var(), 3.5)
  check_close(a:var({unbiased = false}), 35 / 12, 1e-6)
  check_close(a:var(2), {1, 1})
  check_close(a:var(1, false, {correction = 0}), {2.25, 2.25, 2.25})
  check_close(a:std(1), {math.sqrt(4.5), math.sqrt(4.5), math.sqrt(4.5)}, 1e-6)
  check_close(tensor.zeros(0):sum(), 0)
  local m = tensor.zeros(0):mean():item()
  check_eq(m ~= m, true, "mean of nothing is NaN")
end)

test("max min argmax argmin", function()
  local a = tensor.new{{1, 7, 3}, {9, 2, 9}}
  check_eq(a:max():item(), 9); check_eq(a:min():item(), 1)
  local v, i = a:max(2)
  check_close(v, {7, 9}); check_close(i, {2, 1}, 0, "first occurrence, 1-based")
  v, i = a:min(1)
  check_close(v, {1, 2, 3}); check_close(i, {1, 2, 1})
  v, i = a:max(1, true)
  check_eq(table.concat(v.shape, ","), "1,3")
  check_close(a:argmax(), 4)
  check_close(a:argmin(), 1)
  check_close(a:argmax(2), {2, 1})
  check_close(a:argmin(-1), {1, 2})
  check_close(a:max(tensor.new{5}), {{5, 7, 5}, {9, 5, 9}})
  check_close(a:min(tensor.new{5}), {{1, 5, 3}, {5, 2, 5}})
  local nan = tensor.new{1, 0/0, 3}:max():item()
  check_eq(nan ~= nan, true, "max propagates NaN")
  expect_error(function() tensor.zeros(0):max() end, "max: cannot reduce an empty tensor")
  expect_error(function() a:max(3) end, "dim 3 out of range for a 2-d tensor")
  expect_error(function() a:sum(1, true, {bogus = 1}) end, "sum: unknown option 'bogus'")
  expect_error(function() a:sum("x") end, "unexpected argument")
end)

test("softmax and log_softmax", function()
  local x = tensor.new{{1, 2, 3}, {1000, 1000, 1000}}
  local s = x:softmax(2)
  check_close(s:sum(2), {1, 1}, 1e-6)
  check_close(s[2], {1 / 3, 1 / 3, 1 / 3}, 1e-6)
  local e = math.exp(1) + math.exp(2) + math.exp(3)
  check_close(s[1], {math.exp(1) / e, math.exp(2) / e, math.exp(3) / e}, 1e-6)
  check_close(x:log_softmax(2)[1], {1 - math.log(e), 2 - math.log(e), 3 - math.log(e)}, 1e-5)
  check_close(tensor.new{-1000, 0}:log_softmax(1), {-1000, 0}, 1e-3)
  check_close(x:softmax(1)[1], {0, 0, 0}, 1e-6)
  expect_error(function() x:softmax(3) end, "dim 3 out of range")
end)

test("index_select gather masked_fill", function()
  local a = tensor.new{{1, 2, 3}, {4, 5, 6}}
  check_close(a:index_select(2, tensor.new{3, 1}), {{3, 1}, {6, 4}})
  check_close(a:index_select(1, tensor.new{2, 2}), {{4, 5, 6}, {4, 5, 6}})
  check_close(a:gather(2, tensor.new{{3, 1}, {2, 2}}), {{3, 1}, {5, 5}})
  check_close(a:gather(1, tensor.new{{2, 1, 2}}), {{4, 2, 6}})
  check_close(a:masked_fill(a:gt(3), -1), {{1, 2, 3}, {-1, -1, -1}})
  check_close(a:masked_fill(tensor.new{1, 0, 1}, 0), {{0, 2, 0}, {0, 5, 0}})
  check_close(a, {{1, 2, 3}, {4, 5, 6}}, 0, "masked_fill is out of place")
  expect_error(function() a:index_select(2, tensor.new{4}) end, "index_select: index 4 is out of range for dim 2 of size 3 (indices are 1-based)")
  expect_error(function() a:index_select(2, tensor.new{0}) end, "index 0 is out of range")
  expect_error(function() a:index_select(2, tensor.new{1.5}) end, "index 1.5 is out of range")
  expect_error(function() a:index_select(1, tensor.new{{1}}) end, "index must be 1-d")
  expect_error(function() a:gather(2, tensor.new{{4}}) end, "gather: index 4 is out of range")
  expect_error(function() a:gather(2, tensor.new{1}) end, "must have as many dims as input")
  expect_error(function() a:masked_fill(tensor.new{1, 0}, 0) end, "masked_fill: mask of shape [2] cannot be broadcast to [2, 3]")
end)

test("in place ops return the tensor and write through", function()
  local a = tensor.new{1, 2, 3}
  check_eq(rawequal(a:add_(1), a), true)
  check_close(a, {2, 3, 4})
  a:add_(tensor.new{1, 1, 1}, -2)
  check_close(a, {0, 1, 2})
  a:add_(10, 0.5)
  check_close(a, {5, 6, 7})
  a:mul_(2); check_close(a, {10, 12, 14})
  a:mul_(tensor.new{0.5}); check_close(a, {5, 6, 7})
  a:sub_(5); a:div_(2); check_close(a, {0, 0.5, 1})
  a:clamp_(0.25, 0.75); check_close(a, {0.25, 0.5, 0.75})
  a:fill_(3); check_close(a, {3, 3, 3})
  local m = tensor.zeros(2, 3)
  m:narrow(2, 1, 2):add_(tensor.new{1, 2})
  check_close(m, {{1, 2, 0}, {1, 2, 0}})
  m:add_(m)                                   -- aliasing is safe
  check_close(m, {{2, 4, 0}, {2, 4, 0}})
  expect_error(function() tensor.zeros(3):add_(tensor.zeros(2, 3)) end,
               "add_: the result of shape [2, 3] does not fit in-place into shape [3]")
  expect_error(function() tensor.zeros(3):copy_(tensor.zeros(2)) end, "copy_: shapes [3] and [2] cannot be broadcast")
end)

test("matmul shapes and values", function()
  local a = tensor.new{{1, 2}, {3, 4}, {5, 6}}          -- [3, 2]
  local b = tensor.new{{1, 0, 2}, {0, 1, 3}}            -- [2, 3]
  check_close(a:matmul(b), {{1, 2, 8}, {3, 4, 18}, {5, 6, 28}})
  check_close(tensor.new{1, 2}:matmul(tensor.new{3, 4}), 11)
  check_eq(tensor.new{1, 2}:matmul(tensor.new{3, 4}):dim(), 0)
  check_close(tensor.new{1, 2}:matmul(b), {1, 2, 8})     -- [2] x [2, 3]
  check_close(a:matmul(tensor.new{1, 1}), {3, 7, 11})    -- [3, 2] x [2]
  check_close(a:t():matmul(a), {{35, 44}, {44, 56}})     -- transposed view, no copy
  check_close(b:t():matmul(b), {{1, 0, 2}, {0, 1, 3}, {2, 3, 13}})
  local x = tensor.arange(24):view(2, 3, 4)
  local w = tensor.arange(8):view(4, 2)
  local y = x:matmul(w)                                  -- [2, 3, 4] x [4, 2]
  check_eq(table.concat(y.shape, ","), "2,3,2")
  check_close(y[2], x[2]:matmul(w))
  local bw = tensor.stack({w, w * 2})                     -- [2, 4, 2]
  local z = x:matmul(bw)
  check_close(z[2], x[2]:matmul(w * 2))
  local z2 = x[1]:unsqueeze(1):matmul(bw)                -- [1, 3, 4] x [2, 4, 2] broadcasts
  check_close(z2[2], x[1]:matmul(w * 2))
  check_close(x:permute(1, 3, 2):matmul(x)[2], x[2]:t():matmul(x[2]))
  local e = tensor.zeros(2, 0):matmul(tensor.zeros(0, 3))
  check_close(e, tensor.zeros(2, 3))
  check_eq(tensor.zeros(0, 2):matmul(tensor.zeros(2, 3)):numel(), 0)
  local big = tensor.ones(64, 784):matmul(tensor.ones(784, 256))
  check_close(big:max(), 784); check_close(big:min(), 784)
  local ex = tensor.new{{1, 2}}:expand(3, 2)             -- zero stride: copied for the backend
  check_close(ex:matmul(tensor.eye(2)), {{1, 2}, {1, 2}, {1, 2}})
end)

test("matmul errors", function()
  expect_error(function() tensor.zeros(64, 784):matmul(tensor.zeros(748, 256)) end,
               "matmul: shapes [64, 784] and [748, 256] do not match (784 vs 748)")
  expect_error(function() tensor.zeros(3):matmul(tensor.zeros(4)) end, "matmul: shapes [3] and [4] do not match (3 vs 4)")
  expect_error(function() tensor.zeros(2, 2, 3):matmul(tensor.zeros(3, 3, 1)) end,
               "have batch dims that cannot be broadcast (2 vs 3)")
  expect_error(function() tensor.new(1):matmul(tensor.zeros(1)) end, "at least 1 dim")
  expect_error(function() tensor.zeros(2):matmul(3) end, "nn.Tensor expected, got number")
end)

test("operations on non-contiguous inputs equal their contiguous copies", function()
  local x = tensor.randn(7, 5, tensor.Generator(11))
  local t = x:t()
  local c = t:contiguous()
  check_close(t:exp(), c:exp())
  check_close(t + t, c + c)
  check_close(t:sum(1), c:sum(1), 1e-6)
  check_close(t:softmax(2), c:softmax(2), 1e-7)
  local mx, ix = t:max(2)
  local cx, cix = c:max(2)
  check_close(mx, cx); check_close(ix, cix)
  check_close(t:matmul(x), c:matmul(x), 1e-5)
end)
