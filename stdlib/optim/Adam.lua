-- optim.Adam: Adam with bias correction and optional AMSGrad (PyTorch's
-- torch.optim.Adam): denom = sqrt(v)/sqrt(1 - b2^t) + eps.
--   optim.Adam(params, lr, betas, eps, weight_decay, amsgrad,
--              {foreach, maximize, capturable, differentiable, fused, decoupled_weight_decay})
local tensor = require "tensor"
local C = require "optim._C"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local Adam = Optimizer:extend("Adam", {
  {"lr", 1e-3}, {"betas", {0.9, 0.999}, table = true}, {"eps", 1e-8}, {"weight_decay", 0}, {"amsgrad", false},
  unsupported "foreach", unsupported "maximize", unsupported "capturable", unsupported "differentiable",
  unsupported "fused",
  {"decoupled_weight_decay", false, positional = false, native = false, only = false,
   why = "use optim.AdamW, which is Adam with decoupled weight decay"},
})
Adam.state_keys = {step = true, exp_avg = true, exp_avg_sq = true, max_exp_avg_sq = true}
Adam._decoupled = false   -- AdamW sets it: p *= 1 - lr*wd instead of g += wd*p

function Adam:_check(g, fn)
  Optimizer.check_betas(fn, g)
  Optimizer.check_nonneg(fn, g, "eps")
  Optimizer.check_nonneg(fn, g, "weight_decay")
  Optimizer.check_bool(fn, g, "amsgrad")
end

function Adam:_update(p, grad, st, g)
  if st.step == nil then
    st.step, st.exp_avg, st.exp_avg_sq = 0, tensor.zeros(p.shape), tensor.zeros(p.shape)
  end
  if g.amsgrad and st.max_exp_avg_sq == nil then st.max_exp_avg_sq = tensor.zeros(p.shape) end
  local step = st.step + 1
  C.adam(p, grad, st.exp_avg, st.exp_avg_sq, g.amsgrad and st.max_exp_avg_sq or nil, step,
    g.lr, g.betas[1], g.betas[2], g.eps, g.weight_decay, g.amsgrad, self._decoupled)
  st.step = step
end

Optimizer._grad_in_c(Adam)

return Adam
