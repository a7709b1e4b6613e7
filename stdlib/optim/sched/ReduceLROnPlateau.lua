-- optim/sched/ReduceLROnPlateau.lua -- lr times factor when step(metric) has not
-- improved for patience epochs
--   ReduceLROnPlateau(optimizer, mode = "min", factor = 0.1, patience = 10, threshold = 1e-4,
--                     threshold_mode = "rel", cooldown = 0, min_lr = 0, eps = 1e-8, verbose = false)

local B = require "optim.sched.base"

local function factor(v, fn, name)
  if B.number(v, fn, name) >= 1 then B.bad(fn, name, "< 1", v) end
  if v <= 0 then B.bad(fn, name, "positive", v) end
  return v
end

local oneof = B.oneof

local Plateau = B.class("ReduceLROnPlateau", {
  {"mode", "min", check = oneof("min", "max")}, {"factor", 0.1, check = factor},
  {"patience", 10, check = B.natural}, {"threshold", 1e-4, check = B.number},
  {"threshold_mode", "rel", check = oneof("rel", "abs")}, {"cooldown", 0, check = B.natural},
  {"min_lr", 0, table = true}, {"eps", 1e-8, check = B.number}, B.verbose,
}, {"mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"})

function Plateau:_setup(a, opt)
  self.factor = a.factor
  self.min_lr = a.min_lr
  self.min_lrs = B.per_group(self.__name, "min_lr", a.min_lr, #opt.param_groups)
  self.mode, self.threshold_mode = a.mode, a.threshold_mode
  self.threshold = a.threshold
  self.patience, self.cooldown = a.patience, a.cooldown
  self.eps = a.eps
  self.cooldown_counter = 0
  self.mode_worse = self.mode == "min" and math.huge or -math.huge
  self.best = self.mode_worse
  self.num_bad_epochs = 0
end
-- no initial step: the lrs stay as they are until a metric comes
function Plateau:_start(opt)
  self.optimizer = opt
  self.last_epoch = 0
  self._last_lr = self:_lrs()
end
function Plateau:is_better(a, best)
  if self.mode == "min" and self.threshold_mode == "rel" then return a < best * (1.0 - self.threshold)
  elseif self.mode == "min" then return a < best - self.threshold
  elseif self.threshold_mode == "rel" then return a > best * (self.threshold + 1.0)
  else return a > best + self.threshold end
end
function Plateau:step(metric, epoch)
  if type(metric) ~= "number" then
    local ok, v = pcall(function() return metric:item() end)
    if not ok or type(v) ~= "number" then
      error("ReduceLROnPlateau:step: argument #1 (metric) must be a number, got " .. type(metric), 2)
    end
    metric = v
  end
  if epoch == nil then epoch = self.last_epoch + 1 else B.number(epoch, "ReduceLROnPlateau:step", "epoch") end
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
