-- optim/sched/LinearLR.lua -- lr factor linear from start_factor to end_factor
-- over total_iters epochs
--   LinearLR(optimizer, start_factor = 1/3, end_factor = 1, total_iters = 5, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local function start_factor(v, fn, name)
  if B.number(v, fn, name) > 1 or v <= 0 then B.bad(fn, name, "in (0, 1]", v) end
  return v
end

local function end_factor(v, fn, name)
  if B.number(v, fn, name) > 1 or v < 0 then B.bad(fn, name, "in [0, 1]", v) end
  return v
end

local LinearLR = B.class("LinearLR", {
  {"start_factor", 1.0 / 3, check = start_factor}, {"end_factor", 1.0, check = end_factor},
  {"total_iters", 5, check = B.posint}, B.last_epoch, B.verbose,
}, {"start_factor", "end_factor", "total_iters"})

function LinearLR:_setup(a)
  self.start_factor, self.end_factor, self.total_iters = a.start_factor, a.end_factor, a.total_iters
end
function LinearLR:get_lr()
  local e, s, f, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
  if e == 0 then return self:_each_group(function(g) return g.lr * s end) end
  if e > n then return self:_same_lrs() end
  return self:_each_group(function(g)
    return g.lr * (1.0 + (f - s) / (n * s + (e - 1) * (f - s)))
  end)
end
function LinearLR:_closed_form()
  local e, s, f, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
  return self:_each_base(function(b) return b * (s + (f - s) * math.min(n, e) / n) end)
end
return LinearLR
