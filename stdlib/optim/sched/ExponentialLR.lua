-- optim/sched/ExponentialLR.lua -- lr times gamma every epoch

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_number, check_optimizer, class = B.check_number, B.check_optimizer, B.class
local map_groups, map_base, same_lrs = B.map_groups, B.map_base, B.same_lrs

local ExponentialLR = class("ExponentialLR", {"gamma"})
function ExponentialLR.new(opt, opts)
  check_optimizer("ExponentialLR", opt)
  local o = options("ExponentialLR", opts, {gamma = REQUIRED}, {"gamma"})
  local self = setmetatable({}, ExponentialLR)
  self.gamma = check_number("ExponentialLR", "gamma", o.gamma)
  if self.gamma <= 0 then bad("ExponentialLR", "gamma", "positive", self.gamma) end
  return self:_init(opt)
end
function ExponentialLR.get_lr(self)
  if self.last_epoch == 0 then return same_lrs(self) end
  return map_groups(self, function(g) return g.lr * self.gamma end)
end
function ExponentialLR._closed_form(self)
  return map_base(self, function(b) return b * self.gamma ^ self.last_epoch end)
end
return ExponentialLR
