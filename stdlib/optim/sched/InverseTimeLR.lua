-- optim/sched/InverseTimeLR.lua -- initial_lr / (1 + decay * t), the lectures' 1/t decay
-- (not in PyTorch)

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_number, check_optimizer, class = B.check_number, B.check_optimizer, B.class
local map_base = B.map_base

local InverseTimeLR = class("InverseTimeLR", {"decay"})
function InverseTimeLR.new(opt, opts)
  local name = "InverseTimeLR"
  check_optimizer(name, opt)
  local o = options(name, opts, {decay = REQUIRED}, {"decay"})
  local self = setmetatable({}, InverseTimeLR)
  self.decay = check_number(name, "decay", o.decay)
  if self.decay < 0 then bad(name, "decay", "non-negative", self.decay) end
  return self:_init(opt)
end
function InverseTimeLR.get_lr(self)
  return map_base(self, function(b) return b / (1 + self.decay * self.last_epoch) end)
end
return InverseTimeLR
