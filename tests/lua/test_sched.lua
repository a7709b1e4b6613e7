-- optim.lr_scheduler against PyTorch: every case of tests/fixtures/sched.lua
-- (made by tests/fixtures/gen_sched.py) replayed step for step, plus
-- InverseTimeLR by formula, state_dict round trips, get_last_lr, the
-- step-order warning, printing and every error path. Uses the real optim.SGD
-- when the optim module exists, a stand-in optimizer table otherwise.

local LR = require "optim.lr_scheduler"
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local cases = assert(loadfile(here .. "/../fixtures/sched.lua"))()

local real_optim = optim            -- in nnlua a lazy global: read, not rawget
if type(real_optim) ~= "table" or real_optim.SGD == nil then real_optim = nil end

-- an optimizer with one param group per entry of lrs
local function make_opt(lrs, momentum)
  lrs = lrs or {0.1, 0.01}
  if real_optim then
    local groups = {}
    for i, lr in ipairs(lrs) do
      groups[i] = {params = {tensor.zeros(2):requires_grad_()}, lr = lr}
    end
    return real_optim.SGD(groups, {lr = lrs[1], momentum = momentum or 0})
  end
  local groups = {}
  for i, lr in ipairs(lrs) do groups[i] = {lr = lr, momentum = momentum} end
  return {param_groups = groups, _step_count = 0,
          step = function(self) self._step_count = self._step_count + 1 end}
end

local function build(opt, kind, opts)
  if kind == "SequentialLR" then
    local s = {}
    for i, spec in ipairs(opts.schedulers) do s[i] = build(opt, spec.kind, spec.opts) end
    return LR.SequentialLR(opt, {schedulers = s, milestones = opts.milestones})
  end
  return LR[kind](opt, opts)
end

local function lrs_of(opt, key)
  local t = {}
  for i, g in ipairs(opt.param_groups) do t[i] = g[key or "lr"] end
  return t
end

-- collect warnings instead of printing them
local warnings = {}
local default_warn = LR._warn
LR._warn = function(msg) warnings[#warnings + 1] = msg end

local RTOL = 1e-12

-- largest relative difference between rows of numbers; where it is
local function worst(got, want, worst_so_far, where)
  local w = worst_so_far or {d = 0}
  for i = 1, #want do
    local a, b = got[i], want[i]
    local d = (a == b) and 0 or math.abs(a - b) / math.max(math.abs(b), 1e-300)
    if d ~= d then d = math.huge end
    if d > w.d then w.d, w.where, w.got, w.want = d, where .. " group " .. i, a, b end
  end
  return w
end

local overall = 0
for _, case in ipairs(cases) do
  test("PyTorch " .. case.name, function()
    warnings = {}
    local opt = make_opt(case.group_lrs, case.momentum)
    local sched = build(opt, case.kind, case.opts)
    local w = worst(lrs_of(opt), case.lrs[1], nil, "after construction")
    if case.momenta then w = worst(lrs_of(opt, "momentum"), case.momenta[1], w, "momentum after construction") end
    for t = 1, #case.lrs - 1 do
      opt:step()
      if case.args then sched:step(table.unpack(case.args[t])) else sched:step() end
      w = worst(lrs_of(opt), case.lrs[t + 1], w, "step " .. t)
      w = worst(sched:get_last_lr(), case.lrs[t + 1], w, "get_last_lr step " .. t)
      if case.momenta then w = worst(lrs_of(opt, "momentum"), case.momenta[t + 1], w, "momentum step " .. t) end
    end
    overall = math.max(overall, w.d)
    if w.d > RTOL then
      error(string.format("largest relative difference %.3g at %s: got %.17g, PyTorch %.17g",
        w.d, w.where, w.got, w.want))
    end
    check_eq(sched.last_epoch, case.last_epoch, "last_epoch")
    check_eq(#warnings, 0, "warnings")
  end)
end

test("PyTorch fixtures: worst relative difference", function()
  io.write(string.format("  sched: worst relative difference vs PyTorch %.3g over %d cases\n", overall, #cases))
end)

test("InverseTimeLR: lr0 / (1 + decay t)", function()
  local opt = make_opt({0.1, 0.01})
  local s = LR.InverseTimeLR(opt, {decay = 0.5})
  check_eq(s.last_epoch, 0)
  check_eq(opt.param_groups[1].lr, 0.1)
  for t = 1, 50 do
    opt:step(); s:step()
    check_eq(opt.param_groups[1].lr, 0.1 / (1 + 0.5 * t))
    check_eq(opt.param_groups[2].lr, 0.01 / (1 + 0.5 * t))
  end
  s:step(3)
  check_eq(opt.param_groups[1].lr, 0.1 / 2.5)
  check_eq(tostring(s), "InverseTimeLR(decay=0.5, last_epoch=3)")
end)

test("get_last_lr is a copy of the groups' lrs", function()
  local opt = make_opt({0.1, 0.01})
  local s = LR.StepLR(opt, {step_size = 2, gamma = 0.5})
  local l = s:get_last_lr()
  check_eq(#l, 2); check_eq(l[1], 0.1); check_eq(l[2], 0.01)
  l[1] = 99
  check_eq(s:get_last_lr()[1], 0.1)
  opt:step(); s:step(); opt:step(); s:step()
  check_eq(s:get_last_lr()[1], 0.05)
  check_eq(s.last_epoch, 2)
end)

-- state_dict must be plain data
local function check_plain(t, path)
  for k, v in pairs(t) do
    local tv = type(v)
    if tv == "table" then check_plain(v, path .. "." .. tostring(k))
    elseif tv ~= "number" and tv ~= "boolean" and tv ~= "string" then
      error(path .. "." .. tostring(k) .. " is a " .. tv)
    end
  end
end

local copy_groups = copy_param_groups

local resume_specs = {
  {"StepLR", {step_size = 7, gamma = 0.5}},
  {"MultiStepLR", {milestones = {10, 45, 70}}},
  {"ExponentialLR", {gamma = 0.97}},
  {"CosineAnnealingLR", {T_max = 30, eta_min = 0.001}},
  {"CosineAnnealingWarmRestarts", {T_0 = 5, T_mult = 2}},
  {"PolynomialLR", {total_iters = 60, power = 2}},
  {"LinearLR", {start_factor = 0.2, total_iters = 50}},
  {"LambdaLR", {lr_lambda = function(e) return 0.9 ^ e end}},
  {"InverseTimeLR", {decay = 0.1}},
  {"OneCycleLR", {max_lr = 0.5, total_steps = 100}, 0.9},
  {"ReduceLROnPlateau", {patience = 2, cooldown = 1, factor = 0.5}},
  {"SequentialLR", {schedulers = {{kind = "LinearLR", opts = {total_iters = 10}},
                                  {kind = "CosineAnnealingLR", opts = {T_max = 90}}}, milestones = {10}}},
}

for _, spec in ipairs(resume_specs) do
  local kind, opts, mom = spec[1], spec[2], spec[3]
  test("state_dict round trip " .. kind, function()
    warnings = {}
    local function metric(t) return 1 / (1 + (t % 17)) end
    local a = make_opt({0.1, 0.01}, mom)
    local sa = build(a, kind, opts)
    for t = 1, 40 do a:step(); sa:step(kind == "ReduceLROnPlateau" and metric(t) or nil) end
    local sd = sa:state_dict()
    check_plain(sd, "state_dict")
    local b = make_opt({0.1, 0.01}, mom)
    local sb = build(b, kind, opts)
    copy_groups(a, b)                      -- what opt:load_state_dict restores
    sb:load_state_dict(sd)
    check_eq(sb.last_epoch, sa.last_epoch, "last_epoch")
    check_eq(tostring(sb), tostring(sa))
    for t = 41, 100 do
      a:step(); sa:step(kind == "ReduceLROnPlateau" and metric(t) or nil)
      b:step(); sb:step(kind == "ReduceLROnPlateau" and metric(t) or nil)
      for i = 1, 2 do
        check_eq(b.param_groups[i].lr, a.param_groups[i].lr, "step " .. t .. " group " .. i)
        check_eq(sb:get_last_lr()[i], sa:get_last_lr()[i])
      end
    end
    check_eq(#warnings, 0, "warnings")
  end)
end

test("state_dict is a copy", function()
  local opt = make_opt()
  local s = LR.MultiStepLR(opt, {milestones = {2, 4}})
  local sd = s:state_dict()
  sd.milestones[1] = 100
  check_eq(s.milestones[1], 2)
  s:load_state_dict(sd)
  sd.milestones[1] = 7
  check_eq(s.milestones[1], 100)
end)

test("warning: step() before opt:step(), once per scheduler", function()
  warnings = {}
  local opt = make_opt()
  local s = LR.StepLR(opt, {step_size = 3})
  check_eq(#warnings, 0, "construction does not warn")
  s:step()
  check_eq(#warnings, 1)
  assert(warnings[1]:find("StepLR", 1, true) and warnings[1]:find("before optimizer step", 1, true), warnings[1])
  s:step(); opt:step(); s:step(); s:step()
  check_eq(#warnings, 1, "only once")
  -- opt:step() between construction and the first sched:step(): no warning
  warnings = {}
  local s2 = LR.ExponentialLR(opt, {gamma = 0.9})
  opt:step(); s2:step()
  check_eq(#warnings, 0)
  -- an opt:step() before construction does not count (PyTorch resets the count)
  local opt3 = make_opt()
  opt3:step()
  local s3 = LR.CosineAnnealingLR(opt3, {T_max = 10})
  s3:step()
  check_eq(#warnings, 1)
  -- a second scheduler warns on its own
  local s4 = LR.LinearLR(opt3, {})
  s4:step()
  check_eq(#warnings, 2)
  -- the default writes to stderr
  check_eq(type(default_warn), "function")
end)

test("print", function()
  local opt = make_opt()
  local s = LR.StepLR(opt, {step_size = 30})
  for _ = 1, 3 do opt:step(); s:step() end
  check_eq(tostring(s), "StepLR(step_size=30, gamma=0.1, last_epoch=3)")
  check_eq(tostring(LR.MultiStepLR(make_opt(), {milestones = {5, 9}, gamma = 0.5})),
    "MultiStepLR(milestones={5, 9}, gamma=0.5, last_epoch=0)")
  check_eq(tostring(LR.CosineAnnealingLR(make_opt(), {T_max = 10})),
    "CosineAnnealingLR(T_max=10, eta_min=0, last_epoch=0)")
  check_eq(tostring(LR.ReduceLROnPlateau(make_opt(), {})),
    "ReduceLROnPlateau(mode=min, factor=0.1, patience=10, threshold=0.0001, threshold_mode=rel, "
    .. "cooldown=0, min_lr=0, eps=1e-08, last_epoch=0)")
  check_eq(tostring(LR.OneCycleLR(make_opt(), {max_lr = 1, total_steps = 10})),
    "OneCycleLR(total_steps=10, pct_start=0.3, anneal_strategy=cos, div_factor=25, "
    .. "final_div_factor=10000, three_phase=false, last_epoch=0)")
end)

test("OneCycleLR cycles betas[1] and keeps betas[2]", function()
  local opt = {param_groups = {{lr = 0.1, betas = {0.9, 0.999}}}, _step_count = 0,
               step = function(self) self._step_count = self._step_count + 1 end}
  local s = LR.OneCycleLR(opt, {max_lr = 1, total_steps = 10})
  check_eq(opt.param_groups[1].betas[1], 0.95)
  check_eq(opt.param_groups[1].betas[2], 0.999)
  for _ = 1, 9 do opt:step(); s:step() end
  check_close(opt.param_groups[1].betas[1], 0.95, 1e-12)
  check_close(opt.param_groups[1].lr, 1 / 25 / 1e4, 1e-15)
  opt:step(); s:step()
  check_eq(opt.param_groups[1].betas[2], 0.999)
  expect_error(function() opt:step(); s:step() end, "OneCycleLR: tried to step 12 times; total_steps is 10")
end)

test("step(epoch) uses the closed form", function()
  local opt = make_opt()
  local s = LR.StepLR(opt, {step_size = 10, gamma = 0.5})
  opt:step(); s:step(25)
  check_eq(s.last_epoch, 25)
  check_close(opt.param_groups[1].lr, 0.1 * 0.25, 1e-15)
  local c = LR.CosineAnnealingLR(make_opt(), {T_max = 10})
  c:step(5)
  check_close(c:get_last_lr()[1], 0.05, 1e-15)
end)

test("ReduceLROnPlateau accepts a 0-d tensor metric", function()
  if rawget(_G, "tensor") == nil then return end
  local opt = make_opt()
  local s = LR.ReduceLROnPlateau(opt, {patience = 0})
  s:step(tensor.new(1.0)); s:step(tensor.new(2.0))
  check_close(opt.param_groups[1].lr, 0.01, 1e-15)
  expect_error(function() s:step("x") end, "ReduceLROnPlateau:step: argument #1 (metric) must be a number")
end)

test("errors", function()
  local o = make_opt()
  expect_error(function() LR.StepLR(42, {step_size = 1}) end, "StepLR: argument #1 must be an optimizer")
  expect_error(function() LR.StepLR({}, {step_size = 1}) end, "StepLR: argument #1 must be an optimizer")
  expect_error(function() LR.StepLR({param_groups = {{}}}, {step_size = 1}) end, "param_groups[1] has no numeric lr")
  expect_error(function() LR.StepLR(o, 3, {step_size = 3}) end, "StepLR: 'step_size' given twice, as argument #2 and by name")
  expect_error(function() LR.StepLR(o, {step_size = 3, gama = 0.5}) end, "StepLR: unknown option 'gama'")
  expect_error(function() LR.StepLR(o, {}) end, "StepLR: missing required argument 'step_size'")
  expect_error(function() LR.StepLR(o, {step_size = 0}) end, "StepLR: step_size must be a positive integer, got 0")
  expect_error(function() LR.StepLR(o, {step_size = 2.5}) end, "StepLR: step_size must be a positive integer, got 2.5")
  expect_error(function() LR.StepLR(o, {step_size = 2, gamma = 0}) end, "StepLR: gamma must be positive, got 0")
  expect_error(function() LR.StepLR(o, {step_size = 2, gamma = "x"}) end, 'StepLR: gamma must be a number, got "x"')
  expect_error(function() LR.MultiStepLR(o) end, "MultiStepLR: missing required argument 'milestones'")
  expect_error(function() LR.MultiStepLR(o, {milestones = {5, 3}}) end, "MultiStepLR: milestones must be increasing, got 3 after 5")
  expect_error(function() LR.MultiStepLR(o, {milestones = {5, 5}}) end, "MultiStepLR: milestones must be increasing")
  expect_error(function() LR.MultiStepLR(o, {milestones = 5}) end, "MultiStepLR: milestones must be an array of integers")
  expect_error(function() LR.MultiStepLR(o, {milestones = {1}, gamma = -1}) end, "MultiStepLR: gamma must be positive")
  expect_error(function() LR.ExponentialLR(o, {}) end, "ExponentialLR: missing required argument 'gamma'")
  expect_error(function() LR.ExponentialLR(o, {gamma = 0}) end, "ExponentialLR: gamma must be positive")
  expect_error(function() LR.CosineAnnealingLR(o, {}) end, "CosineAnnealingLR: missing required argument 'T_max'")
  expect_error(function() LR.CosineAnnealingLR(o, {T_max = 0}) end, "CosineAnnealingLR: T_max must be a positive integer, got 0")
  expect_error(function() LR.CosineAnnealingLR(o, {T_max = 5, etamin = 0}) end, "CosineAnnealingLR: unknown option 'etamin'")
  expect_error(function() LR.CosineAnnealingWarmRestarts(o, {T_0 = 0}) end, "CosineAnnealingWarmRestarts: T_0 must be a positive integer")
  expect_error(function() LR.CosineAnnealingWarmRestarts(o, {T_0 = 2, T_mult = 0}) end, "CosineAnnealingWarmRestarts: T_mult must be a positive integer")
  expect_error(function() LR.CosineAnnealingWarmRestarts(make_opt(), {T_0 = 2}):step(-1) end, "epoch must be non-negative")
  expect_error(function() LR.PolynomialLR(o, {total_iters = 0}) end, "PolynomialLR: total_iters must be a positive integer")
  expect_error(function() LR.PolynomialLR(o, {powr = 2}) end, "PolynomialLR: unknown option 'powr'")
  expect_error(function() LR.LinearLR(o, {start_factor = 0}) end, "LinearLR: start_factor must be in (0, 1], got 0")
  expect_error(function() LR.LinearLR(o, {end_factor = 1.5}) end, "LinearLR: end_factor must be in [0, 1], got 1.5")
  expect_error(function() LR.LinearLR(o, {total_iters = -1}) end, "LinearLR: total_iters must be a positive integer")
  expect_error(function() LR.LambdaLR(o) end, "LambdaLR: missing required argument 'lr_lambda'")
  expect_error(function() LR.LambdaLR(o, {lr_lambda = 3}) end, "LambdaLR: lr_lambda must be a function or an array of functions")
  expect_error(function() LR.LambdaLR(o, {lr_lambda = {function() return 1 end}}) end, "LambdaLR: lr_lambda has 1 functions for 2 param groups")
  expect_error(function() LR.LambdaLR(make_opt(), {lr_lambda = function() return "x" end}) end, "LambdaLR: lr_lambda returned string")
  expect_error(function() LR.InverseTimeLR(o, {}) end, "InverseTimeLR: missing required argument 'decay'")
  expect_error(function() LR.InverseTimeLR(o, {decay = -1}) end, "InverseTimeLR: decay must be non-negative")
  expect_error(function() LR.OneCycleLR(o, {total_steps = 10}) end, "OneCycleLR: missing required argument 'max_lr'")
  expect_error(function() LR.OneCycleLR(o, {max_lr = 1}) end, "OneCycleLR: missing required argument 'total_steps'")
  expect_error(function() LR.OneCycleLR(o, {max_lr = 1, total_steps = 0}) end, "OneCycleLR: total_steps must be a positive integer, got 0")
  expect_error(function() LR.OneCycleLR(o, {max_lr = 1, epochs = 3}) end, "OneCycleLR: steps_per_epoch must be a positive integer")
  expect_error(function() LR.OneCycleLR(o, {max_lr = 1, total_steps = 5, pct_start = 2}) end, "OneCycleLR: pct_start must be in [0, 1]")
  expect_error(function() LR.OneCycleLR(o, {max_lr = 1, total_steps = 5, anneal_strategy = "exp"}) end, 'OneCycleLR: anneal_strategy must be "cos" or "linear", got "exp"')
  expect_error(function() LR.OneCycleLR(o, {max_lr = {1}, total_steps = 5}) end, "OneCycleLR: max_lr has 1 values for 2 param groups")
  expect_error(function() LR.OneCycleLR(o, {max_lr = 1, total_steps = 5, div = 3}) end, "OneCycleLR: unknown option 'div'")
  expect_error(function() LR.ReduceLROnPlateau(o, {factor = 1}) end, "ReduceLROnPlateau: factor must be < 1, got 1")
  expect_error(function() LR.ReduceLROnPlateau(o, {factor = 0}) end, "ReduceLROnPlateau: factor must be positive")
  expect_error(function() LR.ReduceLROnPlateau(o, {mode = "mean"}) end, 'ReduceLROnPlateau: mode must be "min" or "max", got "mean"')
  expect_error(function() LR.ReduceLROnPlateau(o, {threshold_mode = "x"}) end, "ReduceLROnPlateau: threshold_mode must be")
  expect_error(function() LR.ReduceLROnPlateau(o, {patience = -1}) end, "ReduceLROnPlateau: patience must be a non-negative integer")
  expect_error(function() LR.ReduceLROnPlateau(o, {min_lr = {0}}) end, "ReduceLROnPlateau: min_lr has 1 values for 2 param groups")
  expect_error(function() LR.ReduceLROnPlateau(o, {patince = 3}) end, "ReduceLROnPlateau: unknown option 'patince'")
  expect_error(function() LR.ReduceLROnPlateau(o, {}):step() end, "ReduceLROnPlateau:step: argument #1 (metric) must be a number, got nil")
  local a, b = LR.LinearLR(o, {}), LR.ExponentialLR(o, {gamma = 0.9})
  expect_error(function() LR.SequentialLR(o, {schedulers = {a, b}}) end, "SequentialLR: missing required argument 'milestones'")
  expect_error(function() LR.SequentialLR(o, {schedulers = {a, b}, milestones = {}}) end, "SequentialLR: milestones must have one entry fewer than schedulers")
  expect_error(function() LR.SequentialLR(o, {schedulers = {a, b, a}, milestones = {5, 2}}) end, "SequentialLR: milestones must be increasing")
  expect_error(function() LR.SequentialLR(o, {schedulers = {a, 3}, milestones = {5}}) end, "SequentialLR: schedulers[2] must be a scheduler")
  expect_error(function() LR.SequentialLR(o, {schedulers = {a, LR.StepLR(make_opt(), {step_size = 1})}, milestones = {5}}) end,
    "SequentialLR: schedulers[2] belongs to a different optimizer")
  expect_error(function() LR.SequentialLR(o, {schedulers = {}, milestones = {}}) end, "SequentialLR: schedulers must be a non-empty array")
  expect_error(function() LR.StepLR(make_opt(), {step_size = 1}):load_state_dict(3) end, "StepLR:load_state_dict: argument must be a table")
end)

test("load_state_dict: a state of another scheduler changes nothing and names every problem", function()
  local p = tensor.zeros(2):requires_grad_()
  local opt = optim.SGD({p}, 0.1)
  local step = optim.lr_scheduler.StepLR(opt, 2)
  local cos = optim.lr_scheduler.CosineAnnealingLR(opt, 10)
  local before = step:state_dict()
  local err = expect_error(function() step:load_state_dict(cos:state_dict()) end,
                           "StepLR:load_state_dict: 'T_max' is not state of StepLR; 'eta_min' is not state of StepLR; "
                           .. "'gamma' is missing; 'step_size' is missing")
  assert(err:find("nothing was loaded", 1, true) and err:find("test_sched.lua:%d+:"), err)
  for k, v in pairs(before) do
    if type(v) ~= "table" then check_eq(step[k], v, k) end
  end
  local bad = step:state_dict()
  bad.gamma = "0.1"
  expect_error(function() step:load_state_dict(bad) end, "'gamma' is a string, not a number")
end)

test("SequentialLR:load_state_dict checks every child before loading any", function()
  local p = tensor.zeros(2):requires_grad_()
  local opt = optim.SGD({p}, 0.1)
  local L = optim.lr_scheduler
  local seq = L.SequentialLR(opt, {schedulers = {L.StepLR(opt, 2), L.ExponentialLR(opt, 0.9)}, milestones = {3}})
  local sd = seq:state_dict()
  sd.last_epoch = 7
  sd._schedulers[1].last_epoch = 7
  sd._schedulers[2].gamma = "x"
  expect_error(function() seq:load_state_dict(sd) end,
               "SequentialLR:load_state_dict: scheduler 2 (ExponentialLR): 'gamma' is a string, not a number (nothing was loaded)")
  check_eq(seq.last_epoch, 0)
  check_eq(seq._schedulers[1].last_epoch, 0, "the first child was not loaded either")
  sd = seq:state_dict()
  sd._schedulers[3] = sd._schedulers[2]
  expect_error(function() seq:load_state_dict(sd) end, "'_schedulers' holds 3 schedulers, this one has 2")
  sd._schedulers[3] = nil
  sd.last_epoch = 2
  seq:load_state_dict(sd)
  check_eq(seq.last_epoch, 2)
end)

test("a scheduler step that fails moves nothing, and the same step can be tried again", function()
  local function opt_of() return optim.SGD({tensor.zeros(2):requires_grad_()}, {lr = 1}) end
  local fail = false
  local opt = opt_of()
  local s = optim.lr_scheduler.LambdaLR(opt, function(e) if fail then error("lambda failed") end return 0.5 ^ e end)
  local ref_opt = opt_of()
  local ref = optim.lr_scheduler.LambdaLR(ref_opt, function(e) return 0.5 ^ e end)
  for _ = 1, 3 do opt:step(); s:step(); ref_opt:step(); ref:step() end
  fail = true
  expect_error(function() s:step() end, "lambda failed")
  expect_error(function() s:step("x") end, "epoch must be a number")
  check_eq(s.last_epoch, 3, "last_epoch after the failures")
  check_eq(s._step_count, ref._step_count, "step count after the failures")
  check_eq(opt.param_groups[1].lr, ref_opt.param_groups[1].lr, "lr after the failures")
  fail = false
  for _ = 1, 2 do opt:step(); s:step(); ref_opt:step(); ref:step() end
  check_eq(opt.param_groups[1].lr, ref_opt.param_groups[1].lr, "lr when the schedule goes on")
  check_eq(s.last_epoch, ref.last_epoch)
  -- a lambda that returns something other than a number
  local s2 = optim.lr_scheduler.LambdaLR(opt_of(), function(e) return e >= 2 and "half" or 1 end)
  s2.optimizer:step(); s2:step()
  expect_error(function() s2.optimizer:step(); s2:step() end, "expected a number")
  check_eq(s2.last_epoch, 1, "last_epoch after the bad value")
  -- SequentialLR: a child's failed step leaves the parent where it was too
  fail = false
  local o3 = opt_of()
  local a = optim.lr_scheduler.LambdaLR(o3, function(e) if fail then error("child failed") end return 1 end)
  local seq = optim.lr_scheduler.SequentialLR(o3, {a, optim.lr_scheduler.ExponentialLR(o3, 0.5)}, {5})
  o3:step(); seq:step()
  local before = {seq.last_epoch, a.last_epoch, a._step_count, o3.param_groups[1].lr}
  fail = true
  expect_error(function() seq:step() end, "child failed")
  check_eq(table.concat({seq.last_epoch, a.last_epoch, a._step_count, o3.param_groups[1].lr}, " "),
           table.concat(before, " "), "SequentialLR and its child after the failure")
  -- ReduceLROnPlateau checks its epoch before it counts
  local p = optim.lr_scheduler.ReduceLROnPlateau(opt_of())
  expect_error(function() p:step(1, "x") end, "epoch must be a number")
  check_eq(p.last_epoch, 0)
end)
