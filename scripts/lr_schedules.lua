-- scripts/lr_schedules.lua -- every learning-rate scheduler of optim.lr_scheduler
-- over the same epochs, one subplot each, in one figure.
--
-- Each scheduler drives an SGD optimizer (lr 0.1) of one parameter; the
-- learning rate is read with get_last_lr() before each epoch's step, as a
-- training loop would use it. ReduceLROnPlateau is fed a made-up validation
-- loss that stops improving after epoch 30.
--
-- Run: ./nnlua scripts/lr_schedules.lua [--out FILE] [--epochs N] [--size WxH]

local argparse = require "argparse"
local p = argparse("nnlua scripts/lr_schedules.lua",
  "Every learning-rate scheduler over the same epochs, one subplot each.")
p:help_max_width(80)
p:option("--out", "The PNG to write.", "figures/lr_schedules.png"):argname("FILE")
p:option("--epochs", "Epochs to show.", "100"):convert(function(s)
  local n = math.tointeger(tonumber(s))
  if not n or n < 2 then return nil, "--epochs must be a whole number >= 2, got '" .. s .. "'" end
  return n
end)
p:option("--size", "Figure size in pixels (default 4 columns of 400 x 300).", ""):argname("WxH")
local opts = p:parse(arg)

local E = opts.epochs
local S = optim.lr_scheduler
local LR = 0.1

-- each scheduler: a name for the title and how to make it for an optimizer
local schedules = {
  {"StepLR(step_size = E/4, gamma = 0.5)", function(o) return S.StepLR(o, {step_size = math.max(1, E // 4), gamma = 0.5}) end},
  {"MultiStepLR(milestones = {E/2, 3E/4})", function(o) return S.MultiStepLR(o, {milestones = {E // 2, 3 * E // 4}, gamma = 0.1}) end},
  {"ExponentialLR(gamma = 0.96)", function(o) return S.ExponentialLR(o, {gamma = 0.96}) end},
  {"CosineAnnealingLR(T_max = E)", function(o) return S.CosineAnnealingLR(o, {T_max = E}) end},
  {"CosineAnnealingWarmRestarts(T_0 = E/8, T_mult = 2)", function(o)
    return S.CosineAnnealingWarmRestarts(o, {T_0 = math.max(1, E // 8), T_mult = 2}) end},
  {"PolynomialLR(total_iters = E, power = 2)", function(o) return S.PolynomialLR(o, {total_iters = E, power = 2}) end},
  {"LinearLR(0.1 -> 1 over E/5)", function(o) return S.LinearLR(o, {start_factor = 0.1, total_iters = math.max(1, E // 5)}) end},
  {"LambdaLR(0.5 ^ (epoch / 20))", function(o) return S.LambdaLR(o, {lr_lambda = function(e) return 0.5 ^ (e / 20) end}) end},
  {"InverseTimeLR(decay = 0.1)", function(o) return S.InverseTimeLR(o, {decay = 0.1}) end},
  {"OneCycleLR(max_lr = 0.1)", function(o) return S.OneCycleLR(o, {max_lr = LR, total_steps = E}) end},
  {"ReduceLROnPlateau(patience = 10)", function(o) return S.ReduceLROnPlateau(o, {factor = 0.5, patience = 10}) end,
   plateau = true},
  {"SequentialLR(LinearLR, then cosine)", function(o)
    local warm = math.max(1, E // 10)
    return S.SequentialLR(o, {schedulers = {S.LinearLR(o, {start_factor = 0.1, total_iters = warm}),
                                            S.CosineAnnealingLR(o, {T_max = E - warm})},
                              milestones = {warm}})
  end},
}

local cells = {}
for i, s in ipairs(schedules) do
  local w = tensor.zeros(1):requires_grad_()
  local opt = optim.SGD({w}, {lr = LR})
  local sched = s[2](opt)
  local epochs, lrs = {}, {}
  for e = 1, E do
    epochs[e], lrs[e] = e, sched:get_last_lr()[1]
    opt:step()                          -- (no gradient: nothing moves; the order is a training loop's)
    if s.plateau then
      sched:step(math.max(0.5, 1 - e / 60))    -- a validation loss that levels off at epoch 30
    else
      sched:step()
    end
  end
  cells[i] = plot.lines{title = s[1], xlabel = "epoch", ylabel = i % 4 == 1 and "learning rate" or nil,
                        series = {{x = epochs, y = lrs}}, legend = false, grid = true}
end

local W, H = 1600, 900
if opts.size ~= "" then
  local w, h = opts.size:match("^(%d+)x(%d+)$")
  if not w then p:error("--size must be WxH, e.g. 1600x900") end
  W, H = tonumber(w), tonumber(h)
end
plot.subplots{rows = 3, cols = 4, cells = cells, sharex = true, width = W, height = H,
              title = string.format("Learning-rate schedules over %d epochs (SGD, lr %g)", E, LR)}
  :save(opts.out)
print("wrote " .. opts.out)
