-- nn.Sequential(m1, m2, ...): runs its children in order. Children are named
-- by 1-based position, so parameters read "1.weight", "3.bias".
local Module = require "nn.Module"
local Sequential = Module:extend("Sequential")

function Sequential:init(...)
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

function Sequential:forward(x, ...)
  for i, name in ipairs(self._order) do
    local m = self._modules[name]
    local ok, out = pcall(m.forward, m, x, ...)
    if not ok then
      error(string.format("Sequential: child %d (%s): %s", i, m.__name, tostring(out)), 2)
    end
    x = out
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
