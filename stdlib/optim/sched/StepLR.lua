-- optim/sched/StepLR.lua -- lr times gamma every step_size epochs

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_number, check_posint, check_optimizer = B.check_number, B.check_posint, B.check_optimizer
local class, map_groups, map_base = B.class, B.map_groups, B.map_base
local same_lrs = B.same_lrs

local StepLR = class("StepLR", {"step_size", "gamma"})
function StepLR.new(opt, opts)
  check_optimizer("StepLR", opt)
  local o = options("StepLR", opts, {step_size = REQUIRED, gamma = 0.1}, {"step_size", "gamma"})
  local self = setmetatable({}, StepLR)
  self.step_size = check_posint("StepLR", "step_size", o.step_size)
  self.gamma = check_number("StepLR", "gamma", o.gamma)
  if self.gamma <= 0 then bad("StepLR", "gamma", "positive", self.gamma) end
  return self:_init(opt)
end
function StepLR.get_lr(self)
  if self.last_epoch == 0 or self.last_epoch % self.step_size ~= 0 then return same_lrs(self) end
  return map_groups(self, function(g) return g.lr * self.gamma end)
end
function StepLR._closed_form(self)
  return map_base(self, function(b) return b * self.gamma ^ (self.last_epoch // self.step_size) end)
end
return StepLR
