-- optim/sched/StepLR.lua -- lr times gamma every step_size epochs
--   StepLR(optimizer, step_size, gamma = 0.1, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local StepLR = B.class("StepLR", {
  {"step_size", B.REQUIRED, check = B.posint}, {"gamma", 0.1, check = B.positive}, B.last_epoch, B.verbose,
}, {"step_size", "gamma"})

function StepLR:_setup(a)
  self.step_size, self.gamma = a.step_size, a.gamma
end
function StepLR:get_lr()
  if self.last_epoch == 0 or self.last_epoch % self.step_size ~= 0 then return self:_same_lrs() end
  return self:_each_group(function(g) return g.lr * self.gamma end)
end
function StepLR:_closed_form()
  return self:_each_base(function(b) return b * self.gamma ^ (self.last_epoch // self.step_size) end)
end
return StepLR
