-- optim.AdamW: Adam with decoupled weight decay, p *= 1 - lr*wd before the
-- Adam update (PyTorch's torch.optim.AdamW).
local Adam = require "optim.Adam"

local AdamW = Adam:extend("AdamW", {
  lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2, amsgrad = false,
})
AdamW._decoupled = true

return AdamW
