-- util.lua -- what bench/bench.lua and bench/portable.lua both need: shell
-- quoting and commands, and medians.
--   local U = require "util"
local U = {}

function U.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- the standard output of cmd, and whether it succeeded
function U.sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  return out, p:close() == true
end

-- the median of the numbers in t (the mean of the middle two when even), nil when empty
function U.median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  return (s[(n + 1) // 2] + s[n // 2 + 1]) / 2
end

function U.minmax(t)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(t) do lo, hi = math.min(lo, v), math.max(hi, v) end
  return lo, hi
end

return U
