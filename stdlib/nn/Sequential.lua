-- nn.Sequential(m1, m2, ...): runs its children in order. Children are named
-- by 1-based position, so parameters read "1.weight", "3.bias".
local tensor = require "tensor"
local Module = require "nn.Module"
local Sequential = Module:extend("Sequential")

function Sequential:init(...)
  rawset(self, "_where", setmetatable({}, {__mode = "k"}))
  for i = 1, select("#", ...) do self:add((select(i, ...))) end
end

function Sequential:add(m)
  if not Module.is_module(m) then
    error(string.format("Sequential: child %d is a %s, expected a module", #self._order + 1,
                        tensor.is_tensor(m) and "tensor" or type(m)), 2)
  end
  self[tostring(#self._order + 1)] = m
  return self
end

-- "Sequential: child 3 (Linear)", made once per child: the error handler
-- (nnlua.errors) puts the _where of a running child in front of its errors
local function where(self, i, m)
  local w = self._where[m]
  if w == nil then
    w = string.format("%s: child %d (%s)", self.__name, i, m.__name)
    self._where[m] = w
  end
  return w
end

function Sequential:forward(x, ...)
  local modules = self._modules
  for i, name in ipairs(self._order) do
    local m = modules[name]
    local _where = where(self, i, m)   -- luacheck: ignore (read by the error handler)
    x = m(x, ...)
  end
  return x
end

-- seq[i] and #seq
local base_index = Sequential.__index
Sequential.__index = function(self, k)
  if math.type(k) == "integer" then return rawget(self, "_modules")[tostring(k)] end
  return base_index(self, k)
end
Sequential.__len = function(self) return #rawget(self, "_order") end

return Sequential
