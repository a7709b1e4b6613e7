-- optim/sched/CosineAnnealingLR.lua -- cosine from initial_lr to eta_min over T_max epochs
-- (PyTorch's recursive form; step(epoch) uses the closed form)
--   CosineAnnealingLR(optimizer, T_max, eta_min = 0, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local CosineAnnealingLR = B.class("CosineAnnealingLR", {
  {"T_max", B.REQUIRED, check = B.posint}, {"eta_min", 0, check = B.nonneg}, B.last_epoch, B.verbose,
}, {"T_max", "eta_min"})

function CosineAnnealingLR:_setup(a)
  self.T_max, self.eta_min = a.T_max, a.eta_min
end
function CosineAnnealingLR:get_lr()
  local e, T, eta = self.last_epoch, self.T_max, self.eta_min
  if e == 0 then return self:_same_lrs() end
  if self._step_count == 1 and e > 0 then
    return self:_each_base(function(b) return eta + (b - eta) * (1 + math.cos(e * math.pi / T)) / 2 end)
  end
  if (e - 1 - T) % (2 * T) == 0 then
    return self:_each_group(function(g, i)
      return g.lr + (self.base_lrs[i] - eta) * (1 - math.cos(math.pi / T)) / 2
    end)
  end
  return self:_each_group(function(g)
    return (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (g.lr - eta) + eta
  end)
end
function CosineAnnealingLR:_closed_form()
  local e, T, eta = self.last_epoch, self.T_max, self.eta_min
  return self:_each_base(function(b) return eta + (b - eta) * (1 + math.cos(math.pi * e / T)) / 2 end)
end
return CosineAnnealingLR
