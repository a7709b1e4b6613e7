-- optim/sched/ExponentialLR.lua -- lr times gamma every epoch
--   ExponentialLR(optimizer, gamma, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local ExponentialLR = B.class("ExponentialLR", {
  {"gamma", B.REQUIRED, check = B.positive}, B.last_epoch, B.verbose,
}, {"gamma"})

function ExponentialLR:_setup(a)
  self.gamma = a.gamma
end
function ExponentialLR:get_lr()
  if self.last_epoch == 0 then return self:_same_lrs() end
  return self:_each_group(function(g) return g.lr * self.gamma end)
end
function ExponentialLR:_closed_form()
  return self:_each_base(function(b) return b * self.gamma ^ self.last_epoch end)
end
return ExponentialLR
