-- optim.Adadelta: Adadelta (PyTorch's torch.optim.Adadelta).
--   optim.Adadelta(params, lr, rho, eps, weight_decay, foreach, {capturable, maximize, differentiable})
local tensor = require "tensor"
local C = require "optim._C"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local Adadelta = Optimizer:extend("Adadelta", {
  {"lr", 1.0}, {"rho", 0.9}, {"eps", 1e-6}, {"weight_decay", 0},
  unsupported("foreach", true), unsupported "capturable", unsupported "maximize", unsupported "differentiable",
})
Adadelta.state_keys = {step = true, square_avg = true, acc_delta = true}

function Adadelta:_check(g, fn)
  if type(g.rho) ~= "number" or not (g.rho >= 0 and g.rho <= 1) then
    Optimizer.raise(string.format("%s: rho must be in [0, 1], got %s", fn, tostring(g.rho)))
  end
  Optimizer.check_nonneg(fn, g, "eps")
  Optimizer.check_nonneg(fn, g, "weight_decay")
end

function Adadelta:_update(p, grad, st, g)
  if st.step == nil then st.step, st.square_avg, st.acc_delta = 0, tensor.zeros(p.shape), tensor.zeros(p.shape) end
  C.adadelta(p, grad, st.square_avg, st.acc_delta, g.lr, g.rho, g.eps, g.weight_decay)
  st.step = st.step + 1
end

Optimizer._grad_in_c(Adadelta)

return Adadelta
