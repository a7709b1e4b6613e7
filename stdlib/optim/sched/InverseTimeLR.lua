-- optim/sched/InverseTimeLR.lua -- initial_lr / (1 + decay * t), the lectures' 1/t decay
-- (not in PyTorch)
--   InverseTimeLR(optimizer, decay, last_epoch = -1)

local B = require "optim.sched.base"

local InverseTimeLR = B.class("InverseTimeLR", {
  {"decay", B.REQUIRED, check = B.nonneg}, B.last_epoch,
}, {"decay"})

function InverseTimeLR:_setup(a)
  self.decay = a.decay
end
function InverseTimeLR:get_lr()
  return self:_each_base(function(b) return b / (1 + self.decay * self.last_epoch) end)
end
return InverseTimeLR
