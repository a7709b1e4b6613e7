-- optim/sched/PolynomialLR.lua -- initial_lr * (1 - t / total_iters)^power
--   PolynomialLR(optimizer, total_iters = 5, power = 1, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local PolynomialLR = B.class("PolynomialLR", {
  {"total_iters", 5, check = B.posint}, {"power", 1, check = B.number}, B.last_epoch, B.verbose,
}, {"total_iters", "power"})

function PolynomialLR:_setup(a)
  self.total_iters, self.power = a.total_iters, a.power
end
function PolynomialLR:get_lr()
  local e, n = self.last_epoch, self.total_iters
  if e == 0 or e > n then return self:_same_lrs() end
  local f = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ^ self.power
  return self:_each_group(function(g) return g.lr * f end)
end
function PolynomialLR:_closed_form()
  local e, n = self.last_epoch, self.total_iters
  return self:_each_base(function(b) return b * (1.0 - math.min(n, e) / n) ^ self.power end)
end
return PolynomialLR
