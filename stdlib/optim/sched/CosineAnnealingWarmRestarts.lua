-- optim/sched/CosineAnnealingWarmRestarts.lua -- cosine restarting every T_i epochs,
-- T_i = T_0 * T_mult^k; step([epoch]) accepts a fractional epoch
--   CosineAnnealingWarmRestarts(optimizer, T_0, T_mult = 1, eta_min = 0, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local CAWR = B.class("CosineAnnealingWarmRestarts", {
  {"T_0", B.REQUIRED, check = B.posint}, {"T_mult", 1, check = B.posint}, {"eta_min", 0, check = B.number},
  B.last_epoch, B.verbose,
}, {"T_0", "T_mult", "eta_min"})

function CAWR:_setup(a)
  self.T_0, self.T_mult, self.eta_min = a.T_0, a.T_mult, a.eta_min
  self.T_i = self.T_0
  self.T_cur = a.last_epoch
end
function CAWR:get_lr()
  local eta = self.eta_min
  return self:_each_base(function(b)
    return eta + (b - eta) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
  end)
end
function CAWR:step(epoch)
  if epoch == nil and self.last_epoch < 0 then epoch = 0 end
  if epoch == nil then
    epoch = self.last_epoch + 1
    self.T_cur = self.T_cur + 1
    if self.T_cur >= self.T_i then
      self.T_cur = self.T_cur - self.T_i
      self.T_i = self.T_i * self.T_mult
    end
  else
    local fn = self.__name .. ":step"
    B.nonneg(epoch, fn, "epoch")
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
