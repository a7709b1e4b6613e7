-- optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov
-- momentum and L2 weight decay (PyTorch's torch.optim.SGD):
--   optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, {maximize, foreach, differentiable, fused})
local tensor = require "tensor"
local C = require "optim._C"
local args = require "nnlua.args"
local Optimizer = require "optim.Optimizer"
local unsupported = Optimizer.unsupported

local SGD = Optimizer:extend("SGD", {
  {"lr", args.REQUIRED}, {"momentum", 0}, {"dampening", 0}, {"weight_decay", 0}, {"nesterov", false},
  unsupported "maximize", unsupported "foreach", unsupported "differentiable", unsupported "fused",
})
SGD.state_keys = {momentum_buffer = true}

function SGD:_check(g, fn)
  Optimizer.check_nonneg(fn, g, "momentum")
  Optimizer.check_nonneg(fn, g, "weight_decay")
  if type(g.dampening) ~= "number" then Optimizer.raise(fn .. ": dampening must be a number, got " .. tostring(g.dampening)) end
  Optimizer.check_bool(fn, g, "nesterov")
  if g.nesterov and (g.momentum <= 0 or g.dampening ~= 0) then
    Optimizer.raise(fn .. ": nesterov momentum requires a momentum and zero dampening")
  end
end

-- the first step with momentum sets the buffer to the gradient
function SGD:_update(p, grad, st, g)
  local buf, first = nil, false
  if g.momentum ~= 0 then
    buf = st.momentum_buffer
    if buf == nil then buf = tensor.empty(p.shape); first = true end
  end
  C.sgd(p, grad, buf, g.lr, g.momentum, g.dampening, g.weight_decay, g.nesterov, first)
  if first then st.momentum_buffer = buf end
end

Optimizer._grad_in_c(SGD)

return SGD
