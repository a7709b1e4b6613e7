-- optim.AdamW: Adam with decoupled weight decay, p *= 1 - lr*wd before the
-- Adam update (PyTorch's torch.optim.AdamW).
--   optim.AdamW(params, lr, betas, eps, weight_decay, amsgrad,
--               {maximize, foreach, capturable, differentiable, fused})
local Adam = require "optim.Adam"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local AdamW = Adam:extend("AdamW", {
  {"lr", 1e-3}, {"betas", {0.9, 0.999}, table = true}, {"eps", 1e-8}, {"weight_decay", 1e-2}, {"amsgrad", false},
  unsupported "maximize", unsupported "foreach", unsupported "capturable", unsupported "differentiable",
  unsupported "fused",
})
AdamW._decoupled = true

return AdamW
