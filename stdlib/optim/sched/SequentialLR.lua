-- optim/sched/SequentialLR.lua -- schedulers[k] runs from milestones[k-1] on

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_optimizer, check_increasing, deepcopy = B.check_optimizer, B.check_increasing, B.deepcopy
local Base, class = B.Base, B.class

local SequentialLR = class("SequentialLR", {"milestones"})
function SequentialLR.new(opt, opts)
  local name = "SequentialLR"
  check_optimizer(name, opt)
  local o = options(name, opts, {schedulers = REQUIRED, milestones = REQUIRED}, {"schedulers", "milestones"})
  local scheds = o.schedulers
  if type(scheds) ~= "table" or #scheds == 0 then
    bad(name, "schedulers", "a non-empty array of schedulers", scheds)
  end
  for i, s in ipairs(scheds) do
    if type(s) ~= "table" or type(s.step) ~= "function" or s.optimizer == nil then
      bad(name, "schedulers[" .. i .. "]", "a scheduler", s)
    end
    if not rawequal(s.optimizer, opt) then
      error(string.format("%s: schedulers[%d] belongs to a different optimizer", name, i), 2)
    end
  end
  local ms = check_increasing(name, "milestones", o.milestones)
  if #ms ~= #scheds - 1 then
    error(string.format("%s: milestones must have one entry fewer than schedulers (%d schedulers, %d milestones)",
      name, #scheds, #ms), 2)
  end
  local self = setmetatable({}, SequentialLR)
  self.optimizer = opt
  self._schedulers = {}
  for i, s in ipairs(scheds) do self._schedulers[i] = s end
  self.milestones = deepcopy(ms)
  self.last_epoch = 0
  for _, g in ipairs(opt.param_groups) do g.lr = g.initial_lr end
  for _, s in ipairs(self._schedulers) do s.last_epoch = s.last_epoch - 1 end
  self._schedulers[1]:_initial_step()
  self._last_lr = self._schedulers[1]:get_last_lr()
  return self
end
function SequentialLR.step(self)
  self.last_epoch = self.last_epoch + 1
  local idx = 0                            -- bisect_right
  for _, m in ipairs(self.milestones) do if m <= self.last_epoch then idx = idx + 1 end end
  local s = self._schedulers[idx + 1]
  if idx > 0 and self.milestones[idx] == self.last_epoch then s:step(0) else s:step() end
  self._last_lr = s:get_last_lr()
end
function SequentialLR.state_dict(self)
  local sd = Base.state_dict(self)
  sd._schedulers = {}
  for i, s in ipairs(self._schedulers) do sd._schedulers[i] = s:state_dict() end
  return sd
end
function SequentialLR.load_state_dict(self, sd)
  Base.load_state_dict(self, sd)
  if type(sd._schedulers) == "table" then
    for i, s in ipairs(sd._schedulers) do self._schedulers[i]:load_state_dict(s) end
  end
end
return SequentialLR
