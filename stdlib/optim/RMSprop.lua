-- optim.RMSprop: RMSprop, optionally centered and with momentum (PyTorch's
-- torch.optim.RMSprop). PyTorch takes all its arguments by position:
--   optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered,
--                 capturable, foreach, maximize, differentiable)
local tensor = require "tensor"
local C = require "optim._C"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local RMSprop = Optimizer:extend("RMSprop", {
  {"lr", 1e-2}, {"alpha", 0.99}, {"eps", 1e-8}, {"weight_decay", 0}, {"momentum", 0}, {"centered", false},
  unsupported("capturable", true), unsupported("foreach", true), unsupported("maximize", true),
  unsupported("differentiable", true),
})
RMSprop.state_keys = {step = true, square_avg = true, grad_avg = true, momentum_buffer = true}

function RMSprop:_check(g, fn)
  Optimizer.check_nonneg(fn, g, "alpha")
  Optimizer.check_nonneg(fn, g, "eps")
  Optimizer.check_nonneg(fn, g, "weight_decay")
  Optimizer.check_nonneg(fn, g, "momentum")
  Optimizer.check_bool(fn, g, "centered")
end

function RMSprop:_update(p, grad, st, g)
  if st.step == nil then st.step, st.square_avg = 0, tensor.zeros(p.shape) end
  if g.centered and st.grad_avg == nil then st.grad_avg = tensor.zeros(p.shape) end
  if g.momentum > 0 and st.momentum_buffer == nil then st.momentum_buffer = tensor.zeros(p.shape) end
  C.rmsprop(p, grad, st.square_avg, g.centered and st.grad_avg or nil,
    g.momentum > 0 and st.momentum_buffer or nil, g.lr, g.alpha, g.eps, g.weight_decay, g.momentum, g.centered)
  st.step = st.step + 1
end

Optimizer._grad_in_c(RMSprop)

return RMSprop
