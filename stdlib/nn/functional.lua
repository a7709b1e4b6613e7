-- nn.functional: stateless forms of the layers and losses.
-- The layers and losses are the fused C kernels of the package "nn._C"
-- (nn/layer.c, nn/loss.c); the activations are tensor methods.
local tensor = require "tensor"
local C = require "nn._C"
local args = require "nnlua.args"
local F = {}

-- checks an option table against the known keys; returns it (or {} for nil)
function F._check_opts(fn, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" or tensor.is_tensor(opts) then
    error(fn .. ": options must be a table", 3)
  end
  return args.check_keys(fn, opts, known, 3)
end

function F.relu(x) return x:relu() end
function F.sigmoid(x) return x:sigmoid() end
function F.tanh(x) return x:tanh() end
function F.softmax(x, dim) return x:softmax(dim) end
function F.log_softmax(x, dim) return x:log_softmax(dim) end

for name, fn in pairs(C) do F[name] = fn end

-- The C binary cross entropies take no per-element weight: with one, the
-- unreduced loss is weighted here and then reduced.
local function weighted(name)
  local fused = C[name]
  F[name] = function(a, b, opts)
    if type(opts) ~= "table" or opts.weight == nil then return fused(a, b, opts) end
    F._check_opts(name, opts, {reduction = true, weight = true})
    local l = fused(a, b, {reduction = "none"}) * opts.weight
    local reduction = opts.reduction or "mean"
    if reduction == "mean" then return l:mean() end
    if reduction == "sum" then return l:sum() end
    if reduction == "none" then return l end
    error(name .. ": reduction must be 'mean', 'sum' or 'none', got " .. tostring(reduction), 2)
  end
end
weighted("binary_cross_entropy")
weighted("binary_cross_entropy_with_logits")

return F
