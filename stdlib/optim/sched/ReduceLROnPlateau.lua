-- optim/sched/ReduceLROnPlateau.lua -- lr times factor when step(metric) has not
-- improved for patience epochs

local B = require "optim.sched.base"
local options, bad, is_int = B.options, B.bad, B.is_int
local check_number, check_optimizer, per_group = B.check_number, B.check_optimizer, B.per_group
local deepcopy, class = B.deepcopy, B.class

local Plateau = class("ReduceLROnPlateau", {"mode", "factor", "patience", "threshold",
  "threshold_mode", "cooldown", "min_lr", "eps"})
function Plateau.new(opt, opts)
  local name = "ReduceLROnPlateau"
  check_optimizer(name, opt)
  local order = {"mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"}
  local o = options(name, opts, {mode = "min", factor = 0.1, patience = 10, threshold = 1e-4,
    threshold_mode = "rel", cooldown = 0, min_lr = 0, eps = 1e-8}, order)
  local self = setmetatable({}, Plateau)
  self.factor = check_number(name, "factor", o.factor)
  if self.factor >= 1 then bad(name, "factor", "< 1", self.factor) end
  if self.factor <= 0 then bad(name, "factor", "positive", self.factor) end
  if o.mode ~= "min" and o.mode ~= "max" then bad(name, "mode", '"min" or "max"', o.mode) end
  if o.threshold_mode ~= "rel" and o.threshold_mode ~= "abs" then
    bad(name, "threshold_mode", '"rel" or "abs"', o.threshold_mode)
  end
  if not is_int(o.patience) or o.patience < 0 then bad(name, "patience", "a non-negative integer", o.patience) end
  if not is_int(o.cooldown) or o.cooldown < 0 then bad(name, "cooldown", "a non-negative integer", o.cooldown) end
  self.optimizer = opt
  self.min_lr = o.min_lr
  self.min_lrs = deepcopy(per_group(name, "min_lr", o.min_lr, #opt.param_groups))
  self.mode, self.threshold_mode = o.mode, o.threshold_mode
  self.threshold = check_number(name, "threshold", o.threshold)
  self.patience, self.cooldown = o.patience, o.cooldown
  self.eps = check_number(name, "eps", o.eps)
  self.cooldown_counter = 0
  self.mode_worse = self.mode == "min" and math.huge or -math.huge
  self.best = self.mode_worse
  self.num_bad_epochs = 0
  self.last_epoch = 0
  self._last_lr = self:_lrs()
  return self
end
function Plateau.is_better(self, a, best)
  if self.mode == "min" and self.threshold_mode == "rel" then return a < best * (1.0 - self.threshold)
  elseif self.mode == "min" then return a < best - self.threshold
  elseif self.threshold_mode == "rel" then return a > best * (self.threshold + 1.0)
  else return a > best + self.threshold end
end
function Plateau.step(self, metric, epoch)
  if type(metric) ~= "number" then
    local ok, v = pcall(function() return metric:item() end)
    if not ok or type(v) ~= "number" then
      error("ReduceLROnPlateau:step: argument #1 (metric) must be a number, got " .. type(metric), 2)
    end
    metric = v
  end
  if epoch == nil then epoch = self.last_epoch + 1 end
  self.last_epoch = epoch
  if self:is_better(metric, self.best) then
    self.best = metric
    self.num_bad_epochs = 0
  else
    self.num_bad_epochs = self.num_bad_epochs + 1
  end
  if self.cooldown_counter > 0 then
    self.cooldown_counter = self.cooldown_counter - 1
    self.num_bad_epochs = 0
  end
  if self.num_bad_epochs > self.patience then
    for i, g in ipairs(self.optimizer.param_groups) do
      local old = g.lr
      local new = math.max(old * self.factor, self.min_lrs[i])
      if old - new > self.eps then g.lr = new end
    end
    self.cooldown_counter = self.cooldown
    self.num_bad_epochs = 0
  end
  self._last_lr = self:_lrs()
end
return Plateau
