-- Methods called with '.' instead of ':' (Lua's most common slip): every
-- method of a tensor, a generator and a figure, called as x.sum(),
-- x.view(2, 3) or fig.save("a.png"), says "call it as x:sum(...)" at the
-- caller's line. The methods are enumerated from the metatables at run time
-- (a method added later is covered without touching this file); the lists
-- below are the ones that must be there (a lost method fails).

local expected = {
  tensor = {
    "abs", "add", "add_", "argmax", "argmin", "backward", "clamp", "clamp_", "clone", "contiguous",
    "copy_", "detach", "dim", "div", "div_", "eq", "equal", "exp", "expand", "fill_", "flatten",
    "gather", "ge", "gt", "index_select", "item", "le", "log", "log_softmax", "lt", "masked_fill",
    "matmul", "max", "mean", "min", "mul", "mul_", "narrow", "ne", "neg", "normal_", "numel",
    "permute", "pow", "relu", "requires_grad_", "reshape", "sigmoid", "sign", "size", "softmax",
    "sqrt", "squeeze", "std", "sub", "sub_", "sum", "t", "tanh", "totable", "transpose", "uniform_",
    "unsqueeze", "var", "view", "zero_",
  },
  generator = {"get_state", "initial_seed", "manual_seed", "set_state"},
  figure = {"close", "pixels", "save"},
}

local function small_figure()
  return plot.lines{width = 160, height = 120, series = {{y = {1, 2}}}}
end

-- each type: its receiver's name in the message, a fresh object, and the
-- names of its methods as found at run time
local types = {
  {kind = "tensor", receiver = "x", new = function() return tensor.ones(2, 3) end,
   methods = function(x)
     local names = {}
     for name in pairs(getmetatable(x).__methods) do
       if type(x[name]) == "function" then names[#names + 1] = name end   -- what x.name gives
     end
     return names
   end},
  {kind = "generator", receiver = "g", new = function() return tensor.Generator(7) end,
   methods = function(g)
     local names = {}
     for name, f in pairs(getmetatable(g).__index) do
       if type(f) == "function" then names[#names + 1] = name end
     end
     return names
   end},
  {kind = "figure", receiver = "fig", new = small_figure,
   methods = function(fig)
     local names = {}
     for name, f in pairs(getmetatable(fig).__index) do
       -- __tostring and the like are metamethods; new and init make a figure
       -- (plot.lines and the others call them), the user never does
       if type(f) == "function" and name:sub(1, 2) ~= "__" and name ~= "new" and name ~= "init" then
         names[#names + 1] = name
       end
     end
     return names
   end},
}

local function sorted(t)
  table.sort(t)
  return t
end

-- the wrong selves: what comes first when the colon is forgotten (each call
-- a statement, as in a script: a tail call would leave no line to point at)
local function wrong_selves(kind)
  local other = kind == "tensor" and tensor.Generator(1) or tensor.ones(2)
  return {
    {what = "nothing", call = function(obj, name) obj[name]() end},
    {what = "a number", call = function(obj, name) obj[name](2, 3) end},        -- x.view(2, 3)
    {what = "a table", call = function(obj, name) obj[name]({}) end},
    {what = kind == "tensor" and "a userdata" or "a tensor", call = function(obj, name) obj[name](other) end},
  }
end

-- the line of this file an error points at (nil when it points elsewhere)
local function line_of(e)
  return tonumber(e:match("^[^\n]-test_method_calls%.lua:(%d+):"))
end

for _, ty in ipairs(types) do
  test(ty.kind .. ": every expected method is there, and every method is a function", function()
    local have = {}
    for _, name in ipairs(ty.methods(ty.new())) do have[name] = true end
    local missing = {}
    for _, name in ipairs(expected[ty.kind]) do
      if not have[name] then missing[#missing + 1] = name end
    end
    check_eq(table.concat(missing, ", "), "", "methods missing")
  end)

  test(ty.kind .. ": every method called with '.' says to call it with ':' at the caller's line", function()
    local obj = ty.new()
    local names = sorted(ty.methods(obj))
    assert(#names >= #expected[ty.kind], "found only " .. #names .. " methods")
    local wrong, calls = {}, 0
    for _, name in ipairs(names) do
      for _, self in ipairs(wrong_selves(ty.kind)) do
        local call_line = debug.getinfo(self.call, "S").linedefined   -- each call is on one line
        local ok, e = pcall(self.call, obj, name)
        calls = calls + 1
        e = tostring(e)
        local want = string.format("%s: call it as %s:%s(...) with a colon; %s.%s(...) passes %s as self",
                                   name, ty.receiver, name, ty.receiver, name, self.what)
        if ok then
          wrong[#wrong + 1] = string.format("%s.%s(<%s>) raised no error", ty.receiver, name, self.what)
        elseif not e:find(want, 1, true) then
          wrong[#wrong + 1] = string.format("%s.%s(<%s>): %s", ty.receiver, name, self.what, e)
        elseif line_of(e) ~= call_line then
          wrong[#wrong + 1] = string.format("%s.%s(<%s>) points at line %s, not %d: %s", ty.receiver,
                                            name, self.what, line_of(e), call_line, e)
        end
      end
    end
    if #wrong > 0 then error(#wrong .. " of " .. calls .. " calls:\n" .. table.concat(wrong, "\n")) end
  end)
end

test("tensor: a method taken out of the tensor and called later still says how to call it", function()
  local x = tensor.ones(2, 3)
  local sum = x.sum
  expect_error(function() return sum() end, "sum: call it as x:sum(...)")
  expect_error(function() sum(5) end, "sum: call it as x:sum(...) with a colon; x.sum(...) passes a number as self")
  -- and with the tensor given explicitly it is an ordinary call
  check_eq(sum(x):item(), 6)
end)

test("a tensor first with '.' (x.matmul(y)) becomes self: the missing argument's error says so", function()
  local x, y = tensor.ones(2, 3), tensor.ones(3, 2)
  local cases = {
    {function() x.matmul(y) end, "bad argument #2 to 'matmul' (nn.Tensor expected, got no value; ", "matmul"},
    {function() x.add(y) end, "bad argument #2 to 'add' (number expected, got no value; ", "add"},
    {function() x.mul(y) end, "bad argument #2 to 'mul' (number expected, got no value; ", "mul"},
    {function() x.eq(y) end, "bad argument #2 to 'eq' (number expected, got no value; ", "eq"},
    {function() x.equal(y) end, "bad argument #2 to 'equal' (nn.Tensor expected, got no value; ", "equal"},
    {function() x.copy_(y) end, "bad argument #2 to 'copy_' (nn.Tensor expected, got no value; ", "copy_"},
    {function() x.add_(y) end, "bad argument #2 to 'add_' (number expected, got no value; ", "add_"},
    {function() x.masked_fill(x:gt(0), 0) end, "bad argument #2 to 'masked_fill' (nn.Tensor expected, got number; ",
     "masked_fill"},
  }
  for _, c in ipairs(cases) do
    local e = expect_error(c[1], c[2])
    check_eq(e:find("with '.' the first argument is self: call it as x:" .. c[3] .. "(...)", 1, true) ~= nil, true, e)
    check_eq(line_of(e), debug.getinfo(c[1], "S").linedefined, "the caller's line: " .. e)
  end
  -- called with ':' the same errors give no such advice
  for _, f in ipairs{function() x:matmul() end, function() x:add() end, function() x:masked_fill(0) end} do
    local e = expect_error(f, "bad argument #1 to")
    check_eq(e:find("call it as", 1, true), nil, e)
  end
end)

test("the colon form still works", function()
  local x = tensor.new{{1, 2, 3}, {4, 5, 6}}
  check_eq(x:sum():item(), 21)
  check_eq(table.concat(x:view(3, 2).shape, ","), "3,2")
  check_eq(x:equal(x:clone()), true)
  check_eq(x:max():item(), 6)
  check_eq(x:add_(1), x, "add_ returns the tensor")
  check_eq(x[2][3], 7)
  local w = tensor.ones(3, 1):requires_grad_()
  x:matmul(w):sum():backward()
  check_close(w.grad, {{7}, {9}, {11}}, 0)
  check_eq(x.eq(x, x):sum():item(), 6, "an explicit self with '.'")
  local g = tensor.Generator(3)
  check_eq(g:manual_seed(5), g, "manual_seed returns the generator")
  check_eq(g:initial_seed(), 5)
  local s = g:get_state()
  local a = tensor.rand(4, g)
  g:set_state(s)
  check_close(tensor.rand(4, g), a, 0, "state restored")
  local fig = small_figure()
  check_eq(table.concat(fig:pixels().shape, ","), "3,120,160")
  local dir = tmpdir()
  check_eq(fig:save(dir .. "/a.png"), fig, "save returns the figure")
  check_eq(#read_file(dir .. "/a.png") > 100, true, "a PNG written")
  os.remove(dir .. "/a.png")
  os.remove(dir)
  fig:close()
  expect_error(function() fig:pixels() end, "closed")
end)

test("module functions keep their argument errors", function()
  local cases = {
    {function() return tensor.allclose(1, tensor.ones(1)) end, "bad argument #1 to 'allclose' (nn.Tensor expected, got number)"},
    {function() return tensor.cat() end, "bad argument #1 to 'cat' (table expected"},
    {function() return tensor.zeros("a") end, "bad argument #1 to 'zeros'"},
    {function() return tensor.randperm(3, 5) end, "bad argument #2 to 'randperm' (nn.Generator expected, got number)"},
    {function() return plot.save_image(5, "a.png") end, "plot.save_image: expected a tensor, got number"},
    {function() return plot.lines(5) end, "plot.lines: options must be a table, got number"},
  }
  for _, c in ipairs(cases) do
    local e = expect_error(c[1], c[2])
    check_eq(e:find("call it as", 1, true), nil, "no method hint in: " .. e)
  end
  -- a method's other arguments keep their errors too
  local x = tensor.ones(2, 3)
  expect_error(function() return x:view("a") end, "bad argument #1 to 'view'")
  expect_error(function() return x:matmul(5) end, "bad argument #1 to 'matmul' (nn.Tensor expected, got number)")
  expect_error(function() return tensor.Generator(1):manual_seed("s") end, "seed must be an integer")
end)

test("properties and metamethods are not methods: they work as before", function()
  local x = tensor.new{{1, 2, 3}, {4, 5, 6}}
  check_eq(type(x.shape), "table")
  check_eq(table.concat(x.shape, ","), "2,3")
  check_eq(x.requires_grad, false)
  check_eq(x.grad, nil)
  check_eq(x.grad_fn, nil)
  check_eq(x.no_such_field, nil)
  check_eq(#x, 2)
  check_close(x + x, {{2, 4, 6}, {8, 10, 12}}, 0)
  check_close(-x, {{-1, -2, -3}, {-4, -5, -6}}, 0)
  check_close(2 * x - 1, {{1, 3, 5}, {7, 9, 11}}, 0)
  check_eq(tostring(x):find("tensor", 1, true) ~= nil, true)
  check_eq(x[2][1], 4)
  local w = tensor.ones(3):requires_grad_()
  local y = (w * 2):sum()
  check_eq(type(y.grad_fn), "string")
  y:backward()
  check_close(w.grad, {2, 2, 2}, 0)
  expect_error(function() return #tensor.new(1) end, "a 0-d tensor has no length")
  expect_error(function() return x + {} end, "number expected")
  check_eq(tostring(tensor.Generator(4)), "Generator(seed=4)")
  local fig = small_figure()
  check_eq(fig.kind, "lines")
  check_eq(fig.width, 160)
  check_eq(tostring(fig), "Figure(lines, 160x120)")
  fig:close()
end)
