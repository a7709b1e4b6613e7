-- Loss modules: loss_fn(output, target) -> 0-d tensor (or per-element with reduction "none").
local Module = require "nn.Module"
local F = require "nn.functional"
local L = {}

local function loss(name, fn, known)
  local class = Module:extend(name)
  function class:init(opts)
    self.opts = F._check_opts(name, opts, known)
    if self.opts.weight ~= nil and not tensor.is_tensor(self.opts.weight) then
      error(name .. ": weight must be a tensor", 3)
    end
  end
  function class:forward(input, target)
    if not tensor.is_tensor(input) then error(name .. ": input must be a tensor, got " .. type(input), 2) end
    if not tensor.is_tensor(target) then error(name .. ": target must be a tensor, got " .. type(target), 2) end
    return F[fn](input, target, self.opts)
  end
  function class:extra_repr()
    local keys = {}
    for k, v in pairs(self.opts) do
      if not tensor.is_tensor(v) then keys[#keys + 1] = k .. "=" .. tostring(v) end
    end
    table.sort(keys)
    return table.concat(keys, ", ")
  end
  L[name] = class
end

loss("CrossEntropyLoss", "cross_entropy", {reduction = true, weight = true, label_smoothing = true})
loss("NLLLoss", "nll_loss", {reduction = true, weight = true})
loss("MSELoss", "mse_loss", {reduction = true})
loss("L1Loss", "l1_loss", {reduction = true})
loss("BCELoss", "binary_cross_entropy", {reduction = true, weight = true})
loss("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", {reduction = true, weight = true})
loss("HuberLoss", "huber_loss", {reduction = true, delta = true})

return L
