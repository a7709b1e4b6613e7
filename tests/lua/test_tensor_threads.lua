-- Same numbers to the last bit whatever tensor.set_num_threads says (DESIGN.md, "Threads").

local function with_threads(n, fn)
  local before = tensor.get_num_threads()
  tensor.set_num_threads(n)
  local ok, a, b = pcall(fn)
  tensor.set_num_threads(before)
  if not ok then error(a, 0) end
  return a, b
end

local function same_for_1_2_3(what, fn)
  local r1 = with_threads(1, fn)
  for _, n in ipairs{2, 3} do
    local r = with_threads(n, fn)
    check_eq(r:equal(r1), true, what .. ": " .. n .. " threads vs 1")
  end
end

test("sum and mean of large tensors are bit-identical across thread counts", function()
  local x = tensor.randn(3000001, tensor.Generator(1)) * 1000 + 0.001
  local m = tensor.randn(1000, 3001, tensor.Generator(2))
  same_for_1_2_3("sum all", function() return x:sum() end)
  same_for_1_2_3("mean all", function() return x:mean() end)
  same_for_1_2_3("sum dim 1", function() return m:sum(1) end)
  same_for_1_2_3("sum dim 2", function() return m:sum(2) end)
  same_for_1_2_3("mean dim 2", function() return m:mean(2) end)
  same_for_1_2_3("var dim 1", function() return m:var(1) end)
  same_for_1_2_3("softmax", function() return m:softmax(2) end)
  same_for_1_2_3("elementwise", function() return (m * 3 + m:t():t()):exp() end)
end)

test("matmul is bit-identical across thread counts", function()
  local a = tensor.randn(1024, 1024, tensor.Generator(3))
  local b = tensor.randn(1024, 1024, tensor.Generator(4))
  same_for_1_2_3("1024x1024", function() return a:matmul(b) end)
  local x = tensor.randn(64, 784, tensor.Generator(5))
  local w = tensor.randn(256, 784, tensor.Generator(6))
  same_for_1_2_3("64x784 . (256x784)^T", function() return x:matmul(w:t()) end)
  local dy = tensor.randn(64, 256, tensor.Generator(7))
  same_for_1_2_3("dW = dy^T x", function() return dy:t():matmul(x) end)
  same_for_1_2_3("dx = dy w", function() return dy:matmul(w) end)
end)

test("matmul agrees with a sum of products", function()
  local a = tensor.randn(33, 70, tensor.Generator(8))
  local b = tensor.randn(70, 21, tensor.Generator(9))
  local ref = (a:unsqueeze(3) * b:unsqueeze(1)):sum(2)     -- [33, 70, 1] * [1, 70, 21]
  check_close(a:matmul(b), ref, 1e-4)
end)

test("norm, cumsum, where and sort are bit-identical across thread counts", function()
  local x = tensor.randn(3000001, tensor.Generator(11)) * 1000 + 0.001
  local m = tensor.randn(1000, 301, tensor.Generator(12))
  for _, p in ipairs{1, 2, math.huge} do
    same_for_1_2_3("norm p=" .. p, function() return x:norm(p) end)
    same_for_1_2_3("norm p=" .. p .. " dim 1", function() return m:norm(p, 1) end)
    same_for_1_2_3("norm p=" .. p .. " dim 2", function() return m:norm(p, 2) end)
  end
  same_for_1_2_3("cumsum dim 1", function() return m:cumsum(1) end)
  same_for_1_2_3("cumsum dim 2", function() return m:cumsum(2) end)
  same_for_1_2_3("where", function() return tensor.where(m:gt(0), m, m * 2) end)
  same_for_1_2_3("sort", function() return (m:sort(2)) end)
end)
