-- views share storage: writing through a view changes the base

local function base() return tensor.new{{1, 2, 3}, {4, 5, 6}} end

test("view and reshape", function()
  local a = base()
  local v = a:view(3, 2)
  check_close(v, {{1, 2}, {3, 4}, {5, 6}})
  v[1][1] = 100
  check_eq(a[1][1], 100, "view shares storage")
  check_close(a:view(-1), {100, 2, 3, 4, 5, 6})
  check_close(a:view{2, -1}:size(2), 3)
  check_close(a:reshape(6), {100, 2, 3, 4, 5, 6})
  local r = a:t():reshape(6)          -- not viewable: a copy
  check_close(r, {100, 4, 2, 5, 3, 6})
  r[1] = 0
  check_eq(a[1][1], 100, "reshape of a transposed tensor copies")
  expect_error(function() a:t():view(6) end, "view: a tensor of shape [3, 2] with these strides cannot be viewed as [6] without a copy; use reshape")
  expect_error(function() a:view(4, 2) end, "view: shape [4, 2] is invalid for a tensor of shape [2, 3] (6 elements)")
  expect_error(function() a:view(-1, -1) end, "invalid size -1")
  expect_error(function() a:view(-2, 3) end, "sizes must be whole numbers >= 0 (or -1)")
  check_eq(a:view(1, 2, 1, 3, 1):dim(), 5)
end)

test("view of a narrowed tensor keeps the offset", function()
  local a = tensor.arange(12):view(3, 4)
  local n = a:narrow(1, 2, 2)          -- rows 2..3, contiguous
  check_close(n:view(8), {5, 6, 7, 8, 9, 10, 11, 12})
  local c = a:narrow(2, 2, 2)          -- columns 2..3, strided
  check_close(c:view(3, 2, 1):squeeze(3), {{2, 3}, {6, 7}, {10, 11}})
  expect_error(function() c:view(6) end, "without a copy")
end)

test("transpose, t, permute", function()
  local a = base()
  local t = a:t()
  check_close(t, {{1, 4}, {2, 5}, {3, 6}})
  t[3][1] = -3
  check_eq(a[1][3], -3)
  check_close(a:transpose(1, 2), t)
  check_close(tensor.new{1, 2}:t(), {1, 2})
  local x = tensor.arange(24):view(2, 3, 4)
  local p = x:permute(3, 1, 2)
  check_eq(table.concat(p.shape, ","), "4,2,3")
  check_eq(p[4][2][3], x[2][3][4])
  check_close(x:permute{2, 3, 1}:contiguous():view(-1)[1], 1)
  expect_error(function() x:t() end, "t: expects a tensor with <= 2 dims")
  expect_error(function() x:permute(1, 1, 2) end, "dim 1 appears twice")
  expect_error(function() x:permute(1, 2) end, "permute: got 2 dims for a tensor of shape [2, 3, 4]")
  expect_error(function() x:transpose(1, 4) end, "dim 4 out of range for a 3-d tensor")
end)

test("squeeze and unsqueeze", function()
  local a = tensor.zeros(1, 3, 1)
  check_eq(table.concat(a:squeeze().shape, ","), "3")
  check_eq(table.concat(a:squeeze(1).shape, ","), "3,1")
  check_eq(table.concat(a:squeeze(2).shape, ","), "1,3,1", "squeezing a dim that is not 1 keeps it")
  check_eq(table.concat(a:unsqueeze(1).shape, ","), "1,1,3,1")
  check_eq(table.concat(a:unsqueeze(4).shape, ","), "1,3,1,1")
  check_eq(table.concat(a:unsqueeze(-1).shape, ","), "1,3,1,1")
  local b = base()
  local u = b:unsqueeze(2)
  u[2][1][3] = 60
  check_eq(b[2][3], 60)
  expect_error(function() a:unsqueeze(5) end, "dim 5 out of range")
end)

test("flatten", function()
  local x = tensor.arange(24):view(2, 3, 4)
  check_eq(table.concat(x:flatten().shape, ","), "24")
  check_eq(table.concat(x:flatten(2).shape, ","), "2,12")
  check_eq(table.concat(x:flatten(1, 2).shape, ","), "6,4")
  check_eq(table.concat(tensor.new(3):flatten().shape, ","), "1")
  expect_error(function() x:flatten(3, 1) end, "start_dim 3 comes after end_dim 1")
end)

test("narrow", function()
  local a = base()
  local n = a:narrow(2, 2, 2)
  check_close(n, {{2, 3}, {5, 6}})
  n[1][1] = 20
  check_eq(a[1][2], 20)
  check_close(a:narrow(1, -1, 1), {{4, 5, 6}})
  expect_error(function() a:narrow(2, 3, 2) end, "narrow: start 3 and length 2 are out of range for dim 2 of size 3")
  expect_error(function() a:narrow(2, 0, 1) end, "out of range")
end)

test("expand", function()
  local a = tensor.new{{1}, {2}}
  local e = a:expand(2, 3)
  check_close(e, {{1, 1, 1}, {2, 2, 2}})
  check_close(a:expand(-1, 2), {{1, 1}, {2, 2}})
  check_close(tensor.new{1, 2}:expand(2, 2), {{1, 2}, {1, 2}})
  a[1][1] = 5
  check_eq(e[1][3], 5, "expand is a view")
  expect_error(function() a:expand(3, 3) end, "expand: cannot expand shape [2, 1] to [3, 3]")
  expect_error(function() a:expand(3) end, "cannot expand shape [2, 1] to [3]")
  expect_error(function() e:add_(tensor.ones(2, 3)) end, "add_: several elements of this tensor share memory")
  expect_error(function() e:mul_(2) end, "share memory")
  expect_error(function() e:copy_(tensor.ones(2, 3)) end, "copy_: several elements")
  e:fill_(4)                                 -- writing one value everywhere is harmless
  check_eq(a[2][1], 4)
end)

test("indexing x[i] and x[i] = v", function()
  local a = base()
  check_close(a[1], {1, 2, 3})
  check_eq(a[2][3], 6)
  check_eq(a[-1][-1], 6)
  check_eq(type(a[1][1]), "number")
  a[1] = 0
  check_close(a, {{0, 0, 0}, {4, 5, 6}})
  a[2] = tensor.new{7, 8, 9}
  check_close(a, {{0, 0, 0}, {7, 8, 9}})
  a[1] = tensor.new{1}                     -- broadcasts
  check_close(a[1], {1, 1, 1})
  a[2][2] = 42
  check_eq(a[2][2], 42)
  local row = a[2]; row[1] = -1
  check_eq(a[2][1], -1, "a[i] is a view")
  expect_error(function() return a[3] end, "index 3 is out of range for dim 1 of size 2 (indices are 1-based)")
  expect_error(function() return a[0] end, "index 0 is out of range")
  expect_error(function() return a[1.5] end, "tensor index must be an integer, got 1.5")
  expect_error(function() return tensor.new(1)[1] end, "cannot index a 0-d tensor")
  expect_error(function() a[1] = tensor.new{1, 2} end, "copy_: shapes [3] and [2] cannot be broadcast")
  expect_error(function() a[1] = "x" end, "number expected")
  expect_error(function() a.foo = 1 end, "cannot set field 'foo' of a tensor")
  expect_error(function() return #tensor.new(1) end, "a 0-d tensor has no length")
end)

test("contiguous and clone", function()
  local a = base()
  check_eq(rawequal(a:contiguous(), a), true)
  local t = a:t()
  local c = t:contiguous()
  check_eq(rawequal(c, t), false)
  check_close(c, t)
  c[1][1] = 99
  check_eq(a[1][1], 1)
end)

test("copy_ and fill_ through views", function()
  local a = tensor.zeros(3, 3)
  a:narrow(2, 2, 1):fill_(7)
  check_close(a, {{0, 7, 0}, {0, 7, 0}, {0, 7, 0}})
  a:t():copy_(tensor.new{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})
  check_close(a, {{1, 4, 7}, {2, 5, 8}, {3, 6, 9}})
  a:copy_(a:t())                             -- overlapping source is read before writing
  check_close(a, {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})
  check_eq(rawequal(a:zero_(), a), true)
  check_eq(a:sum():item(), 0)
end)
