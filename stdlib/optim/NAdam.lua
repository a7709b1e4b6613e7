-- optim.NAdam: Adam with Nesterov momentum (PyTorch 2.x's torch.optim.NAdam,
-- whose mu_product fix, pytorch#92699, 1.13 lacks). mu_product is kept as a
-- number holding a float32 value, as PyTorch keeps it in a float32 tensor.
--   optim.NAdam(params, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay,
--               {foreach, maximize, capturable, differentiable})
local tensor = require "tensor"
local C = require "optim._C"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local NAdam = Optimizer:extend("NAdam", {
  {"lr", 2e-3}, {"betas", {0.9, 0.999}, table = true}, {"eps", 1e-8}, {"weight_decay", 0},
  {"momentum_decay", 4e-3},
  {"decoupled_weight_decay", false, native = false, only = false,
   why = "nnlua's NAdam adds weight_decay * p to the gradient (PyTorch's default)"},
  unsupported "foreach", unsupported "maximize", unsupported "capturable", unsupported "differentiable",
})
NAdam.state_keys = {step = true, mu_product = true, exp_avg = true, exp_avg_sq = true}

function NAdam:_check(g, fn)
  Optimizer.check_betas(fn, g)
  Optimizer.check_nonneg(fn, g, "eps")
  Optimizer.check_nonneg(fn, g, "weight_decay")
  Optimizer.check_nonneg(fn, g, "momentum_decay")
end

function NAdam:_update(p, grad, st, g)
  if st.step == nil then
    st.step, st.mu_product = 0, 1.0
    st.exp_avg, st.exp_avg_sq = tensor.zeros(p.shape), tensor.zeros(p.shape)
  end
  local step = st.step + 1
  st.mu_product = C.nadam(p, grad, st.exp_avg, st.exp_avg_sq, step, st.mu_product,
    g.lr, g.betas[1], g.betas[2], g.eps, g.weight_decay, g.momentum_decay)
  st.step = step
end

Optimizer._grad_in_c(NAdam)

return NAdam
