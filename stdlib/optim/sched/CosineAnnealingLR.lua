-- optim/sched/CosineAnnealingLR.lua -- cosine from initial_lr to eta_min over T_max epochs
-- (PyTorch's recursive form; step(epoch) uses the closed form)

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_number, check_posint, check_optimizer = B.check_number, B.check_posint, B.check_optimizer
local class, map_groups, map_base = B.class, B.map_groups, B.map_base
local same_lrs = B.same_lrs

local CosineAnnealingLR = class("CosineAnnealingLR", {"T_max", "eta_min"})
function CosineAnnealingLR.new(opt, opts)
  local name = "CosineAnnealingLR"
  check_optimizer(name, opt)
  local o = options(name, opts, {T_max = REQUIRED, eta_min = 0}, {"T_max", "eta_min"})
  local self = setmetatable({}, CosineAnnealingLR)
  self.T_max = check_posint(name, "T_max", o.T_max)
  self.eta_min = check_number(name, "eta_min", o.eta_min)
  if self.eta_min < 0 then bad(name, "eta_min", "non-negative", self.eta_min) end
  return self:_init(opt)
end
function CosineAnnealingLR.get_lr(self)
  local e, T, eta = self.last_epoch, self.T_max, self.eta_min
  if e == 0 then return same_lrs(self) end
  if self._step_count == 1 and e > 0 then
    return map_base(self, function(b) return eta + (b - eta) * (1 + math.cos(e * math.pi / T)) / 2 end)
  end
  if (e - 1 - T) % (2 * T) == 0 then
    return map_groups(self, function(g, i)
      return g.lr + (self.base_lrs[i] - eta) * (1 - math.cos(math.pi / T)) / 2
    end)
  end
  return map_groups(self, function(g)
    return (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (g.lr - eta) + eta
  end)
end
function CosineAnnealingLR._closed_form(self)
  local e, T, eta = self.last_epoch, self.T_max, self.eta_min
  return map_base(self, function(b) return eta + (b - eta) * (1 + math.cos(math.pi * e / T)) / 2 end)
end
return CosineAnnealingLR
