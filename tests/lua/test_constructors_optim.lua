-- Every optimizer and scheduler constructor, table-driven: PyTorch's order =
-- names in one trailing table = everything by name; an argument given both
-- ways, a missing required one and an unknown name are errors listing the
-- names; PyTorch arguments nnlua does not implement only at their default;
-- a module instead of its parameters; last_epoch as PyTorch resumes; and
-- every public method called with '.' instead of ':'. Each error is checked
-- to point at this file's line.

local LR = optim.lr_scheduler
local THIS = "test_constructors_optim.lua"

-- fn must fail with a message containing substring, located at the caller's line
-- (the call inside fn must be on the same line as expect_at)
local function expect_at(fn, substring)
  local line = debug.getinfo(2, "l").currentline
  local err = expect_error(fn, substring)
  if not err:find(THIS .. ":" .. line .. ": ", 1, true) then
    error(string.format("expected the error at %s:%d, got %q", THIS, line, err), 2)
  end
  return err
end

local function merge(a, b)
  local t = {}
  for k, v in pairs(a) do t[k] = v end
  for k, v in pairs(b) do t[k] = v end
  return t
end

local function deep_eq(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deep_eq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- ---------------------------------------------------------------- optimizers

-- pos: the arguments after params in PyTorch's order; named: the same by name;
-- names: what the errors list; npos: how many PyTorch takes by position
-- (params included); unsupported: PyTorch arguments nnlua takes only at their
-- default, with a value that is not it
local OPTIMIZERS = {
  {"SGD", pos = {0.1, 0.9, 0.1, 0.01, false},
   named = {lr = 0.1, momentum = 0.9, dampening = 0.1, weight_decay = 0.01, nesterov = false},
   names = "params, lr, momentum?, dampening?, weight_decay?, nesterov?, maximize?, foreach?, differentiable?, fused?",
   npos = 6, unsupported = {maximize = true, foreach = true, differentiable = true, fused = true}},
  {"Adam", pos = {0.01, {0.8, 0.99}, 1e-6, 0.1, true},
   named = {lr = 0.01, betas = {0.8, 0.99}, eps = 1e-6, weight_decay = 0.1, amsgrad = true},
   names = "params, lr?, betas?, eps?, weight_decay?, amsgrad?, foreach?, maximize?, capturable?, "
           .. "differentiable?, fused?, decoupled_weight_decay?",
   npos = 6, unsupported = {foreach = false, maximize = true, capturable = true, differentiable = true,
                            fused = true, decoupled_weight_decay = true}},
  {"AdamW", pos = {0.01, {0.8, 0.99}, 1e-6, 0.1, true},
   named = {lr = 0.01, betas = {0.8, 0.99}, eps = 1e-6, weight_decay = 0.1, amsgrad = true},
   names = "params, lr?, betas?, eps?, weight_decay?, amsgrad?, maximize?, foreach?, capturable?, "
           .. "differentiable?, fused?",
   npos = 6, unsupported = {maximize = true, foreach = true, capturable = true, differentiable = true, fused = false}},
  {"RMSprop", pos = {0.01, 0.9, 1e-6, 0.1, 0.5, true},
   named = {lr = 0.01, alpha = 0.9, eps = 1e-6, weight_decay = 0.1, momentum = 0.5, centered = true},
   names = "params, lr?, alpha?, eps?, weight_decay?, momentum?, centered?, capturable?, foreach?, "
           .. "maximize?, differentiable?",
   npos = 11, unsupported = {capturable = true, foreach = true, maximize = true, differentiable = true}},
  {"Adagrad", pos = {0.1, 0.01, 0.1, 0.2, 1e-8},
   named = {lr = 0.1, lr_decay = 0.01, weight_decay = 0.1, initial_accumulator_value = 0.2, eps = 1e-8},
   names = "params, lr?, lr_decay?, weight_decay?, initial_accumulator_value?, eps?, foreach?, maximize?, "
           .. "differentiable?, fused?",
   npos = 7, unsupported = {foreach = true, maximize = true, differentiable = true, fused = true}},
  {"Adadelta", pos = {0.5, 0.8, 1e-5, 0.1},
   named = {lr = 0.5, rho = 0.8, eps = 1e-5, weight_decay = 0.1},
   names = "params, lr?, rho?, eps?, weight_decay?, foreach?, capturable?, maximize?, differentiable?",
   npos = 6, unsupported = {foreach = false, capturable = true, maximize = true, differentiable = true}},
  {"Adamax", pos = {0.01, {0.8, 0.99}, 1e-6, 0.1},
   named = {lr = 0.01, betas = {0.8, 0.99}, eps = 1e-6, weight_decay = 0.1},
   names = "params, lr?, betas?, eps?, weight_decay?, foreach?, maximize?, differentiable?, capturable?",
   npos = 6, unsupported = {foreach = true, maximize = true, differentiable = true, capturable = true}},
  {"NAdam", pos = {0.01, {0.8, 0.99}, 1e-6, 0.1, 0.005},
   named = {lr = 0.01, betas = {0.8, 0.99}, eps = 1e-6, weight_decay = 0.1, momentum_decay = 0.005},
   names = "params, lr?, betas?, eps?, weight_decay?, momentum_decay?, decoupled_weight_decay?, foreach?, "
           .. "maximize?, capturable?, differentiable?",
   npos = 7, unsupported = {decoupled_weight_decay = true, foreach = true, maximize = true, capturable = true,
                            differentiable = true}},
}

-- the first argument after params, by PyTorch's order
local FIRST = {SGD = "lr", Adam = "lr", AdamW = "lr", RMSprop = "lr", Adagrad = "lr", Adadelta = "lr",
               Adamax = "lr", NAdam = "lr"}

local function params2()
  return {tensor.new{{1.0, -2.0}, {0.5, 3.0}}:requires_grad_(), tensor.new{0.25, -1.5}:requires_grad_()}
end

-- three steps with fixed gradients; the parameters' values after them
local function run(opt, ps)
  for s = 1, 3 do
    ps[1].grad = tensor.new{{0.1 * s, -0.2}, {0.3, 0.05 * s}}
    ps[2].grad = tensor.new{-0.4, 0.2 * s}
    opt:step()
  end
  return {ps[1]:totable(), ps[2]:totable()}
end

local function options_of(opt)
  local out = {}
  for i, g in ipairs(opt.param_groups) do
    local o = {}
    for k, v in pairs(g) do if k ~= "params" then o[k] = v end end
    out[i] = o
  end
  return out
end

test("the table of optimizers covers every optimizer", function()
  local seen = {}
  for _, c in ipairs(OPTIMIZERS) do seen[c[1]] = true end
  for _, name in ipairs {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"} do
    check_eq(seen[name], true, name)
  end
end)

for _, c in ipairs(OPTIMIZERS) do
  local name = c[1]
  local fn = "optim." .. name
  local O = optim[name]

  test(name .. ": PyTorch's order = names in a table = everything by name", function()
    local pa, pb, pc = params2(), params2(), params2()
    local a = O(pa, table.unpack(c.pos))
    local b = O(pb, merge({}, c.named))
    local d = O(merge({params = pc}, c.named))
    check_eq(deep_eq(options_of(a), options_of(b)), true, "positional vs named param_groups")
    check_eq(deep_eq(options_of(a), options_of(d)), true, "positional vs all by name")
    for k, v in pairs(c.named) do check_eq(deep_eq(a.param_groups[1][k], v), true, k) end
    check_eq(tostring(a), tostring(b))
    local ra, rb, rd = run(a, pa), run(b, pb), run(d, pc)
    check_eq(deep_eq(ra, rb), true, "steps: positional vs named")
    check_eq(deep_eq(ra, rd), true, "steps: positional vs all by name")
    -- the same options differ from the defaults (so the comparison means something)
    local e = O(params2(), c.named.lr)
    check_eq(deep_eq(options_of(a), options_of(e)), false, "the options differ from the defaults")
  end)

  test(name .. ": an argument given both ways", function()
    expect_at(function() O(params2(), c.pos[1], {[FIRST[name]] = c.pos[1]}) end,
      fn .. ": '" .. FIRST[name] .. "' given twice, as argument #2 and by name (arguments: " .. c.names)
    expect_at(function() O({params = params2()}, {params = params2()}) end, fn .. ": ")
  end)

  test(name .. ": a missing required argument lists the names", function()
    expect_at(function() O({lr = 0.1}) end,
      fn .. ": missing required argument 'params' (arguments: " .. c.names .. "; ? marks optional ones)")
    if name == "SGD" then
      expect_at(function() O(params2()) end,
        fn .. ": missing required argument 'lr' (arguments: " .. c.names .. "; ? marks optional ones)")
      expect_at(function() O({{params = params2()}, {params = params2(), lr = 0.1}}) end,
        fn .. ": missing required argument 'lr' (arguments: " .. c.names)
      -- every group giving its lr is enough, as in PyTorch
      local opt = O({{params = {params2()[1]}, lr = 0.5}, {params = {params2()[2]}, lr = 0.2}})
      check_eq(opt.param_groups[2].lr, 0.2)
      opt.param_groups[2].lr = nil
      expect_at(function() opt:step() end,
        fn .. ":step: param_groups[2] has no option 'lr' (options of a group: params, lr, momentum, dampening, weight_decay, nesterov)")
    end
  end)

  test(name .. ": an unknown name lists the valid names", function()
    expect_at(function() O(params2(), {lr = 0.1, bogus = 1}) end,
      fn .. ": unknown option 'bogus' (arguments: " .. c.names .. "; ? marks optional ones)")
    expect_at(function() O{params = params2(), lr = 0.1, Lr = 1} end, fn .. ": unknown option 'Lr' (arguments: ")
  end)

  test(name .. ": too many arguments by position", function()
    local extra = {}
    for i = 1, c.npos do extra[i] = 0 end                 -- params + npos values
    expect_at(function() O(params2(), table.unpack(extra)) end,
      string.format("%s: too many arguments: %d given, at most %d by position", fn, c.npos + 1, c.npos))
  end)

  test(name .. ": PyTorch arguments nnlua does not implement", function()
    local n = 0
    for arg, bad in pairs(c.unsupported) do
      n = n + 1
      local err = expect_at(function() O(params2(), {lr = 0.1, [arg] = bad}) end,
        string.format("%s: %s", fn, arg))
      assert(err:find("is not supported; ", 1, true), err)
      if arg ~= "foreach" and arg ~= "fused" then           -- the default is accepted
        local opt = O(params2(), {lr = 0.1, [arg] = false})
        check_eq(opt.param_groups[1][arg], nil, arg .. " is kept out of param_groups")
      end
    end
    check_eq(n > 0, true)
  end)

  test(name .. ": a module instead of its parameters", function()
    local model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    local want = fn .. ": params is a module; pass its parameters: " .. fn .. "(model:parameters(), ...)"
    expect_at(function() O(model, {lr = 0.1}) end, want)
    expect_at(function() O(model, 0.1) end, want)
    expect_at(function() O{params = nn.Linear(2, 2), lr = 0.1} end, want)
    expect_at(function() O({{params = model, lr = 0.1}}) end,
      fn .. ": group 1 params is a module; pass its parameters: {params = model:parameters(), ...}")
    expect_at(function() O({model}, 0.1) end,
      fn .. ": params[1] is a module; pass its parameters: {params = model:parameters(), ...}")
    local opt = O(model:parameters(), {lr = 0.1})                -- what the message says works
    check_eq(#opt.param_groups[1].params, 4)
  end)

  test(name .. ": every method called with '.' says to use ':'", function()
    local opt = O(params2(), {lr = 0.1})
    local sd = opt:state_dict()
    expect_at(function() opt.step() end, "step: call it as opt:step(...) with a colon; opt.step(...) passes nothing as self")
    expect_at(function() opt.step(function() return 1 end) end, "step: call it as opt:step(...) with a colon; opt.step(...) passes a function as self")
    expect_at(function() opt.zero_grad() end, "zero_grad: call it as opt:zero_grad(...) with a colon")
    expect_at(function() opt.zero_grad(false) end, "zero_grad: call it as opt:zero_grad(...) with a colon; opt.zero_grad(...) passes a boolean as self")
    expect_at(function() opt.state_dict() end, "state_dict: call it as opt:state_dict(...) with a colon")
    expect_at(function() opt.load_state_dict(sd) end, "load_state_dict: call it as opt:load_state_dict(...) with a colon; opt.load_state_dict(...) passes a table as self")
    opt:load_state_dict(sd)                                       -- with ':' all of them work
    opt:zero_grad(); opt:step()
  end)
end

test("optim.Adam(params, lr): the second argument is lr, not options", function()
  local opt = optim.Adam(params2(), 0.05)
  check_eq(opt.param_groups[1].lr, 0.05)
  check_eq(opt.param_groups[1].eps, 1e-8)
  expect_at(function() optim.Adam(params2(), "fast") end, "optim.Adam: lr must be a non-negative number, got fast")
end)

test("param groups keep working with arguments by position", function()
  local a, b = tensor.new{1.0}:requires_grad_(), tensor.new{1.0}:requires_grad_()
  local opt = optim.SGD({{params = {a}, lr = 0.5}, {params = {b}}}, 0.1, 0.9)
  check_eq(opt.param_groups[1].lr, 0.5); check_eq(opt.param_groups[2].lr, 0.1)
  check_eq(opt.param_groups[1].momentum, 0.9); check_eq(opt.param_groups[2].momentum, 0.9)
  expect_at(function() optim.SGD({{params = {a}, maximize = false}}, 0.1) end,
    "optim.SGD: unknown option 'maximize' in a parameter group (options of a group: params, lr, momentum, dampening, weight_decay, nesterov)")
end)

-- ---------------------------------------------------------------- schedulers

local function make_opt() return optim.SGD({{params = params2(), lr = 0.1}, {params = params2(), lr = 0.01}}, 0.1, 0.9) end
local function lrs(opt) return {opt.param_groups[1].lr, opt.param_groups[2].lr} end
local function metric(t) return 1 / (1 + (t % 3)) end             -- for ReduceLROnPlateau
local function decay(e) return 0.9 ^ e end

-- pos(opt) / named(opt): the arguments after the optimizer; names: what the
-- errors list; required: the first required argument after the optimizer
local SCHEDULERS = {
  {"StepLR", pos = function() return {3, 0.5} end, named = function() return {step_size = 3, gamma = 0.5} end,
   names = "optimizer, step_size, gamma?, last_epoch?, verbose?", required = "step_size"},
  {"MultiStepLR", pos = function() return {{2, 5}, 0.5} end, named = function() return {milestones = {2, 5}, gamma = 0.5} end,
   names = "optimizer, milestones, gamma?, last_epoch?, verbose?", required = "milestones"},
  {"ExponentialLR", pos = function() return {0.9} end, named = function() return {gamma = 0.9} end,
   names = "optimizer, gamma, last_epoch?, verbose?", required = "gamma"},
  {"CosineAnnealingLR", pos = function() return {10, 0.001} end, named = function() return {T_max = 10, eta_min = 0.001} end,
   names = "optimizer, T_max, eta_min?, last_epoch?, verbose?", required = "T_max"},
  {"CosineAnnealingWarmRestarts", pos = function() return {5, 2, 0.001} end,
   named = function() return {T_0 = 5, T_mult = 2, eta_min = 0.001} end,
   names = "optimizer, T_0, T_mult?, eta_min?, last_epoch?, verbose?", required = "T_0"},
  {"PolynomialLR", pos = function() return {6, 2.0} end, named = function() return {total_iters = 6, power = 2.0} end,
   names = "optimizer, total_iters?, power?, last_epoch?, verbose?"},
  {"LinearLR", pos = function() return {0.25, 0.9, 6} end,
   named = function() return {start_factor = 0.25, end_factor = 0.9, total_iters = 6} end,
   names = "optimizer, start_factor?, end_factor?, total_iters?, last_epoch?, verbose?"},
  {"LambdaLR", pos = function() return {decay} end, named = function() return {lr_lambda = decay} end,
   names = "optimizer, lr_lambda, last_epoch?, verbose?", required = "lr_lambda"},
  {"OneCycleLR", pos = function() return table.pack(0.5, nil, 4, 5, 0.25, "linear") end,
   named = function() return {max_lr = 0.5, epochs = 4, steps_per_epoch = 5, pct_start = 0.25, anneal_strategy = "linear"} end,
   names = "optimizer, max_lr, total_steps?, epochs?, steps_per_epoch?, pct_start?, anneal_strategy?, "
           .. "cycle_momentum?, base_momentum?, max_momentum?, div_factor?, final_div_factor?, three_phase?, "
           .. "last_epoch?, verbose?", required = "max_lr"},
  {"ReduceLROnPlateau", pos = function() return {"max", 0.5, 1} end,
   named = function() return {mode = "max", factor = 0.5, patience = 1} end,
   names = "optimizer, mode?, factor?, patience?, threshold?, threshold_mode?, cooldown?, min_lr?, eps?, verbose?",
   metric = true, no_last_epoch = true},
  {"SequentialLR",
   pos = function(opt) return {{LR.LinearLR(opt, 0.5, 1, 2), LR.ExponentialLR(opt, 0.9)}, {2}} end,
   named = function(opt) return {schedulers = {LR.LinearLR(opt, 0.5, 1, 2), LR.ExponentialLR(opt, 0.9)}, milestones = {2}} end,
   names = "optimizer, schedulers, milestones, last_epoch?, verbose?", required = "schedulers"},
  {"InverseTimeLR", pos = function() return {0.5} end, named = function() return {decay = 0.5} end,
   names = "optimizer, decay, last_epoch?", required = "decay", no_verbose = true},
}

local function build_pos(c, opt)
  local p = c.pos(opt)
  return LR[c[1]](opt, table.unpack(p, 1, p.n or #p))
end

-- the lrs over construction and 8 steps
local function sequence(c, opt, sched)
  local out = {lrs(opt)}
  for t = 1, 8 do
    opt:step()
    if c.metric then sched:step(metric(t)) else sched:step() end
    out[#out + 1] = lrs(opt)
  end
  return out
end

test("the table of schedulers covers every scheduler", function()
  local seen = {}
  for _, c in ipairs(SCHEDULERS) do seen[c[1]] = true end
  for _, name in ipairs {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
      "PolynomialLR", "LinearLR", "LambdaLR", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR", "InverseTimeLR"} do
    check_eq(seen[name], true, name)
  end
end)

for _, c in ipairs(SCHEDULERS) do
  local name = c[1]
  local S = LR[name]

  test(name .. ": PyTorch's order = names in a table = everything by name", function()
    local oa, ob, od = make_opt(), make_opt(), make_opt()
    local a = build_pos(c, oa)
    local b = S(ob, c.named(ob))
    local d = S(merge({optimizer = od}, c.named(od)))
    check_eq(tostring(a), tostring(b)); check_eq(tostring(a), tostring(d))
    local sa, sb, sd = sequence(c, oa, a), sequence(c, ob, b), sequence(c, od, d)
    check_eq(deep_eq(sa, sb), true, "lrs: positional vs named")
    check_eq(deep_eq(sa, sd), true, "lrs: positional vs all by name")
    check_eq(deep_eq(a:get_last_lr(), b:get_last_lr()), true, "get_last_lr")
    local changed = false                                 -- the schedule does move the lr
    for t = 2, #sa do if sa[t][1] ~= sa[1][1] then changed = true end end
    check_eq(changed, true, "the lr changes over the steps")
  end)

  test(name .. ": an argument given both ways", function()
    local opt = make_opt()
    local first = c.named(opt)
    local key = c.names:match("^optimizer, ([%w_]+)")
    local v = c.pos(opt)[1]
    check_eq(first[key] ~= nil or key == "total_steps", true, "the table's first argument")
    expect_at(function() S(opt, v, {[key] = v}) end,
      name .. ": '" .. key .. "' given twice, as argument #2 and by name (arguments: " .. c.names)
    expect_at(function() S(opt, {optimizer = opt}) end, name .. ": 'optimizer' given twice, as argument #1 and by name")
  end)

  test(name .. ": a missing required argument lists the names", function()
    local listing = " (arguments: " .. c.names .. "; ? marks optional ones)"
    expect_at(function() S({}) end, name .. ": missing required argument 'optimizer'" .. listing)
    if c.required then
      expect_at(function() S(make_opt()) end, name .. ": missing required argument '" .. c.required .. "'" .. listing)
    else
      check_eq(tostring(S(make_opt())):find(name .. "(", 1, true), 1, "no required argument after the optimizer")
    end
  end)

  test(name .. ": an unknown name lists the valid names", function()
    expect_at(function() S(make_opt(), {bogus = 1}) end,
      name .. ": unknown option 'bogus' (arguments: " .. c.names .. "; ? marks optional ones)")
    if c.no_last_epoch then
      expect_at(function() S(make_opt(), {last_epoch = 3}) end, name .. ": unknown option 'last_epoch' (arguments: ")
    end
  end)

  test(name .. ": verbose only at its default", function()
    local opt = make_opt()
    local named = c.named(opt)
    if c.no_verbose then
      expect_at(function() S(opt, merge(named, {verbose = true})) end, name .. ": unknown option 'verbose'")
      return
    end
    expect_at(function() S(opt, merge(named, {verbose = true})) end,
      name .. ": verbose = true is not supported; PyTorch deprecates verbose; print(sched:get_last_lr())")
    local o2 = make_opt()
    S(o2, merge(c.named(o2), {verbose = false}))
  end)

  test(name .. ": every method called with '.' says to use ':'", function()
    local opt = make_opt()
    local s = S(opt, c.named(opt))
    local sd = s:state_dict()
    expect_at(function() s.step() end, "step: call it as sched:step(...) with a colon; sched.step(...) passes nothing as self, not the sched")
    expect_at(function() s.step(0.5) end, "step: call it as sched:step(...) with a colon; sched.step(...) passes a number as self")
    expect_at(function() s.get_last_lr() end, "get_last_lr: call it as sched:get_last_lr(...) with a colon")
    expect_at(function() s.get_lr() end, "get_lr: call it as sched:get_lr(...) with a colon")
    expect_at(function() s.state_dict() end, "state_dict: call it as sched:state_dict(...) with a colon")
    expect_at(function() s.load_state_dict(sd) end, "load_state_dict: call it as sched:load_state_dict(...) with a colon; sched.load_state_dict(...) passes a table as self")
    s:load_state_dict(sd)
    check_eq(#s:get_last_lr(), 2)
  end)
end

test("scheduler argument checks still name the argument, by position or by name", function()
  local o = make_opt()
  expect_at(function() LR.StepLR(o, 0) end, "StepLR: step_size must be a positive integer, got 0")
  expect_at(function() LR.StepLR{optimizer = o, step_size = 0} end, "StepLR: step_size must be a positive integer, got 0")
  expect_at(function() LR.StepLR(42, 3) end, "StepLR: argument #1 must be an optimizer (a table with param_groups), got number")
  expect_at(function() LR.OneCycleLR(o, 1) end, "OneCycleLR: missing required argument 'total_steps' (or 'epochs' and 'steps_per_epoch')")
  expect_at(function() LR.OneCycleLR(o, 1, 10, nil, nil, 0.3, "exp") end, 'OneCycleLR: anneal_strategy must be "cos" or "linear", got "exp"')
  expect_at(function() LR.ReduceLROnPlateau(o, "mean") end, 'ReduceLROnPlateau: mode must be "min" or "max", got "mean"')
  expect_at(function() LR.SequentialLR(o, {LR.ReduceLROnPlateau(o)}, {}) end,
    "SequentialLR: schedulers[1] is a ReduceLROnPlateau, whose step needs a metric")
  expect_at(function() LR.MultiStepLR(o, {3, 2}) end, "MultiStepLR: milestones must be increasing, got 2 after 3")
  expect_at(function() LR.StepLR(o, 3, 0.1, -2) end, "StepLR: last_epoch must be a whole number >= -1, got -2")
end)

-- ---------------------------------------------------------------- last_epoch

-- PyTorch: a scheduler built with last_epoch = k >= 0 takes base_lrs from the
-- groups' initial_lr and steps once, to epoch k + 1. So on an optimizer in
-- the state of a run after k steps it continues that run: after construction
-- it is where the run is after k + 1 steps.
local copy_groups = copy_param_groups

for _, c in ipairs(SCHEDULERS) do
  local name = c[1]
  if not c.no_last_epoch and name ~= "SequentialLR" then
    test(name .. ": last_epoch = k continues a run from epoch k + 1, as PyTorch resumes", function()
      local K = 3
      local oa = make_opt()
      local a = LR[name](oa, c.named(oa))
      for _ = 1, K do oa:step(); a:step() end
      local ob = make_opt()
      copy_groups(oa, ob)
      local b = LR[name](ob, merge(c.named(ob), {last_epoch = K}))
      oa:step(); a:step()                                    -- the run's step K + 1
      check_eq(b.last_epoch, K + 1, "last_epoch after construction")
      for t = 1, 8 do
        for i = 1, 2 do
          local x, y = ob.param_groups[i].lr, oa.param_groups[i].lr
          if math.abs(x - y) > 1e-12 * math.abs(y) then
            error(string.format("step %d group %d: resumed %.17g, the run %.17g", t, i, x, y))
          end
        end
        oa:step(); a:step(); ob:step(); b:step()
      end
      check_eq(b.last_epoch, a.last_epoch)
    end)

    test(name .. ": last_epoch >= 0 needs initial_lr in every group", function()
      local opt = optim.SGD(params2(), 0.1, 0.9)
      expect_at(function() LR[name](opt, merge(c.named(opt), {last_epoch = 2})) end,
        name .. ": last_epoch = 2 resumes a schedule, but param_groups[1] has no initial_lr")
    end)
  end
end

test("SequentialLR: last_epoch = k counts on from k + 1; the schedulers start afresh", function()
  local oa, ob = make_opt(), make_opt()
  local a = LR.SequentialLR(oa, {LR.LinearLR(oa, 0.5, 1, 4), LR.ExponentialLR(oa, 0.5)}, {5})
  local b = LR.SequentialLR(ob, {LR.LinearLR(ob, 0.5, 1, 4), LR.ExponentialLR(ob, 0.5)}, {5}, 2)
  check_eq(a.last_epoch, 0); check_eq(b.last_epoch, 3)
  check_eq(deep_eq(lrs(oa), lrs(ob)), true, "the first scheduler's initial step")
  for _ = 1, 2 do ob:step(); b:step() end                   -- epoch 5: the second scheduler from its epoch 0
  check_eq(deep_eq(lrs(ob), {0.1, 0.01}), true, "switched at the milestone")
  for _ = 1, 2 do oa:step(); a:step() end
  check_close(oa.param_groups[1].lr, 0.1 * (0.5 + 0.5 * 2 / 4), 1e-15, "the run without last_epoch has not switched")
end)
