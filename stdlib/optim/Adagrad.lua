-- optim.Adagrad: Adagrad with learning-rate decay (PyTorch's torch.optim.Adagrad):
-- sum += g^2; p -= lr/(1 + (t-1) lr_decay) g/(sqrt(sum) + eps).
--   optim.Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value, eps, foreach,
--                 {maximize, differentiable, fused})
local tensor = require "tensor"
local C = require "optim._C"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local Adagrad = Optimizer:extend("Adagrad", {
  {"lr", 1e-2}, {"lr_decay", 0}, {"weight_decay", 0}, {"initial_accumulator_value", 0}, {"eps", 1e-10},
  unsupported("foreach", true), unsupported "maximize", unsupported "differentiable", unsupported "fused",
})
Adagrad.state_keys = {step = true, sum = true}

function Adagrad:_check(g, fn)
  Optimizer.check_nonneg(fn, g, "lr_decay")
  Optimizer.check_nonneg(fn, g, "weight_decay")
  Optimizer.check_nonneg(fn, g, "initial_accumulator_value")
  Optimizer.check_nonneg(fn, g, "eps")
end

-- PyTorch fills the accumulator when the optimizer is built, from the group's value
function Adagrad:init(...)
  Optimizer.init(self, ...)
  for _, group in ipairs(self.param_groups) do
    for _, p in ipairs(group.params) do
      self.state[p] = {step = 0, sum = tensor.full(p.shape, group.initial_accumulator_value)}
    end
  end
end

function Adagrad:_update(p, grad, st, g)
  if st.step == nil then st.step = 0 end
  if st.sum == nil then st.sum = tensor.full(p.shape, g.initial_accumulator_value) end
  local step = st.step + 1
  C.adagrad(p, grad, st.sum, step, g.lr, g.lr_decay, g.weight_decay, g.eps)
  st.step = step
end

Optimizer._grad_in_c(Adagrad)

return Adagrad
