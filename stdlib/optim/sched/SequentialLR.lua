-- optim/sched/SequentialLR.lua -- schedulers[k] runs from milestones[k-1] on
--   SequentialLR(optimizer, schedulers, milestones, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local SequentialLR = B.class("SequentialLR", {
  {"schedulers", B.REQUIRED, table = true}, {"milestones", B.REQUIRED, table = true, check = B.increasing},
  B.last_epoch, B.verbose,
}, {"milestones"})

function SequentialLR:_setup(a, opt)
  local fn = self.__name
  local scheds = a.schedulers
  if type(scheds) ~= "table" or #scheds == 0 then
    B.bad(fn, "schedulers", "a non-empty array of schedulers", scheds)
  end
  for i, s in ipairs(scheds) do
    if type(s) ~= "table" or type(s.step) ~= "function" or s.optimizer == nil then
      B.bad(fn, "schedulers[" .. i .. "]", "a scheduler", s)
    end
    if s.__name == "ReduceLROnPlateau" then
      error(string.format("%s: schedulers[%d] is a ReduceLROnPlateau, whose step needs a metric; "
        .. "SequentialLR cannot run it (PyTorch refuses it too)", fn, i), 2)
    end
    if not rawequal(s.optimizer, opt) then
      error(string.format("%s: schedulers[%d] belongs to a different optimizer", fn, i), 2)
    end
  end
  local ms = a.milestones
  if #ms ~= #scheds - 1 then
    error(string.format("%s: milestones must have one entry fewer than schedulers (%d schedulers, %d milestones)",
      fn, #scheds, #ms), 2)
  end
  self._schedulers = {}
  for i, s in ipairs(scheds) do self._schedulers[i] = s end
  self.milestones = ms
end
-- back to the initial lrs, the schedulers' own initial steps undone, then
-- the first scheduler's initial step; last_epoch counts from last_epoch + 1
function SequentialLR:_start(opt, last_epoch)
  self.optimizer = opt
  self.last_epoch = last_epoch + 1
  for _, g in ipairs(opt.param_groups) do g.lr = g.initial_lr end
  for _, s in ipairs(self._schedulers) do s.last_epoch = s.last_epoch - 1 end
  self._schedulers[1]:_initial_step()
  self._last_lr = self._schedulers[1]:get_last_lr()
end
function SequentialLR:step()
  local undo <close> = B.undo_on_error(self)   -- a child's failed step moves nothing
  self.last_epoch = self.last_epoch + 1
  local idx = 0                            -- bisect_right
  for _, m in ipairs(self.milestones) do if m <= self.last_epoch then idx = idx + 1 end end
  local s = self._schedulers[idx + 1]
  if idx > 0 and self.milestones[idx] == self.last_epoch then s:step(0) else s:step() end
  self._last_lr = s:get_last_lr()
end
function SequentialLR:state_dict()
  local sd = B.Base.state_dict(self)
  sd._schedulers = {}
  for i, s in ipairs(self._schedulers) do sd._schedulers[i] = s:state_dict() end
  return sd
end
-- all or nothing: its own state and every child's are checked before any is loaded
function SequentialLR:load_state_dict(sd)
  local problems = self:_state_problems(sd)
  if #problems == 0 then
    if #sd._schedulers ~= #self._schedulers then
      problems[1] = string.format("'_schedulers' holds %d schedulers, this one has %d",
                                  #sd._schedulers, #self._schedulers)
    end
    for i, s in ipairs(self._schedulers) do
      for _, p in ipairs(#problems == 0 and s:_state_problems(sd._schedulers[i]) or {}) do
        problems[#problems + 1] = string.format("scheduler %d (%s): %s", i, s.__name, p)
      end
    end
  end
  if #problems > 0 then
    error(string.format("SequentialLR:load_state_dict: %s (nothing was loaded)", table.concat(problems, "; ")), 2)
  end
  B.Base.load_state_dict(self, sd)
  for i, s in ipairs(sd._schedulers) do self._schedulers[i]:load_state_dict(s) end
end
return SequentialLR
