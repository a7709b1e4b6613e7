-- optim/sched/LinearLR.lua -- lr factor linear from start_factor to end_factor
-- over total_iters epochs

local B = require "optim.sched.base"
local options, bad, check_number = B.options, B.bad, B.check_number
local check_posint, check_optimizer, class = B.check_posint, B.check_optimizer, B.class
local map_groups, map_base, same_lrs = B.map_groups, B.map_base, B.same_lrs

local LinearLR = class("LinearLR", {"start_factor", "end_factor", "total_iters"})
function LinearLR.new(opt, opts)
  local name = "LinearLR"
  check_optimizer(name, opt)
  local o = options(name, opts, {start_factor = 1.0 / 3, end_factor = 1.0, total_iters = 5},
                    {"start_factor", "end_factor", "total_iters"})
  local self = setmetatable({}, LinearLR)
  self.start_factor = check_number(name, "start_factor", o.start_factor)
  if self.start_factor > 1 or self.start_factor <= 0 then
    bad(name, "start_factor", "in (0, 1]", self.start_factor)
  end
  self.end_factor = check_number(name, "end_factor", o.end_factor)
  if self.end_factor > 1 or self.end_factor < 0 then
    bad(name, "end_factor", "in [0, 1]", self.end_factor)
  end
  self.total_iters = check_posint(name, "total_iters", o.total_iters)
  return self:_init(opt)
end
function LinearLR.get_lr(self)
  local e, s, f, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
  if e == 0 then return map_groups(self, function(g) return g.lr * s end) end
  if e > n then return same_lrs(self) end
  return map_groups(self, function(g)
    return g.lr * (1.0 + (f - s) / (n * s + (e - 1) * (f - s)))
  end)
end
function LinearLR._closed_form(self)
  local e, s, f, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
  return map_base(self, function(b) return b * (s + (f - s) * math.min(n, e) / n) end)
end
return LinearLR
