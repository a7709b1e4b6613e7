-- util.lua -- what the Lua fuzzers (views.lua, saved.lua) share.
--   local U = require "util"
local U = {}

function U.pick(t) return t[math.random(#t)] end

-- the elements of a tensor in row-major order, as a Lua array
function U.flat(t)
  local out = {}
  local function walk(v)
    if type(v) == "table" then for i = 1, #v do walk(v[i]) end else out[#out + 1] = v end
  end
  walk(t:totable())
  return out
end

return U
