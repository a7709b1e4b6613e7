-- Hostile input to tensor shapes and arguments (issue 13): sizes whose
-- products, sums or strides overflow, lengths that a __len lies about, holes
-- in tables, integers that used to be truncated to int, non-finite bounds.
-- Each is an error that names the function and the values, never a crash or
-- a silently wrong result.

local P62 = 1 << 62
local MAX = 274877906944     -- 2^38, the most elements a tensor holds

-- a table that claims length n and answers every index with v
local function liar(n, v)
  return setmetatable({}, {__len = function() return n end, __index = function() return v end})
end

test("view whose sizes multiply past int64 is refused", function()
  local t = tensor.new(5)
  expect_error(function() return t:view(291028859863088071, 543804029693342783, 4348471222203600969) end,
    "view: shape [291028859863088071, 543804029693342783, 4348471222203600969] is invalid for a tensor of shape [] (1 elements)")
  expect_error(function() return t:reshape(291028859863088071, 543804029693342783, 4348471222203600969) end,
    "reshape: shape [291028859863088071, 543804029693342783, 4348471222203600969] is invalid")
  local a = tensor.zeros(2, 3)
  expect_error(function() return a:view(P62, P62, 4) end, "view: shape [4611686018427387904, 4611686018427387904, 4] is invalid")
  expect_error(function() return a:view(-1, P62) end, "view: shape [-1, 4611686018427387904] is invalid")
  expect_error(function() return a:reshape(-1, 1 << 32, 1 << 32) end, "reshape: shape [-1, 4294967296, 4294967296] is invalid")
  expect_error(function() return a:view(math.maxinteger, math.maxinteger) end, "is invalid for a tensor of shape [2, 3] (6 elements)")
  check_eq(a:view(6, 1):size(1), 6)
end)

test("empty tensors with huge other sizes are refused (their strides overflow)", function()
  local msg = "shape [0, 1099511627776, 1099511627776] is too large: a tensor holds at most 274877906944 elements (its sizes other than 0 must multiply to at most that too)"
  expect_error(function() return tensor.zeros(0, 1 << 40, 1 << 40) end, "zeros: " .. msg)
  expect_error(function() return tensor.ones{0, 1 << 40, 1 << 40} end, "ones: " .. msg)
  expect_error(function() return tensor.empty(1 << 40, 0, 1 << 40) end, "empty: shape [1099511627776, 0, 1099511627776] is too large")
  expect_error(function() return tensor.full({0, 1 << 40, 1 << 40}, 1) end, "full: " .. msg)
  expect_error(function() return tensor.rand(0, 1 << 40, 1 << 40) end, "rand: " .. msg)
  expect_error(function() return tensor.randn(0, 1 << 40, 1 << 40, tensor.Generator(1)) end, "randn: " .. msg)
  expect_error(function() return tensor.zeros(0):view(0, 1 << 40, 1 << 40) end, "view: " .. msg)
  expect_error(function() return tensor.zeros(0):reshape(math.maxinteger, 0) end, "reshape: shape [9223372036854775807, 0] is too large")
  expect_error(function() return tensor.ones(1):expand(0, 1 << 40, 1 << 40) end, "expand: " .. msg)
  -- up to the limit they work, and stay empty through views and copies
  local e = tensor.zeros(0, 1 << 19, 1 << 19)
  check_eq(e:numel(), 0)
  check_eq(e:flatten():numel(), 0)
  check_eq(e:clone():numel(), 0)
  check_eq(e:sum():item(), 0)
  check_eq(e:transpose(1, 3):contiguous():size(1), 1 << 19)
  check_eq(e:unsqueeze(1):dim(), 4)
  check_eq(tensor.zeros(0):view(0, 1 << 19, 1 << 19):numel(), 0)
end)

test("a safetensors header with shape [0, 2^40, 2^40] is refused", function()
  local dir = tmpdir()
  local path = dir .. "/huge.safetensors"
  local h = '{"x":{"dtype":"F32","shape":[0,1099511627776,1099511627776],"data_offsets":[0,0]}}'
  write_file(path, string.pack("<I8", #h) .. h)
  local err = expect_error(function() return tensor.load(path) end, "huge.safetensors: tensor 'x': shape too large (more than 2^38 elements")
  assert(err:find("test_hostile_tensor.lua:%d+:"), err)
  h = '{"x":{"dtype":"U8","shape":[0,9007199254740992,9007199254740992,9007199254740992],"data_offsets":[0,0]}}'
  write_file(path, string.pack("<I8", #h) .. h)
  expect_error(function() return tensor.load(path) end, "shape too large (more than 2^38 elements")
end)

test("narrow whose start + length overflows is refused", function()
  local a = tensor.arange(10)
  expect_error(function() return a:narrow(1, P62 + 1, P62) end,
    "narrow: start 4611686018427387905 and length 4611686018427387904 are out of range for dim 1 of size 10")
  expect_error(function() return a:narrow(1, math.maxinteger, math.maxinteger) end,
    "narrow: start 9223372036854775807 and length 9223372036854775807 are out of range")
  expect_error(function() return a:narrow(1, 2, math.maxinteger) end, "start 2 and length 9223372036854775807")
  expect_error(function() return a:narrow(1, math.mininteger, 1) end,
    "narrow: start -9223372036854775808 and length 1 are out of range for dim 1 of size 10")
  expect_error(function() return a:narrow(1, -11, 1) end, "start -11 and length 1")
  expect_error(function() return a:narrow(1, 3, -1) end, "length -1")
  expect_error(function() return a:narrow(1, 12, 0) end, "start 12 and length 0")
  check_eq(a:narrow(1, 11, 0):numel(), 0)     -- empty, just past the end
  check_eq(a:narrow(1, -1, 1):item(), 10)
  check_eq(a:narrow(1, -10, 2):sum():item(), 3)
end)

test("expand whose element count overflows is refused (sum gave 4)", function()
  local one = tensor.ones(1)
  expect_error(function() return one:expand(P62 + 1, 4):sum() end,
    "expand: shape [4611686018427387905, 4] is too large: a tensor holds at most 274877906944 elements")
  expect_error(function() return one:expand(1 << 32, 1 << 32) end, "expand: shape [4294967296, 4294967296] is too large")
  expect_error(function() return tensor.zeros(3):expand(P62, -1) end, "expand: shape [4611686018427387904, 3] is too large")
  expect_error(function() return one:expand(math.maxinteger) end, "too large")
  local big = one:expand(1 << 19, 1 << 19)     -- exactly the limit: a view, no memory
  check_eq(big:numel(), MAX)
  check_eq(big[1 << 19][1 << 19], 1)
  expect_error(function() return one:expand((1 << 19) + 1, 1 << 19) end, "too large")
end)

test("results of broadcasting, matmul, cat and index_select past the limit are refused", function()
  local col, row = tensor.ones(1):expand(1 << 20, 1), tensor.ones(1):expand(1, 1 << 20)
  expect_error(function() return col + row end, "add: shape [1048576, 1048576] is too large")
  expect_error(function() return col:mul(row) end, "mul: shape [1048576, 1048576] is too large")
  expect_error(function() return col:eq(row) end, "eq: shape [1048576, 1048576] is too large")
  expect_error(function() return tensor.allclose(col, row) end, "allclose: shape [1048576, 1048576] is too large")
  expect_error(function() return col:matmul(row) end, "matmul: shape [1048576, 1048576] is too large")
  local wide = tensor.ones(1, 1):expand(1, 1 << 37)
  expect_error(function() return wide:index_select(1, tensor.ones(4)) end,
    "index_select: shape [4, 137438953472] is too large")
  local half = tensor.ones(1):expand(MAX // 2 + 1)
  expect_error(function() return tensor.cat({half, half}) end, "cat: the 2 tensors are too large together")
  expect_error(function() return tensor.stack({wide, wide, wide}) end, "too large")
end)

test("every creator refuses sizes past the limit, naming itself", function()
  expect_error(function() return tensor.zeros(1 << 40) end, "zeros: shape [1099511627776] is too large")
  expect_error(function() return tensor.zeros(P62, P62) end, "zeros: shape [4611686018427387904, 4611686018427387904]")
  expect_error(function() return tensor.ones(1 << 20, 1 << 20) end, "ones: shape [1048576, 1048576]")
  expect_error(function() return tensor.eye(1 << 20) end, "eye: shape [1048576, 1048576] is too large")
  expect_error(function() return tensor.eye(1 << 40, 0) end, "eye: shape [1099511627776, 0] is too large")
  expect_error(function() return tensor.linspace(0, 1, 1 << 40) end, "linspace: shape [1099511627776] is too large")
  expect_error(function() return tensor.arange(P62) end, "arange:")
  expect_error(function() return tensor.randperm(1 << 40) end, "randperm: n must be in 0..16777216")
  expect_error(function() return tensor.zeros(-1) end, "sizes must be whole numbers >= 0, got -1")
  expect_error(function() return tensor.zeros(math.mininteger) end, "got -9223372036854775808")
end)

test("a shape table whose __len lies is refused, not truncated to int", function()
  expect_error(function() return tensor.zeros(liar(2 ^ 32 + 2, 2)) end,
    "more than 8 dims: the shape table has length 4294967298")
  expect_error(function() return tensor.zeros(liar(2 ^ 40, 2)) end, "the shape table has length 1099511627776")
  expect_error(function() return tensor.ones(liar(-1, 2)) end, "negative length: the shape table has length -1")
  expect_error(function() return tensor.zeros(2, 3):view(liar(2 ^ 32 + 2, 1)) end, "more than 8 dims")
  expect_error(function() return tensor.ones(1):expand(liar(2 ^ 32 + 1, 1)) end, "more than 8 dims")
  check_eq(tensor.zeros(liar(2, 3)):numel(), 9)        -- a proxy that tells the truth works
end)

test("cat and stack over a list whose __len lies are refused", function()
  local one = tensor.ones(2)
  expect_error(function() return tensor.cat(liar(2 ^ 32 + 2, one)) end,
    "bad argument #1 to 'cat' (a list of 4294967298 tensors (at most 16777216))")
  expect_error(function() return tensor.cat(liar(2 ^ 40, one)) end, "a list of 1099511627776 tensors")
  expect_error(function() return tensor.stack(liar(2 ^ 32 + 2, one)) end, "bad argument #1 to 'stack' (a list of 4294967298")
  expect_error(function() return tensor.cat(liar(-5, one)) end, "expected a non-empty list of tensors")
  expect_error(function() return tensor.cat(liar(math.mininteger, one)) end, "expected a non-empty list of tensors")
  check_eq(tensor.cat(liar(3, one)):numel(), 6)
  check_eq(tensor.stack(liar(3, one)):size(1), 3)
end)

test("tensor.new of a table whose __len lies is refused", function()
  expect_error(function() return tensor.new(liar(2 ^ 40, 1)) end,
    "tensor.new: the table at the top has length 1099511627776 (expected 0..2147483647)")
  expect_error(function() return tensor.new(liar(2 ^ 32 + 2, 1)) end, "has length 4294967298")
  expect_error(function() return tensor.new(liar(-3, 1)) end, "has length -3")
  expect_error(function() return tensor.new{liar(2 ^ 32 + 2, 1)} end, "the table at [1] has length 4294967298")
  expect_error(function() return tensor.new{{1, 2}, liar(2 ^ 32 + 2, 1)} end, "the table at [2] has length 4294967298")
  check_close(tensor.new(liar(3, 7)), {7, 7, 7})
end)

test("tensor.new refuses holes, other keys and ragged nesting", function()
  expect_error(function() return tensor.new{[1] = 1, [3] = 3} end,
    "bad argument #1 to 'new' (the table at the top is not a list: it has key 3 but length 1 (holes are not allowed))")
  expect_error(function() return tensor.new{1, 2, x = 3} end, "it has key 'x' but length 2")
  expect_error(function() return tensor.new{1, 2, [2.5] = 3} end, "it has key 2.5 but length 2")
  expect_error(function() return tensor.new{[2] = 5} end, "has key 2 but length 0")
  expect_error(function() return tensor.new{{1, 2}, {1, 2, [4] = 4}} end, "the table at [2] is not a list: it has key 4 but length 2")
  expect_error(function() return tensor.new{{{1}, {[1] = 2, [3] = 3}}} end, "the table at [1][2] is not a list")
  expect_error(function() return tensor.new{{1, 2}, {3}} end,
    "tensor.new: ragged nested table at [2]: expected a table of 2 elements, got one of 1")
  expect_error(function() return tensor.new{{1, 2}, 3} end, "ragged nested table at [2]: expected a table of 2 elements, got a number")
  expect_error(function() return tensor.new{{1}, tensor.ones(1)} end, "expected a table of 1 elements, got a userdata")
  expect_error(function() return tensor.new{1, {2}} end, "element [2] is a table, expected a number")
  expect_error(function() return tensor.new{{}, {1}} end, "expected a table of 0 elements, got one of 1")
  check_eq(tensor.new{{}, {}}:numel(), 0)
  check_close(tensor.new{{1, 2}, {3, 4}}, {{1, 2}, {3, 4}})
end)

test("shape, dim and list tables with holes are refused", function()
  expect_error(function() return tensor.zeros{[1] = 2, [3] = 3} end,
    "bad argument #1 to 'zeros' (the shape table is not a list: it has key 3 but length 1 (holes are not allowed))")
  expect_error(function() return tensor.zeros{2, 3, n = 2} end, "it has key 'n' but length 2")
  expect_error(function() return tensor.zeros(2, 3):view{[1] = 6, [3] = 1} end, "the shape table is not a list")
  expect_error(function() return tensor.zeros(2, 3):permute{[1] = 2, [3] = 1} end, "the table of dims is not a list: it has key 3 but length 1")
  local one = tensor.ones(1)
  expect_error(function() return tensor.cat{[1] = one, [3] = one} end, "the list of tensors is not a list: it has key 3 but length 1")
  expect_error(function() return tensor.stack{one, one, name = "x"} end, "it has key 'name' but length 2")
end)

test("permute takes dims from the end and checks each as a dim", function()
  local x = tensor.zeros(2, 3, 4)
  check_eq(table.concat(x:permute(-1, 1, 2).shape, ","), "4,2,3")
  check_eq(table.concat(x:permute{3, -3, 2}.shape, ","), "4,2,3")
  expect_error(function() return x:permute(1, 2, 1 << 40) end, "dim 1099511627776 out of range for a 3-d tensor")
  expect_error(function() return x:permute(1, 2, 2) end, "permute: dim 2 appears twice")
  expect_error(function() return x:permute{1, 2, 2.5} end, "number has no integer representation")
end)

test("integer arguments are not truncated to int", function()
  local a = tensor.zeros(2, 3)
  expect_error(function() return a:size(1 << 40) end, "dim 1099511627776 out of range for a 2-d tensor")
  expect_error(function() return a:size((1 << 32) + 1) end, "dim 4294967297 out of range")
  expect_error(function() return a:transpose(1, (1 << 32) + 2) end, "dim 4294967298 out of range")
  expect_error(function() return a:unsqueeze(-(1 << 40)) end, "dim -1099511627776 out of range for a 3-d tensor")
  expect_error(function() return a:sum((1 << 32) + 1) end, "dim 4294967297")
  expect_error(function() return a:softmax((1 << 32) + 1) end, "dim 4294967297")
  expect_error(function() return a:narrow((1 << 32) + 1, 1, 1) end, "dim 4294967297")
  expect_error(function() return tensor.cat({a, a}, (1 << 32) + 1) end, "dim 4294967297")
  expect_error(function() return a[(1 << 32) + 1] end, "index 4294967297 is out of range for dim 1 of size 2")
  expect_error(function() a[(1 << 32) + 1] = 1 end, "index 4294967297 is out of range")
  expect_error(function() return tensor.eye((1 << 32) + 2, -(1 << 40)) end, "size must be >= 0, got -1099511627776")
  expect_error(function() return tensor.ones(3):item() end, "item: tensor of shape [3] has 3 elements, expected 1")
end)

test("var and std: a correction past int is refused, past n gives inf", function()
  local x = tensor.arange(4)
  expect_error(function() return x:var{correction = 2 ^ 40} end,
    "var: correction 1099511627776 is out of range (-2147483648..2147483647)")
  expect_error(function() return x:std{correction = -(2 ^ 40)} end, "std: correction -1099511627776 is out of range")
  expect_error(function() return x:var{correction = (1 << 32) + 1} end, "correction 4294967297")
  expect_error(function() return x:var{correction = 0.5} end, "number has no integer representation")
  check_eq(x:var{correction = 4}:item(), math.huge)   -- PyTorch: divides by max(0, n - correction)
  check_eq(x:var{correction = 5}:item(), math.huge)
  check_close(x:var{correction = -1}:item(), 1.0)     -- 5 / 5
  check_close(x:var{correction = 0}:item(), 1.25)
  check_close(x:var():item(), 5 / 3, 1e-6)
end)

test("uniform_ and normal_ refuse non-finite bounds and ranges that overflow float32", function()
  local x = tensor.zeros(4)
  expect_error(function() x:uniform_(-math.huge, math.huge) end, "a must be a finite float32 number, got -inf")
  expect_error(function() x:uniform_(0, math.huge) end, "b must be a finite float32 number, got inf")
  expect_error(function() x:uniform_(0 / 0, 1) end, "a must be a finite float32 number")
  expect_error(function() x:uniform_(0, 1e39) end, "b must be a finite float32 number, got 1e+39")
  expect_error(function() x:uniform_(-3e38, 3e38) end, "uniform_: the range b - a = 3e+38 - (-3e+38) overflows float32")
  expect_error(function() x:uniform_(2, 1) end, "uniform_: expected a <= b")
  expect_error(function() x:normal_(0, math.huge) end, "std must be a finite float32 number, got inf")
  expect_error(function() x:normal_(-math.huge, 1) end, "mean must be a finite float32 number, got -inf")
  expect_error(function() x:normal_(0, 1e38) end, "normal_: mean 0 and std 1e+38 give samples beyond float32's largest number")
  expect_error(function() x:normal_(3e38, 1e37) end, "beyond float32")
  expect_error(function() nn.init.uniform_(x, -math.huge, math.huge) end, "finite float32")
  expect_error(function() nn.init.normal_(x, 0, 0 / 0) end, "finite float32")
  x:uniform_(-1e38, 1e38)
  for i = 1, 4 do assert(math.abs(x[i]) <= 1e38, "uniform_ stays in range") end
  x:normal_(0, 1e36)
  for i = 1, 4 do assert(x[i] == x[i] and math.abs(x[i]) < math.huge, "normal_ stays finite") end
end)

test("matmul of an expanded 1-d tensor reads only its storage (found by fuzz_shape)", function()
  -- a 1-d operand with stride 0 was taken as contiguous: read past its one element
  local a = tensor.ones(1):expand(64)
  check_eq(a:matmul(a):item(), 64)
  check_close(tensor.ones(1):expand(3):matmul(tensor.ones(3, 2)), {3, 3})
  check_close(tensor.ones(3, 2):matmul(tensor.ones(1):expand(2)), {2, 2, 2})
  check_close(tensor.arange(3):matmul(tensor.new{2}:expand(3)), 12)
  check_close(tensor.ones(1, 1):expand(2, 3):matmul(tensor.arange(3)), {6, 6})
  local x = tensor.ones(1):expand(4):requires_grad_()
  local y = tensor.arange(4):requires_grad_()
  x:matmul(y):backward()
  check_close(y.grad, {1, 1, 1, 1})
end)

test("reducing an empty tensor does not walk its huge other dims (found by fuzz_shape)", function()
  -- [2^17, 2^17, 3, 0]:sum(3) looped 2^34 times over nothing; softmax likewise
  local t0 = os.clock()
  local f = tensor.zeros(1 << 17, 1 << 17, 3, 0)
  check_eq(f:sum(3):numel(), 0)
  check_eq(f:mean(3, true):numel(), 0)
  check_eq(f:std(3):numel(), 0)
  check_eq(f:softmax(3):numel(), 0)
  check_eq(f:log_softmax(1):numel(), 0)
  check_eq(nn.functional.log_softmax(f, 2):numel(), 0)
  local e = tensor.zeros(1 << 19, 0, 1 << 19)
  check_eq(e:sum(1):numel(), 0)
  check_eq(e:sum():item(), 0)
  expect_error(function() return e:max(2) end, "max: cannot reduce an empty tensor")
  assert(os.clock() - t0 < 5, "took " .. (os.clock() - t0) .. " s")
  check_close(tensor.zeros(2, 0, 3):sum(2), {{0, 0, 0}, {0, 0, 0}})   -- over the empty dim: zeros
end)

test("totable of a huge (expanded) tensor is refused before Lua builds gigabytes of tables", function()
  local t = tensor.ones(1):expand(2^19, 2^19)
  local err = expect_error(function() return t:totable() end, "totable: a tensor of shape [524288, 524288] has 274877906944 elements")
  assert(err:find("take a part first", 1, true), err)
  check_eq(#tensor.ones(3):expand(4, 3):totable(), 4)
end)
