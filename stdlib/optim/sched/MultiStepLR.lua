-- optim/sched/MultiStepLR.lua -- lr times gamma at each milestone epoch

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_number, check_optimizer, check_increasing = B.check_number, B.check_optimizer, B.check_increasing
local deepcopy, class, map_groups = B.deepcopy, B.class, B.map_groups
local map_base, same_lrs = B.map_base, B.same_lrs

local MultiStepLR = class("MultiStepLR", {"milestones", "gamma"})
function MultiStepLR.new(opt, opts)
  check_optimizer("MultiStepLR", opt)
  local o = options("MultiStepLR", opts, {milestones = REQUIRED, gamma = 0.1}, {"milestones", "gamma"})
  local self = setmetatable({}, MultiStepLR)
  self.milestones = deepcopy(check_increasing("MultiStepLR", "milestones", o.milestones))
  self.gamma = check_number("MultiStepLR", "gamma", o.gamma)
  if self.gamma <= 0 then bad("MultiStepLR", "gamma", "positive", self.gamma) end
  return self:_init(opt)
end
function MultiStepLR.get_lr(self)
  for _, m in ipairs(self.milestones) do
    if m == self.last_epoch then
      return map_groups(self, function(g) return g.lr * self.gamma ^ 1 end)
    end
  end
  return same_lrs(self)
end
function MultiStepLR._closed_form(self)
  local n = 0                             -- bisect_right: milestones <= last_epoch
  for _, m in ipairs(self.milestones) do if m <= self.last_epoch then n = n + 1 end end
  return map_base(self, function(b) return b * self.gamma ^ n end)
end
return MultiStepLR
