-- optim/sched/OneCycleLR.lua -- the 1cycle policy: up to max_lr, then down to
-- max_lr / div_factor / final_div_factor; also cycles momentum (or betas[1])
--   OneCycleLR(optimizer, max_lr, total_steps, epochs, steps_per_epoch, pct_start = 0.3,
--              anneal_strategy = "cos", cycle_momentum = true, base_momentum = 0.85,
--              max_momentum = 0.95, div_factor = 25, final_div_factor = 1e4,
--              three_phase = false, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local function fraction(v, fn, name)
  if B.number(v, fn, name) < 0 or v > 1 then B.bad(fn, name, "in [0, 1]", v) end
  return v
end

local strategy = B.oneof("cos", "linear")

local OneCycleLR = B.class("OneCycleLR", {
  {"max_lr", B.REQUIRED, table = true}, {"total_steps", nil, check = B.posint},
  {"epochs", nil, check = B.posint}, {"steps_per_epoch", nil, check = B.posint},
  {"pct_start", 0.3, check = fraction}, {"anneal_strategy", "cos", check = strategy},
  {"cycle_momentum", true, check = B.boolean}, {"base_momentum", 0.85, table = true},
  {"max_momentum", 0.95, table = true}, {"div_factor", 25.0, check = B.number},
  {"final_div_factor", 1e4, check = B.number}, {"three_phase", false, check = B.boolean},
  B.last_epoch, B.verbose,
}, {"total_steps", "pct_start", "anneal_strategy", "div_factor", "final_div_factor", "three_phase"})

function OneCycleLR:_setup(a, opt)
  local fn = self.__name
  if a.total_steps then
    self.total_steps = a.total_steps
  elseif a.epochs or a.steps_per_epoch then
    self.total_steps = B.posint(a.epochs, fn, "epochs") * B.posint(a.steps_per_epoch, fn, "steps_per_epoch")
  else
    error(fn .. ": missing required argument 'total_steps' (or 'epochs' and 'steps_per_epoch')", 2)
  end
  local pct = a.pct_start
  self.pct_start, self.anneal_strategy = pct, a.anneal_strategy
  self.div_factor, self.final_div_factor = a.div_factor, a.final_div_factor
  self.three_phase = a.three_phase
  local T = self.total_steps
  if self.three_phase then
    self._phases = {
      {end_step = pct * T - 1, start_lr = "initial_lr", end_lr = "max_lr",
       start_momentum = "max_momentum", end_momentum = "base_momentum"},
      {end_step = 2 * pct * T - 2, start_lr = "max_lr", end_lr = "initial_lr",
       start_momentum = "base_momentum", end_momentum = "max_momentum"},
      {end_step = T - 1, start_lr = "initial_lr", end_lr = "min_lr",
       start_momentum = "max_momentum", end_momentum = "max_momentum"}}
  else
    self._phases = {
      {end_step = pct * T - 1, start_lr = "initial_lr", end_lr = "max_lr",
       start_momentum = "max_momentum", end_momentum = "base_momentum"},
      {end_step = T - 1, start_lr = "max_lr", end_lr = "min_lr",
       start_momentum = "base_momentum", end_momentum = "max_momentum"}}
  end
  local groups = opt.param_groups
  local fresh = a.last_epoch == -1          -- resuming (last_epoch >= 0) keeps the groups' values
  local max_lrs = B.per_group(fn, "max_lr", a.max_lr, #groups)
  if fresh then
    for i, g in ipairs(groups) do
      g.initial_lr = max_lrs[i] / self.div_factor
      g.max_lr = max_lrs[i]
      g.min_lr = g.initial_lr / self.final_div_factor
    end
  end
  local g1 = groups[1]
  self.cycle_momentum = a.cycle_momentum and (g1.momentum ~= nil or g1.betas ~= nil)
  if self.cycle_momentum then
    self.use_beta1 = g1.betas ~= nil
    local maxm = B.per_group(fn, "max_momentum", a.max_momentum, #groups)
    local basem = B.per_group(fn, "base_momentum", a.base_momentum, #groups)
    if fresh then
      for i, g in ipairs(groups) do
        if self.use_beta1 then
          g.betas = {maxm[i], table.unpack(g.betas, 2)}
        else
          g.momentum = maxm[i]
        end
        g.max_momentum = maxm[i]
        g.base_momentum = basem[i]
      end
    end
  end
end
function OneCycleLR:_anneal(start, stop, pct)
  if self.anneal_strategy == "cos" then
    return stop + (start - stop) / 2.0 * (math.cos(math.pi * pct) + 1)
  end
  return (stop - start) * pct + start
end
function OneCycleLR:get_lr()
  local n = self.last_epoch
  if n > self.total_steps then
    error(string.format("OneCycleLR: tried to step %d times; total_steps is %d", n + 1, self.total_steps), 2)
  end
  return self:_each_group(function(g)
    local start, lr, mom = 0, nil, nil
    for i, ph in ipairs(self._phases) do
      if n <= ph.end_step or i == #self._phases then
        local pct = (n - start) / (ph.end_step - start)
        lr = self:_anneal(g[ph.start_lr], g[ph.end_lr], pct)
        if self.cycle_momentum then
          mom = self:_anneal(g[ph.start_momentum], g[ph.end_momentum], pct)
        end
        break
      end
      start = ph.end_step
    end
    if self.cycle_momentum then
      if self.use_beta1 then g.betas = {mom, table.unpack(g.betas, 2)} else g.momentum = mom end
    end
    return lr
  end)
end
return OneCycleLR
