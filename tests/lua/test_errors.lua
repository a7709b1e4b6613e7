-- The one error boundary (bindings/errors.c, nnlua.errors): messages from
-- nnlua's own files point at the user's line, containers add their context,
-- and tracebacks show the user's frames only.
local errors = require "nnlua.errors"

-- runs f under the handler as the host does; returns the message and traceback
local function caught(f)
  local ok, msg = xpcall(f, errors.handler)
  assert(not ok, "expected an error")
  return msg
end

local THIS = "test_errors.lua"
local function line_of(msg) return tonumber(msg:match(THIS .. ":(%d+):")) end

test("a layer's error raised in stdlib points at the caller's line", function()
  local lin = nn.Linear(4, 3)
  local here = debug.getinfo(1, "l").currentline + 1
  local msg = caught(function() return (lin(tensor.zeros(2, 5))) end)
  assert(msg:find("^[^\n]*" .. THIS .. ":" .. here .. ": Linear%(4, 3%): input of shape %[2, 5%]"), msg)
end)

test("the traceback keeps the user's frames (a helper called from forward) and no stdlib frame", function()
  local Net = nn.Module:extend("Net")
  local function helper(m, x)
    local y = m(x)                                  -- the failing call
    return y
  end
  local helper_line = debug.getinfo(1, "l").currentline - 3
  function Net:init() self.fc = nn.Linear(4, 3); self.out = nn.Linear(2, 1) end
  function Net:forward(x)
    local h = helper(self.out, self.fc(x))
    return h
  end
  local fwd_line = debug.getinfo(1, "l").currentline - 3
  local msg = caught(function() local y = Net()(tensor.zeros(2, 4)); return y end)
  check_eq(line_of(msg), helper_line, "the message points at the helper's line")
  assert(msg:find(THIS .. ":" .. helper_line .. ": in upvalue 'helper'", 1, true), msg)
  assert(msg:find(THIS .. ":" .. fwd_line .. ": in method 'forward'", 1, true), msg)
  assert(not msg:find("stdlib/"), msg)
  assert(not msg:find("[C]", 1, true), msg)
  assert(not msg:find("tail calls", 1, true), msg)
end)

test("Sequential names the child that failed, nested ones each", function()
  local inner = nn.Sequential(nn.ReLU(), nn.Linear(5, 2))
  local model = nn.Sequential(nn.Linear(4, 3), inner)
  local here = debug.getinfo(1, "l").currentline + 1
  local msg = caught(function() return (model(tensor.zeros(2, 4))) end)
  assert(msg:find(THIS .. ":" .. here .. ": Sequential: child 2 %(Sequential%): Sequential: child 2 %(Linear%): "
                  .. "Linear%(5, 2%): input of shape %[2, 3%]"), msg)
end)

test("a user's own error inside forward keeps its location and gets the child's context", function()
  local Boom = nn.Module:extend("Boom")
  function Boom:forward() error("my own error") end
  local boom_line = debug.getinfo(1, "l").currentline - 1
  local model = nn.Sequential(nn.Identity(), Boom())
  local msg = caught(function() return (model(tensor.zeros(1))) end)
  assert(msg:find(THIS .. ":" .. boom_line .. ": Sequential: child 2 (Boom): my own error", 1, true), msg)
end)

test("a message caught and raised again does not get the context twice", function()
  local Boom = nn.Module:extend("Boom")
  function Boom:forward() error("once") end
  local Rethrow = nn.Module:extend("Rethrow")
  function Rethrow:forward(x)
    local ok, err = xpcall(function() return self.b(x) end, errors.message)
    if not ok then error(err, 0) end
  end
  function Rethrow:init() self.b = Boom() end
  local model = nn.Sequential(Rethrow())
  local msg = caught(function() return (model(tensor.zeros(1))) end)
  local _, n = msg:gsub("Sequential: child 1", "")
  check_eq(n, 1, "context count in " .. msg)
end)

test("errors.message gives the message without a traceback", function()
  local lin = nn.Linear(2, 2)
  local ok, msg = xpcall(function() return lin("x") end, errors.message)
  assert(not ok and not msg:find("traceback"), msg)
  assert(msg:find(THIS .. ":%d+: Linear: expected a tensor input, got string"), msg)
end)

test("error objects: __tostring is used, other values are named", function()
  local obj = setmetatable({}, {__tostring = function() return "custom object" end})
  local msg = caught(function() error(obj) end)
  assert(msg:find("^custom object\nstack traceback:"), msg)
  msg = caught(function() error({}) end)
  assert(msg:find("^%(error object is a table value%)"), msg)
  local ok, v = xpcall(function() error({}) end, errors.message)
  assert(not ok and type(v) == "table", "message leaves a plain error object alone")
end)

test("errors raised by C functions called from stdlib point at the user's line", function()
  local loss = nn.MSELoss()
  local here = debug.getinfo(1, "l").currentline + 1
  local msg = caught(function() return (loss(tensor.zeros(2), tensor.zeros(3))) end)
  check_eq(line_of(msg), here, "line of " .. msg)
  assert(not msg:find("stdlib/"), msg)
end)

test("a deep recursion in the user's code: the traceback skips the middle", function()
  local function down(n) if n == 0 then error("bottom") end local r = down(n - 1); return r end
  local msg = caught(function() return down(200) end)
  assert(msg:find("bottom", 1, true) and msg:find("%(skipping %d+ levels%)"), msg)
  local lines = select(2, msg:gsub("\n", ""))
  assert(lines < 30, "traceback has " .. lines .. " lines")
end)

test("stack overflow is reported, not crashed on", function()
  local function f() return 1 + f() end
  local msg = caught(f)
  assert(msg:find("stack overflow", 1, true), msg:sub(1, 200))
end)
