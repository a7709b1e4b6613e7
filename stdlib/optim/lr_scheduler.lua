-- optim.lr_scheduler -- learning-rate schedulers acting on opt.param_groups,
-- step for step as PyTorch 2.x's torch.optim.lr_scheduler (same chainable
-- get_lr forms, same closed forms for step(epoch)), plus InverseTimeLR.
--
--   local sched = optim.lr_scheduler.StepLR(opt, 30, 0.1)   -- PyTorch's order, or
--   local sched = optim.lr_scheduler.StepLR(opt, {step_size = 30, gamma = 0.1})
--   for epoch = 1, n do train(); opt:step(); sched:step() end
--
-- Every scheduler has sched:step([epoch | metric]), sched:get_last_lr(),
-- sched.last_epoch, sched:state_dict(), sched:load_state_dict(sd).
-- last_epoch = k >= 0 resumes as PyTorch does: the groups must hold
-- initial_lr, and the scheduler's first step goes to epoch k + 1.
-- Warnings go through lr_scheduler._warn(msg) (default: io.stderr), which
-- tests may replace. One class per file in stdlib/optim/sched/.

local M = require("optim.sched.base").module

for _, name in ipairs({"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts", "PolynomialLR", "LinearLR", "LambdaLR", "InverseTimeLR",
    "OneCycleLR", "ReduceLROnPlateau", "SequentialLR"}) do
  M[name] = require("optim.sched." .. name)
end

return M
