-- optim: every optimizer against PyTorch (tests/fixtures/optim.lua, made by
-- tests/fixtures/gen_optim.py: 50 steps with fixed gradients replayed through
-- p.grad), the course's worked Adam step, convergence on quadratics and on
-- Rosenbrock, closures, param groups, state_dict round trips, zero_grad, nil
-- grads, autograd version bumps, printing, and the error paths.

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local fx = assert(loadfile(here .. "/../fixtures/optim.lua"))()
local C = require "optim._C"

local NAMES = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"}

-- a [3, 4] tensor from 12 row-major numbers
local function mat34(flat)
  local rows = {}
  for i = 1, 3 do rows[i] = {table.unpack(flat, 4 * i - 3, 4 * i)} end
  return tensor.new(rows)
end

local function leaf(t) t.requires_grad = true; return t end

local function flatten(t)
  local out = {}
  local function walk(v) if type(v) == "table" then for _, x in ipairs(v) do walk(x) end else out[#out + 1] = v end end
  walk(t:detach():totable())
  return out
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

-- ---------------------------------------------------------------- PyTorch fixtures

-- relative difference, with values under 1e-2 compared absolutely to 1e-7
local RTOL = 1e-5
local function replay(case)
  local p1, p2 = leaf(mat34(fx.init[1])), leaf(tensor.new(fx.init[2]))
  local params = {p1, p2}
  if case.groups then
    params = {}
    for i, g in ipairs(case.groups) do
      local group = copy(g)
      group.params = {({p1, p2})[i]}
      params[i] = group
    end
  end
  local opt = optim[case.optim](params, copy(case.options))
  local worst, where = 0, "nowhere"
  for s = 1, fx.steps do
    if case.new_lr and s == fx.lr_change_step + 1 then
      for _, g in ipairs(opt.param_groups) do g.lr = case.new_lr end
    end
    p1.grad = mat34(fx.grads[s][1])
    p2.grad = tensor.new(fx.grads[s][2])
    opt:step()
    for i, p in ipairs {p1, p2} do
      local got, want = flatten(p), case.expected[s][i]
      for j = 1, #want do
        local d = math.abs(got[j] - want[j]) / math.max(math.abs(want[j]), 1e-2)
        if d > worst then
          worst = d
          where = string.format("step %d param %d element %d: %.9g vs PyTorch %.9g", s, i, j, got[j], want[j])
        end
      end
    end
  end
  if os.getenv("NN_TEST_VERBOSE") then print(string.format("  %-30s worst relative difference %.3g at %s", case.name, worst, where)) end
  if not (worst <= RTOL) then
    error(string.format("%s: worst relative difference %.3g exceeds %g at %s", case.name, worst, RTOL, where), 2)
  end
end

for _, case in ipairs(fx.cases) do
  test("matches PyTorch: " .. case.name, function() replay(case) end)
end

test("the fixtures cover every optimizer", function()
  local seen = {}
  for _, case in ipairs(fx.cases) do seen[case.optim] = true end
  for _, name in ipairs(NAMES) do check_eq(seen[name], true, name) end
end)

-- ---------------------------------------------------------------- the course's worked Adam step

-- The course sheet: m = 0.5, v = 0.2, g = 2, beta1 = 0.9, beta2 = 0.99,
-- lr = 0.01, no bias correction => m = 0.65, v = 0.238, dw = -0.01332.
-- The optimizer class always corrects the bias (as PyTorch does), so this
-- calls the Adam kernel itself with bias_correction = false (its last argument).
test("the worked Adam step without bias correction (kernel)", function()
  local w, g = tensor.new{1.0}, tensor.new{2.0}
  local m, v = tensor.new{0.5}, tensor.new{0.2}
  C.adam(w, g, m, v, nil, 1, 0.01, 0.9, 0.99, 1e-8, 0, false, false, false)
  check_close(m:item(), 0.65, 1e-6, "m")
  check_close(v:item(), 0.238, 1e-6, "v")
  check_close(w:item() - 1.0, -0.01332, 1e-5, "dw")
  check_close(w:item() - 1.0, -0.01 * 0.65 / (math.sqrt(0.238) + 1e-8), 1e-7, "dw exact")
end)

test("the worked Adam step with bias correction through the optimizer's state", function()
  -- the same numbers as state of step 1 of optim.Adam: m and v are bias-corrected
  local w = leaf(tensor.new{1.0})
  local opt = optim.Adam({w}, {lr = 0.01, betas = {0.9, 0.99}})
  opt.state[w] = {step = 0, exp_avg = tensor.new{0.5}, exp_avg_sq = tensor.new{0.2}}
  w.grad = tensor.new{2.0}
  opt:step()
  check_close(opt.state[w].exp_avg:item(), 0.65, 1e-6, "m")
  check_close(opt.state[w].exp_avg_sq:item(), 0.238, 1e-6, "v")
  local mhat, vhat = 0.65 / (1 - 0.9), 0.238 / (1 - 0.99)
  check_close(w:item() - 1.0, -0.01 * mhat / (math.sqrt(vhat) + 1e-8), 1e-6, "dw")
  check_eq(opt.state[w].step, 1, "step")
end)

-- ---------------------------------------------------------------- convergence

local CONVERGE = {
  {"SGD", {lr = 0.1}, 300},
  {"SGD", {lr = 0.05, momentum = 0.9}, 300},
  {"SGD", {lr = 0.05, momentum = 0.9, nesterov = true}, 300},
  {"Adam", {lr = 0.05}, 600},
  {"Adam", {lr = 0.05, amsgrad = true}, 600},
  {"AdamW", {lr = 0.05}, 600},
  {"RMSprop", {lr = 0.01}, 600},
  {"RMSprop", {lr = 0.01, centered = true, momentum = 0.5}, 600},
  {"Adagrad", {lr = 0.5}, 600},
  {"Adadelta", {lr = 1}, 1000, 1000},   -- slow, then hovers at the sqrt(eps) scale
  {"Adamax", {lr = 0.05}, 600},
  {"NAdam", {lr = 0.05}, 600},
}

local function minimise(name, opts, steps, c1)
  local w = leaf(tensor.new{1.5, -1.0})
  local c = tensor.new{c1, 2}
  local opt = optim[name]({w}, copy(opts))
  local first
  for _ = 1, steps do
    opt:zero_grad()
    local loss = (w * w * c):sum()
    first = first or loss:item()
    loss:backward()
    opt:step()
  end
  return (w * w * c):sum():item(), first
end

for _, cfg in ipairs(CONVERGE) do
  local name, opts, steps, steps_ill = cfg[1], cfg[2], cfg[3], cfg[4] or 3 * cfg[3]
  local keys = {}
  for k, v in pairs(opts) do keys[#keys + 1] = k .. "=" .. tostring(v) end
  table.sort(keys)
  local label = table.concat(keys, ", ")
  for _, c1 in ipairs {1, 0.1} do
    test(string.format("%s converges on %gw1^2 + 2w2^2 (%s)", name, c1, label), function()
      local loss, first = minimise(name, opts, c1 == 1 and steps or steps_ill, c1)
      if not (loss < 1e-3 * first) then
        error(string.format("loss went from %g to %g", first, loss))
      end
    end)
  end
end

test("Adam minimises the Rosenbrock function", function()
  -- f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1), from (-1.5, 2)
  local x, y = leaf(tensor.new{-1.5}), leaf(tensor.new{2.0})
  local opt = optim.Adam({x, y}, {lr = 0.02})
  local function f() return ((1 - x) ^ 2 + 100 * (y - x * x) ^ 2):sum() end
  for _ = 1, 4000 do
    opt:zero_grad()
    f():backward()
    opt:step()
  end
  check_close(x, {1}, 2e-2, "x"); check_close(y, {1}, 4e-2, "y")
  check_eq(f():item() < 1e-3, true, "f at the end")
end)

-- ---------------------------------------------------------------- behaviour

test("step(closure) evaluates the closure and returns its loss", function()
  local w = leaf(tensor.new{3.0})
  local opt = optim.SGD({w}, {lr = 0.1})
  local calls = 0
  local loss = opt:step(function()
    calls = calls + 1
    opt:zero_grad()
    local l = (w * w):sum()
    l:backward()
    return l
  end)
  check_eq(calls, 1, "closure calls")
  check_close(loss:item(), 9, 0, "returned loss")
  check_close(w:item(), 3 - 0.1 * 6, 1e-6, "updated")
  expect_error(function() opt:step(42) end, "closure must be a function")
end)

test("param_groups: options per group, and lr changes take effect", function()
  local a, b = leaf(tensor.new{1.0}), leaf(tensor.new{1.0})
  local opt = optim.SGD({{params = {a}, lr = 0.5}, {params = {b}}}, {lr = 0.1, momentum = 0})
  check_eq(#opt.param_groups, 2, "groups")
  check_eq(opt.param_groups[1].lr, 0.5); check_eq(opt.param_groups[2].lr, 0.1)
  check_eq(opt.param_groups[2].momentum, 0); check_eq(opt.param_groups[2].nesterov, false)
  a.grad, b.grad = tensor.new{1.0}, tensor.new{1.0}
  opt:step()
  check_close(a:item(), 0.5, 1e-7); check_close(b:item(), 0.9, 1e-7)
  opt.param_groups[1].lr = 0
  opt.param_groups[2].lr = 1
  opt:step()
  check_close(a:item(), 0.5, 1e-7, "lr 0 leaves it"); check_close(b:item(), -0.1, 1e-6, "lr 1")
  opt.param_groups[2].lr = -1
  expect_error(function() opt:step() end, "lr must be a non-negative number")
end)

test("zero_grad sets every grad to nil (or zeroes it with false)", function()
  local a, b = leaf(tensor.new{1.0, 2.0}), leaf(tensor.new{3.0})
  local opt = optim.Adam({a, b})
  a.grad, b.grad = tensor.new{1.0, 1.0}, tensor.new{1.0}
  opt:zero_grad(false)
  check_close(a.grad, {0, 0}, 0, "zeroed")
  opt:zero_grad()
  check_eq(a.grad, nil, "a.grad"); check_eq(b.grad, nil, "b.grad")
end)

test("a parameter whose grad is nil is skipped and gets no state", function()
  local a, b = leaf(tensor.new{1.0}), leaf(tensor.new{2.0})
  for _, name in ipairs(NAMES) do
    a.grad, b.grad = tensor.new{1.0}, nil
    local opt = optim[name]({a, b}, {lr = 0.1})
    local before = a:item()
    opt:step()
    check_close(b:item(), 2.0, 0, name .. " left b")
    check_eq(a:item() ~= before, true, name .. " moved a")
    check_eq(opt.state[b] == nil or opt.state[b].step == 0, true, name .. " state of b")
  end
end)

test("_step_count counts step() calls", function()
  local w = leaf(tensor.new{1.0})
  local opt = optim.SGD({w}, {lr = 0.1})
  check_eq(opt._step_count, 0)
  opt:step(); opt:step()
  check_eq(opt._step_count, 2)
end)

test("a parameter that does not require grad is accepted", function()
  local w = tensor.new{1.0}
  local opt = optim.SGD({w}, {lr = 0.5})
  w.grad = tensor.new{1.0}
  opt:step()
  check_close(w:item(), 0.5, 0)
end)

test("step bumps the version: a graph that used the parameter refuses backward", function()
  local w = leaf(tensor.new{1.0, 2.0})
  local y = (w * w):sum()
  local opt = optim.SGD({w}, {lr = 0.1})
  w.grad = tensor.new{1.0, 1.0}
  opt:step()
  expect_error(function() y:backward() end, "modified in place")
end)

test("works on the parameters of an nn model", function()
  tensor.manual_seed(0)
  local model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
  local x, t = tensor.randn(16, 3), tensor.randn(16, 1)
  local opt = optim.Adam(model:parameters(), {lr = 0.01})
  local first, last
  for _ = 1, 200 do
    opt:zero_grad()
    local loss = nn.functional.mse_loss(model(x), t)
    first = first or loss:item(); last = loss:item()
    loss:backward()
    opt:step()
  end
  check_eq(last < first, true, "loss decreased")
end)

test("print shows the class and each group's options", function()
  local opt = optim.Adam({leaf(tensor.new{1.0})})
  local s = tostring(opt)
  check_eq(s, "Adam (\nParameter Group 1\n    amsgrad: false\n    betas: {0.9, 0.999}\n    eps: 1e-08\n" ..
    "    lr: 0.001\n    weight_decay: 0\n)")
  check_eq(tostring(optim.SGD({leaf(tensor.new{1.0})}, {lr = 0.1})):find("SGD (", 1, true), 1)
end)

test("defaults are PyTorch's", function()
  local function g(name, opts) return optim[name]({leaf(tensor.new{1.0})}, opts).param_groups[1] end
  check_eq(g("AdamW").weight_decay, 1e-2); check_eq(g("AdamW").lr, 1e-3)
  check_eq(g("RMSprop").alpha, 0.99); check_eq(g("RMSprop").lr, 1e-2)
  check_eq(g("Adagrad").eps, 1e-10); check_eq(g("Adadelta").lr, 1.0); check_eq(g("Adadelta").rho, 0.9)
  check_eq(g("Adamax").lr, 2e-3); check_eq(g("NAdam").momentum_decay, 4e-3)
  check_eq(g("SGD", {lr = 0.1}).dampening, 0)
end)

-- ---------------------------------------------------------------- state_dict

local ROUNDTRIP = {
  SGD = {lr = 0.1, momentum = 0.9}, Adam = {lr = 0.01, amsgrad = true}, AdamW = {lr = 0.01},
  RMSprop = {lr = 0.01, centered = true, momentum = 0.9}, Adagrad = {lr = 0.1, lr_decay = 0.01},
  Adadelta = {}, Adamax = {}, NAdam = {lr = 0.01},
}

local function train(opt, p1, p2, from, to)
  for s = from, to do
    p1.grad = mat34(fx.grads[s][1]); p2.grad = tensor.new(fx.grads[s][2])
    opt:step()
  end
end

for _, name in ipairs(NAMES) do
  test("state_dict round trip continues exactly: " .. name, function()
    local p1, p2 = leaf(mat34(fx.init[1])), leaf(tensor.new(fx.init[2]))
    local opt = optim[name]({{params = {p1}}, {params = {p2}, lr = 0.003}}, copy(ROUNDTRIP[name]))
    train(opt, p1, p2, 1, 10)
    local sd = opt:state_dict()
    check_eq(sd.optimizer, name, "optimizer")
    check_eq(#sd.param_groups, 2); check_eq(sd.param_groups[2].params[1], 2, "params as indices")
    check_eq(sd.param_groups[2].lr, 0.003)
    local q1, q2 = leaf(p1:detach():clone()), leaf(p2:detach():clone())
    train(opt, p1, p2, 11, 20)
    -- a fresh optimizer with other options: load_state_dict restores them
    local opt2 = optim[name]({{params = {q1}}, {params = {q2}}}, {lr = 0.5})
    opt2:load_state_dict(sd)
    check_eq(opt2.param_groups[2].lr, 0.003, "lr restored")
    train(opt2, q1, q2, 11, 20)
    check_close(q1, p1, 0, "param 1"); check_close(q2, p2, 0, "param 2")
  end)
end

test("state_dict survives tensor.save / tensor.load", function()
  local p1, p2 = leaf(mat34(fx.init[1])), leaf(tensor.new(fx.init[2]))
  local opt = optim.NAdam({p1, p2}, {lr = 0.01})
  train(opt, p1, p2, 1, 5)
  local path = os.tmpname()
  tensor.save(opt:state_dict(), path)
  local sd = tensor.load(path)
  os.remove(path)
  local q1, q2 = leaf(p1:detach():clone()), leaf(p2:detach():clone())
  train(opt, p1, p2, 6, 12)
  local opt2 = optim.NAdam({q1, q2})
  opt2:load_state_dict(sd)
  train(opt2, q1, q2, 6, 12)
  check_close(q1, p1, 0); check_close(q2, p2, 0)
end)

test("load_state_dict keeps extra group keys (a scheduler's initial_lr)", function()
  local w = leaf(tensor.new{1.0})
  local opt = optim.SGD({w}, {lr = 0.1})
  opt.param_groups[1].initial_lr = 0.1
  local sd = opt:state_dict()
  local opt2 = optim.SGD({w}, {lr = 0.5})
  opt2:load_state_dict(sd)
  check_eq(opt2.param_groups[1].initial_lr, 0.1, "initial_lr")
  check_eq(opt2.param_groups[1].lr, 0.1, "lr")
  check_eq(opt2.param_groups[1].params[1], w, "params kept")
end)

test("state_dict holds copies; load_state_dict copies too", function()
  local w = leaf(tensor.new{1.0})
  local opt = optim.Adam({w})
  w.grad = tensor.new{1.0}
  opt:step()
  local sd = opt:state_dict()
  local m = sd.state[1].exp_avg:item()
  opt:step()
  check_close(sd.state[1].exp_avg:item(), m, 0, "unchanged by later steps")
end)

test("load_state_dict errors", function()
  local a, b = leaf(tensor.new{1.0}), leaf(tensor.new{1.0, 2.0})
  local sgd = optim.SGD({a, b}, {lr = 0.1, momentum = 0.9})
  a.grad, b.grad = tensor.new{1.0}, tensor.new{1.0, 1.0}
  sgd:step()
  local adam = optim.Adam({a, b})
  expect_error(function() adam:load_state_dict(sgd:state_dict()) end, "the state dict is from optim.SGD, not optim.Adam")
  local sd = sgd:state_dict(); sd.optimizer = nil
  expect_error(function() adam:load_state_dict(sd) end, "group 1 of the state dict has no option 'amsgrad' of optim.Adam")
  expect_error(function() optim.SGD({a}, {lr = 0.1}):load_state_dict(sgd:state_dict()) end,
    "group 1 has 2 parameters in the state dict, 1 in the optimizer")
  expect_error(function() optim.SGD({{params = {a}}, {params = {b}}}, {lr = 0.1}):load_state_dict(sgd:state_dict()) end,
    "the state dict has 1 parameter groups, the optimizer 2")
  expect_error(function() optim.SGD({b, a}, {lr = 0.1}):load_state_dict(sgd:state_dict()) end, "has shape [1], the parameter [2]")
  expect_error(function() adam:load_state_dict(42) end, "expected a table")
end)

-- ---------------------------------------------------------------- errors

test("constructor errors name the function and the argument", function()
  local w = leaf(tensor.new{1.0})
  expect_error(function() optim.SGD({w}, {lr = -1}) end, "optim.SGD: lr must be a non-negative number, got -1")
  expect_error(function() optim.Adam({w}, {lr = "fast"}) end, "optim.Adam: lr must be a non-negative number, got fast")
  expect_error(function() optim.SGD({w}) end, "optim.SGD: missing required argument 'lr' (arguments: params, lr, momentum?")
  expect_error(function() optim.Adam({}) end, "optim.Adam: got an empty parameter list")
  expect_error(function() optim.Adam(w) end, "params must be an array")
  expect_error(function() optim.Adam({w, 3}) end, "optim.Adam: params[2] must be a tensor, got number")
  expect_error(function() optim.SGD({w}, {lr = 0.1, momentun = 0.9}) end, "optim.SGD: unknown option 'momentun' (arguments: params, lr, momentum?")
  expect_error(function() optim.SGD({{params = {w}, lr = 0.1, betas = {0.9, 0.9}}}) end,
    "optim.SGD: unknown option 'betas' in a parameter group (options of a group: params, lr, momentum, dampening, weight_decay, nesterov)")
  expect_error(function() optim.Adam({w}, {betas = {1, 0.9}}) end, "optim.Adam: betas[1] must be in [0, 1), got 1")
  expect_error(function() optim.NAdam({w}, {betas = {0.9, -0.1}}) end, "optim.NAdam: betas[2] must be in [0, 1)")
  expect_error(function() optim.Adamax({w}, {betas = 0.9}) end, "betas must be a table of two numbers")
  expect_error(function() optim.SGD({w}, {lr = 0.1, nesterov = true}) end, "nesterov momentum requires a momentum")
  expect_error(function() optim.Adam({w}, {amsgrad = 1}) end, "amsgrad must be a boolean")
  expect_error(function() optim.RMSprop({w}, {momentum = -0.5}) end, "momentum must be a non-negative number")
  expect_error(function() optim.Adadelta({w}, {rho = 1.5}) end, "rho must be in [0, 1]")
  expect_error(function() optim.Adam({w, w}) end, "a parameter appears twice")
  expect_error(function() optim.Adam({w}, "fast") end, "optim.Adam: lr must be a non-negative number, got fast")
  expect_error(function() optim.Adam({w}, 0.1, {lr = 0.1}) end, "optim.Adam: 'lr' given twice, as argument #2 and by name")
  expect_error(function() optim.Adam({{params = {}}}) end, "group 1 has an empty parameter list")
end)

test("kernel errors: shapes and contiguity", function()
  local w = leaf(tensor.zeros(3, 4))
  local opt = optim.Adam({w})
  w.grad = tensor.randn(4, 3):t()
  expect_error(function() opt:step() end, "adam: grad is not contiguous")
  expect_error(function() C.sgd(w, tensor.zeros(5), nil, 0.1, 0, 0, 0, false, false) end,
    "sgd: grad has shape [5] but the parameter has shape [3, 4]")
  expect_error(function() C.adam(w, tensor.zeros(3, 4), tensor.zeros(3, 4), tensor.zeros(4, 3), nil, 1, 0.1, 0.9, 0.9, 1e-8, 0, false, false) end,
    "adam: exp_avg_sq has shape [4, 3] but the parameter has shape [3, 4]")
  expect_error(function() C.adam(w, tensor.zeros(3, 4), tensor.zeros(3, 4), tensor.zeros(3, 4), nil, 0, 0.1, 0.9, 0.9, 1e-8, 0, false, false) end,
    "step must be >= 1")
  expect_error(function() C.sgd(w, "g") end, "bad argument #2 to 'sgd'")
end)

test("memory stays flat over many steps", function()
  local w = leaf(tensor.zeros(1000))
  local opt = optim.Adam({w})
  local g = tensor.ones(1000)
  local function run(n) for _ = 1, n do w.grad = g; opt:step() end collectgarbage() end
  run(500)
  local before = status_kb("VmRSS")
  run(3000)
  local grown = status_kb("VmRSS") - before
  if grown > 2048 then error("VmRSS grew by " .. grown .. " kB") end
end)

test("load_state_dict: the same wrong state gives the same message every time (parameter order)", function()
  local ps = {}
  for i = 1, 6 do ps[i] = tensor.zeros(i):requires_grad_(); ps[i].grad = tensor.ones(i) end
  local opt = optim.Adam(ps)
  opt:step()
  local sd = opt:state_dict()
  for i = 2, 6 do sd.state[i].exp_avg = tensor.zeros(9) end      -- five wrong shapes
  local first
  for _ = 1, 5 do
    local err = expect_error(function() opt:load_state_dict(sd) end, "state 'exp_avg' of parameter 2 has shape [9]")
    first = first or err
    check_eq(err, first)
  end
end)

-- Parameters of 32k elements or more are updated by every thread, each its own
-- slice (nn/optim.c): the bits must not depend on the thread count, and every
-- element must get the update a small parameter (one thread) gets.
test("a large parameter's update is the same at 1 and 4 threads and equals the small-parameter update", function()
  local variants = {
    {"SGD", {lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 1e-2}},
    {"Adam", {lr = 1e-2, amsgrad = true}}, {"Adam", {lr = 1e-2, weight_decay = 0.1}},
    {"AdamW", {lr = 1e-2}},
    {"RMSprop", {lr = 1e-2, momentum = 0.5, centered = true}}, {"RMSprop", {lr = 1e-2}},
    {"Adagrad", {lr = 0.1, weight_decay = 1e-2}}, {"Adadelta", {weight_decay = 1e-2}},
    {"Adamax", {lr = 1e-2}}, {"NAdam", {lr = 1e-2}},
  }
  local N, PART = 70001, 1000   -- odd, so that the last slice is ragged
  local before = tensor.get_num_threads()
  local function run(name, opts, threads, p0, grads)
    tensor.set_num_threads(threads)
    local p = leaf(p0:clone())
    local opt = optim[name]({p}, opts)
    for _, g in ipairs(grads) do p.grad = g:clone(); opt:step() end
    return p:detach()
  end
  local ok, err = pcall(function()
    for _, v in ipairs(variants) do
      local name, opts = v[1], v[2]
      local gen = tensor.Generator(5)
      local p0 = tensor.randn({N}, gen)
      local grads = {tensor.randn({N}, gen), tensor.randn({N}, gen), tensor.randn({N}, gen)}
      local one, four = run(name, opts, 1, p0, grads), run(name, opts, 4, p0, grads)
      local what = name .. " " .. tostring(opts.momentum or opts.amsgrad or opts.weight_decay or "")
      check_eq(one:equal(four), true, what .. ": 1 vs 4 threads")
      for _, first in ipairs{1, N - PART + 1} do
        local small = run(name, opts, 4, p0:narrow(1, first, PART),
          {grads[1]:narrow(1, first, PART), grads[2]:narrow(1, first, PART), grads[3]:narrow(1, first, PART)})
        check_eq(four:narrow(1, first, PART):equal(small), true, what .. ": elements " .. first .. ".. as a small parameter")
      end
    end
  end)
  tensor.set_num_threads(before)
  if not ok then error(err, 0) end
end)

-- step hands nnlua's own rules `true` for the gradient, and their kernel reads
-- p's .grad itself (no Lua value holds it, so zero_grad frees it at once); a
-- subclass that writes its own _update still gets the tensor.
test("a subclass's own _update gets the gradient tensor; the built-in rules read it in C", function()
  local MySGD = optim.Optimizer:extend("MySGD", {{"lr", 0.1}})
  local seen
  function MySGD:_update(p, grad, st, g)
    seen = grad
    tensor.no_grad(function() p:sub_(grad * g.lr) end)
  end
  local w = leaf(tensor.new{1, 2, 3})
  local opt = MySGD({w}, {lr = 0.5})
  w.grad = tensor.new{2, 2, 2}
  opt:step()
  check_eq(tensor.is_tensor(seen), true, "the subclass got a tensor")
  check_close(w:detach(), {0, 1, 2}, 0, "its update ran")
  -- a subclass that keeps the built-in _update (AdamW of Adam, or a user's) takes the C path
  local Mine = optim.Adam:extend("MyAdam", {{"lr", 1e-3}, {"betas", {0.9, 0.999}, table = true},
                                            {"eps", 1e-8}, {"weight_decay", 0}, {"amsgrad", false}})
  local a, b = leaf(tensor.new{1, -1}), leaf(tensor.new{1, -1})
  local o1, o2 = Mine({a}, {lr = 0.1}), optim.Adam({b}, {lr = 0.1})
  for _ = 1, 3 do
    a.grad, b.grad = tensor.new{0.5, -2}, tensor.new{0.5, -2}
    o1:step(); o2:step()
  end
  check_eq(a:detach():equal(b:detach()), true, "inherited _update")
end)

test("optim._C kernels take true for the parameter's own .grad, and refuse it without one", function()
  local p = leaf(tensor.new{1, 2})
  expect_error(function() C.sgd(p, true, nil, 0.1, 0, 0, 0, false, false) end, "the parameter has no .grad")
  expect_error(function() C.sgd(p, false, nil, 0.1, 0, 0, 0, false, false) end, "expected a tensor or true")
  check_eq(C.has_grad(p), false, "has_grad before")
  p.grad = tensor.new{1, 1}
  check_eq(C.has_grad(p), true, "has_grad after")
  C.sgd(p, true, nil, 0.5, 0, 0, 0, false, false)
  check_close(p:detach(), {0.5, 1.5}, 0, "sgd through p's own grad")
end)

test("a step that fails updates nothing: every group and parameter is checked first", function()
  local function setup()
    local a, b = tensor.new{1, 2}:requires_grad_(), tensor.new{3, 4}:requires_grad_()
    local opt = optim.Adam({{params = {a}}, {params = {b}, lr = 0.5}}, {lr = 0.1})
    a.grad, b.grad = tensor.new{1, 1}, tensor.new{1, 1}
    return opt, a, b
  end
  -- a parameter of the second group closed: the first group was stepped before the error
  local opt, a, b = setup()
  do local t <close> = b end
  local msg = expect_error(function() opt:step() end, "parameter 1 of group 2 has been freed (closed); nothing was updated")
  assert(msg:find("test_optim.lua"), "the message points at the script: " .. msg)
  check_close(a:detach(), {1, 2}, 0, "the first group's parameter")
  check_eq(next(opt.state), nil, "no state was made")
  -- an option of the second group made invalid between steps
  opt, a, b = setup()
  opt.param_groups[2].lr = -1
  expect_error(function() opt:step() end, "lr")
  check_close(a:detach(), {1, 2}, 0, "the first group's parameter")
  opt.param_groups[2].lr = 0.5
  opt:step()
  check_eq(opt.state[a].step ~= nil, true, "the step after the fix runs")
end)
