-- optim/sched/OneCycleLR.lua -- the 1cycle policy: up to max_lr, then down to
-- max_lr / div_factor / final_div_factor; also cycles momentum (or betas[1])

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_number, check_posint, check_optimizer = B.check_number, B.check_posint, B.check_optimizer
local per_group, class, map_groups = B.per_group, B.class, B.map_groups

local OneCycleLR = class("OneCycleLR", {"total_steps", "pct_start", "anneal_strategy",
  "div_factor", "final_div_factor", "three_phase"})
function OneCycleLR.new(opt, opts)
  local name = "OneCycleLR"
  check_optimizer(name, opt)
  local order = {"max_lr", "total_steps", "epochs", "steps_per_epoch", "pct_start",
    "anneal_strategy", "cycle_momentum", "base_momentum", "max_momentum", "div_factor",
    "final_div_factor", "three_phase"}
  local o = options(name, opts, {max_lr = REQUIRED, total_steps = false, epochs = false,
    steps_per_epoch = false, pct_start = 0.3, anneal_strategy = "cos", cycle_momentum = true,
    base_momentum = 0.85, max_momentum = 0.95, div_factor = 25.0, final_div_factor = 1e4,
    three_phase = false}, order)
  local self = setmetatable({}, OneCycleLR)
  if o.total_steps then
    self.total_steps = check_posint(name, "total_steps", o.total_steps)
  elseif o.epochs or o.steps_per_epoch then
    local e = check_posint(name, "epochs", o.epochs or nil)
    local s = check_posint(name, "steps_per_epoch", o.steps_per_epoch or nil)
    self.total_steps = e * s
  else
    error(name .. ": missing required option 'total_steps' (or 'epochs' and 'steps_per_epoch')", 2)
  end
  local pct = check_number(name, "pct_start", o.pct_start)
  if pct < 0 or pct > 1 then bad(name, "pct_start", "in [0, 1]", pct) end
  self.pct_start = pct
  if o.anneal_strategy ~= "cos" and o.anneal_strategy ~= "linear" then
    bad(name, "anneal_strategy", '"cos" or "linear"', o.anneal_strategy)
  end
  self.anneal_strategy = o.anneal_strategy
  self.div_factor = check_number(name, "div_factor", o.div_factor)
  self.final_div_factor = check_number(name, "final_div_factor", o.final_div_factor)
  if type(o.three_phase) ~= "boolean" then bad(name, "three_phase", "a boolean", o.three_phase) end
  self.three_phase = o.three_phase
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
  local max_lrs = per_group(name, "max_lr", o.max_lr, #groups)
  for i, g in ipairs(groups) do
    g.initial_lr = max_lrs[i] / self.div_factor
    g.max_lr = max_lrs[i]
    g.min_lr = g.initial_lr / self.final_div_factor
  end
  if type(o.cycle_momentum) ~= "boolean" then bad(name, "cycle_momentum", "a boolean", o.cycle_momentum) end
  local g1 = groups[1]
  self.cycle_momentum = o.cycle_momentum and (g1.momentum ~= nil or g1.betas ~= nil)
  if self.cycle_momentum then
    self.use_beta1 = g1.betas ~= nil
    local maxm = per_group(name, "max_momentum", o.max_momentum, #groups)
    local basem = per_group(name, "base_momentum", o.base_momentum, #groups)
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
  return self:_init(opt)
end
function OneCycleLR._anneal(self, start, stop, pct)
  if self.anneal_strategy == "cos" then
    return stop + (start - stop) / 2.0 * (math.cos(math.pi * pct) + 1)
  end
  return (stop - start) * pct + start
end
function OneCycleLR.get_lr(self)
  local n = self.last_epoch
  if n > self.total_steps then
    error(string.format("OneCycleLR: tried to step %d times; total_steps is %d", n + 1, self.total_steps), 0)
  end
  return map_groups(self, function(g)
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
