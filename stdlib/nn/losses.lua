-- Loss modules: loss_fn(output, target) -> 0-d tensor (or per-element with
-- reduction "none"). Constructors take PyTorch's arguments in PyTorch's order
-- or by name in one trailing table (nnlua.args); class.spec lists them.
local tensor = require "tensor"
local Module = require "nn.Module"
local F = require "nn.functional"
local args = require "nnlua.args"
local L = {}

local DEPRECATED = "PyTorch deprecated it: use reduction = 'mean', 'sum' or 'none'"
local WEIGHT = {"weight", nil, check = args.tensor}
local SIZE_AVERAGE = {"size_average", nil, unsupported = DEPRECATED}
local REDUCE = {"reduce", nil, unsupported = DEPRECATED}
local REDUCTION = {"reduction", "mean", check = args.oneof("mean", "sum", "none")}
local IGNORE_INDEX = {"ignore_index", -100, only = -100,
                      why = "nnlua does not skip targets yet: drop those samples from the batch"}

-- the options F[fn] takes, read from the parsed arguments
local PASSED = {weight = true, reduction = true, label_smoothing = true, delta = true}

local function loss(name, fn, spec)
  local class = Module:extend(name)
  class.spec = spec
  function class:init(...)
    local a = args.parse("nn." .. name, spec, ...)
    local opts = {}
    for _, e in ipairs(spec) do                -- those not at their default (shown by print)
      local v = a[e[1]]
      if PASSED[e[1]] and v ~= e[2] then opts[e[1]] = v end
    end
    self.opts = opts
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

loss("CrossEntropyLoss", "cross_entropy", {WEIGHT, SIZE_AVERAGE, IGNORE_INDEX, REDUCE, REDUCTION,
     {"label_smoothing", 0, check = args.number(0, 1)}})
loss("NLLLoss", "nll_loss", {WEIGHT, SIZE_AVERAGE, IGNORE_INDEX, REDUCE, REDUCTION})
loss("MSELoss", "mse_loss", {SIZE_AVERAGE, REDUCE, REDUCTION})
loss("L1Loss", "l1_loss", {SIZE_AVERAGE, REDUCE, REDUCTION})
loss("BCELoss", "binary_cross_entropy", {WEIGHT, SIZE_AVERAGE, REDUCE, REDUCTION})
loss("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", {WEIGHT, SIZE_AVERAGE, REDUCE, REDUCTION,
     {"pos_weight", nil, unsupported = "nnlua has no pos_weight yet: weight the loss with reduction = 'none'"}})
loss("HuberLoss", "huber_loss", {REDUCTION, {"delta", 1.0, check = args.number(0)}})

return L
