-- optim/sched/PolynomialLR.lua -- initial_lr * (1 - t / total_iters)^power

local B = require "optim.sched.base"
local options, check_number, check_posint = B.options, B.check_number, B.check_posint
local check_optimizer, class, map_groups = B.check_optimizer, B.class, B.map_groups
local map_base, same_lrs = B.map_base, B.same_lrs

local PolynomialLR = class("PolynomialLR", {"total_iters", "power"})
function PolynomialLR.new(opt, opts)
  local name = "PolynomialLR"
  check_optimizer(name, opt)
  local o = options(name, opts, {total_iters = 5, power = 1}, {"total_iters", "power"})
  local self = setmetatable({}, PolynomialLR)
  self.total_iters = check_posint(name, "total_iters", o.total_iters)
  self.power = check_number(name, "power", o.power)
  return self:_init(opt)
end
function PolynomialLR.get_lr(self)
  local e, n = self.last_epoch, self.total_iters
  if e == 0 or e > n then return same_lrs(self) end
  local f = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ^ self.power
  return map_groups(self, function(g) return g.lr * f end)
end
function PolynomialLR._closed_form(self)
  local e, n = self.last_epoch, self.total_iters
  return map_base(self, function(b) return b * (1.0 - math.min(n, e) / n) ^ self.power end)
end
return PolynomialLR
