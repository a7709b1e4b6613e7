-- optim.Adamax: Adam with the infinity norm (PyTorch's torch.optim.Adamax).
--   optim.Adamax(params, lr, betas, eps, weight_decay, foreach, {maximize, differentiable, capturable})
local tensor = require "tensor"
local C = require "optim._C"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local Adamax = Optimizer:extend("Adamax", {
  {"lr", 2e-3}, {"betas", {0.9, 0.999}, table = true}, {"eps", 1e-8}, {"weight_decay", 0},
  unsupported("foreach", true), unsupported "maximize", unsupported "differentiable", unsupported "capturable",
})
Adamax.state_keys = {step = true, exp_avg = true, exp_inf = true}

function Adamax:_check(g, fn)
  Optimizer.check_betas(fn, g)
  Optimizer.check_nonneg(fn, g, "eps")
  Optimizer.check_nonneg(fn, g, "weight_decay")
end

function Adamax:_update(p, grad, st, g)
  if st.step == nil then st.step, st.exp_avg, st.exp_inf = 0, tensor.zeros(p.shape), tensor.zeros(p.shape) end
  local step = st.step + 1
  C.adamax(p, grad, st.exp_avg, st.exp_inf, step, g.lr, g.betas[1], g.betas[2], g.eps, g.weight_decay)
  st.step = step
end

Optimizer._grad_in_c(Adamax)

return Adamax
