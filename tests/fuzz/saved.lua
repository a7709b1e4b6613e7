-- saved.lua -- looks for wrong gradients from tensors changed between the
-- forward pass and backward, through nn's layers and losses.
--
--   nnlua tests/fuzz/saved.lua [seed] [trials]
--
-- A trial builds one random layer or loss with random sizes and options, runs
-- it forward, then changes one tensor in place through a detached alias
-- (which shares the storage, as x:detach() does in PyTorch): the input, a
-- parameter, the output or the target. Then backward. Either backward fails
-- with a message (the op saved that tensor and sees the change), or the
-- change did not matter: then every gradient (input and parameters) must be
-- what the same trial gives with nothing changed, bit for bit. Prints the
-- first mismatch and exits non-zero.
local seed = math.tointeger(tonumber(arg[1] or 1)) or 1
local trials = math.tointeger(tonumber(arg[2] or 300)) or 300
local rnd = math.random
local U = require "util"
local pick, flat = U.pick, U.flat

local failures, checked, errors = 0, 0, 0
local function fail(fmt, ...)
  io.stderr:write(string.format("saved fuzz seed %d: " .. fmt .. "\n", seed, ...))
  failures = failures + 1
  if failures >= 5 then os.exit(1) end
end

local function same(what, a, b)
  if a == nil and b == nil then return end
  if (a == nil) ~= (b == nil) then return fail("%s: a gradient is missing on one side", what) end
  local fa, fb = flat(a), flat(b)
  if #fa ~= #fb then return fail("%s: %d vs %d elements", what, #fa, #fb) end
  for i = 1, #fa do
    local x, y = fa[i], fb[i]
    if not (x == y or (x ~= x and y ~= y)) then
      return fail("%s: element %d is %.9g with the change and %.9g without", what, i, x, y)
    end
  end
end

-- a random layer or loss: returns a description and a function that builds
-- (module, input, target or nil) from a seed, so both runs build the same
local function random_case()
  local n, d_in, d_out = rnd(1, 5), rnd(1, 6), rnd(1, 6)
  local kinds = {
    function() return "Linear", nn.Linear(d_in, d_out, {bias = rnd(2) == 1}), tensor.randn(n, d_in) end,
    function() return "ReLU", nn.ReLU(), tensor.randn(n, d_in) end,
    function() return "Sigmoid", nn.Sigmoid(), tensor.randn(n, d_in) end,
    function() return "Tanh", nn.Tanh(), tensor.randn(n, d_in) end,
    function() return "GELU", nn.GELU(), tensor.randn(n, d_in) end,
    function() return "LeakyReLU", nn.LeakyReLU(0.1), tensor.randn(n, d_in) end,
    function() return "Softmax", nn.Softmax(2), tensor.randn(n, d_in) end,
    function() return "LogSoftmax", nn.LogSoftmax(2), tensor.randn(n, d_in) end,
    function() return "BatchNorm1d", nn.BatchNorm1d(d_in), tensor.randn(math.max(n, 2), d_in) end,
    function() return "Flatten", nn.Flatten(), tensor.randn(n, 2, 3) end,
    function() return "Sequential", nn.Sequential(nn.Linear(d_in, d_out), nn.ReLU(), nn.Linear(d_out, 3)),
                      tensor.randn(n, d_in) end,
    function()
      return "MSELoss", nn.MSELoss({reduction = pick{"mean", "sum", "none"}}), tensor.randn(n, d_in),
             tensor.randn(n, d_in)
    end,
    function()
      return "L1Loss", nn.L1Loss({reduction = pick{"mean", "sum", "none"}}), tensor.randn(n, d_in),
             tensor.randn(n, d_in)
    end,
    function()
      return "HuberLoss", nn.HuberLoss({reduction = pick{"mean", "sum", "none"}}), tensor.randn(n, d_in),
             tensor.randn(n, d_in)
    end,
    function()
      return "CrossEntropyLoss", nn.CrossEntropyLoss({reduction = pick{"mean", "sum", "none"},
                                                      label_smoothing = pick{0, 0.1}}),
             tensor.randn(n, d_in), tensor.randint(1, d_in + 1, {n})
    end,
    function()
      return "NLLLoss", nn.NLLLoss({reduction = pick{"mean", "sum", "none"}}),
             tensor.randn(n, d_in):log_softmax(2), tensor.randint(1, d_in + 1, {n})
    end,
    function()
      return "BCELoss", nn.BCELoss({reduction = pick{"mean", "sum", "none"}}), tensor.rand(n, d_in) * 0.9 + 0.05,
             tensor.rand(n, d_in)
    end,
    function()
      return "BCEWithLogitsLoss", nn.BCEWithLogitsLoss({reduction = pick{"mean", "sum", "none"}}),
             tensor.randn(n, d_in), tensor.rand(n, d_in)
    end,
  }
  return pick(kinds)
end

for trial = 1, trials do
  local build = random_case()
  local case_seed = seed * 100000 + trial
  local what_changes = pick{"input", "output", "parameter", "target"}
  local name

  -- one run: build, forward, maybe change, backward; returns status and the gradients
  local function run(change)
    tensor.manual_seed(case_seed)
    math.randomseed(case_seed)
    local mod, x0, target
    name, mod, x0, target = build()
    local leaf = x0:detach():requires_grad_(true)
    local x = leaf * 1                                  -- a non-leaf input an op may save
    local y = target and mod(x, target) or mod(x)
    local w = tensor.randn(table.unpack(y:size()))
    if change then
      local t
      if what_changes == "input" then t = x
      elseif what_changes == "output" then t = y
      elseif what_changes == "target" then t = target
      else
        local ps = mod:parameters()
        t = #ps > 0 and ps[rnd(#ps)] or nil
      end
      if t == nil then return "skip" end
      t:detach():add_(0.5)
    end
    local ok, err = pcall(function() (y * w):sum():backward() end)
    if not ok then return "error", err end
    local grads = {leaf.grad}
    for _, p in ipairs(mod:parameters()) do grads[#grads + 1] = p.grad or false end
    return "ok", grads
  end

  local ok1, s1, g1 = pcall(run, false)
  if not ok1 then fail("trial %d (%s): the unchanged run failed: %s", trial, tostring(name), tostring(s1)) end
  local ok2, s2, g2 = pcall(run, true)
  local what = string.format("trial %d: %s, %s changed before backward", trial, tostring(name), what_changes)
  if not ok2 then
    fail("%s: the run raised outside backward: %s", what, tostring(s2))
  elseif ok1 and s1 == "ok" and s2 == "ok" then
    for i = 1, #g1 do
      same(what .. string.format(" (gradient %d)", i), g2[i] or nil, g1[i] or nil)
    end
    checked = checked + 1
  elseif s2 == "error" then
    errors = errors + 1
    if type(g2) ~= "string" then fail("%s: error is a %s", what, type(g2)) end
  end
end

print(string.format("saved fuzz seed %d: %d gradients compared, %d refused by backward, %d mismatches",
                    seed, checked, errors, failures))
if failures > 0 then os.exit(1) end
