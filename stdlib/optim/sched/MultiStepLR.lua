-- optim/sched/MultiStepLR.lua -- lr times gamma at each milestone epoch
--   MultiStepLR(optimizer, milestones, gamma = 0.1, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local MultiStepLR = B.class("MultiStepLR", {
  {"milestones", B.REQUIRED, table = true, check = B.increasing}, {"gamma", 0.1, check = B.positive},
  B.last_epoch, B.verbose,
}, {"milestones", "gamma"})

function MultiStepLR:_setup(a)
  self.milestones, self.gamma = a.milestones, a.gamma
end
function MultiStepLR:get_lr()
  for _, m in ipairs(self.milestones) do
    if m == self.last_epoch then
      return self:_each_group(function(g) return g.lr * self.gamma ^ 1 end)
    end
  end
  return self:_same_lrs()
end
function MultiStepLR:_closed_form()
  local n = 0                             -- bisect_right: milestones <= last_epoch
  for _, m in ipairs(self.milestones) do if m <= self.last_epoch then n = n + 1 end end
  return self:_each_base(function(b) return b * self.gamma ^ n end)
end
return MultiStepLR
