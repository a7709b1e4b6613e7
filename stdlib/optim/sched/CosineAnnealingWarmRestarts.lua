-- optim/sched/CosineAnnealingWarmRestarts.lua -- cosine restarting every T_i epochs,
-- T_i = T_0 * T_mult^k; step([epoch]) accepts a fractional epoch

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_number, check_posint, check_optimizer = B.check_number, B.check_posint, B.check_optimizer
local class, map_base = B.class, B.map_base

local CAWR = class("CosineAnnealingWarmRestarts", {"T_0", "T_mult", "eta_min"})
function CAWR.new(opt, opts)
  local name = "CosineAnnealingWarmRestarts"
  check_optimizer(name, opt)
  local o = options(name, opts, {T_0 = REQUIRED, T_mult = 1, eta_min = 0}, {"T_0", "T_mult", "eta_min"})
  local self = setmetatable({}, CAWR)
  self.T_0 = check_posint(name, "T_0", o.T_0)
  self.T_mult = check_posint(name, "T_mult", o.T_mult)
  self.eta_min = check_number(name, "eta_min", o.eta_min)
  self.T_i = self.T_0
  self.T_cur = -1
  return self:_init(opt)
end
function CAWR.get_lr(self)
  local eta = self.eta_min
  return map_base(self, function(b)
    return eta + (b - eta) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
  end)
end
function CAWR.step(self, epoch)
  if epoch == nil and self.last_epoch < 0 then epoch = 0 end
  if epoch == nil then
    epoch = self.last_epoch + 1
    self.T_cur = self.T_cur + 1
    if self.T_cur >= self.T_i then
      self.T_cur = self.T_cur - self.T_i
      self.T_i = self.T_i * self.T_mult
    end
  else
    check_number(self._name .. ":step", "epoch", epoch)
    if epoch < 0 then bad(self._name .. ":step", "epoch", "non-negative", epoch) end
    if epoch >= self.T_0 then
      if self.T_mult == 1 then
        self.T_cur = epoch % self.T_0
      else
        -- Python's math.log(x, base) is log(x) / log(base)
        local n = math.tointeger(math.floor(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1)
                                            / math.log(self.T_mult)))
        self.T_cur = epoch - self.T_0 * (self.T_mult ^ n - 1) / (self.T_mult - 1)
        self.T_i = self.T_0 * self.T_mult ^ n
      end
    else
      self.T_i = self.T_0
      self.T_cur = epoch
    end
  end
  self.last_epoch = math.floor(epoch)
  local values = self:get_lr()
  for i, g in ipairs(self.optimizer.param_groups) do g.lr = values[i] end
  self._last_lr = self:_lrs()
end
return CAWR
