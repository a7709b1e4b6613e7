-- nn.Linear(in_features, out_features [, bias = true]): y = x Wᵀ + b with
-- W [out, in], b [out], initialised as PyTorch does: uniform in ±1/sqrt(in).
local tensor = require "tensor"
local Module = require "nn.Module"
local F = require "nn.functional"
local args = require "nnlua.args"
local Linear = Module:extend("Linear")

local SPEC = {
  {"in_features", args.REQUIRED, check = args.int(1)},
  {"out_features", args.REQUIRED, check = args.int(1)},
  {"bias", true, check = args.boolean},
  {"device", "cpu", only = "cpu", why = "nnlua computes on the CPU"},
  {"dtype", "float32", only = "float32", why = "nnlua's tensors are float32"},
}
Linear.spec = SPEC

function Linear:init(...)
  local a = args.parse("nn.Linear", SPEC, ...)
  self.in_features, self.out_features = a.in_features, a.out_features
  local bound = 1 / math.sqrt(a.in_features)
  self.weight = tensor.empty(a.out_features, a.in_features):uniform_(-bound, bound):requires_grad_()
  if a.bias then self.bias = tensor.empty(a.out_features):uniform_(-bound, bound):requires_grad_() end
end

function Linear:forward(x)
  if not tensor.is_tensor(x) then
    error("Linear: expected a tensor input, got " .. type(x), 2)
  end
  local n = x.shape[#x.shape]
  if n ~= self.in_features then
    error(string.format("Linear(%d, %d): input of shape [%s] does not match (last dim %s vs %d)",
                        self.in_features, self.out_features, table.concat(x.shape, ", "),
                        tostring(n), self.in_features), 2)
  end
  return F.linear(x, self.weight, self.bias)
end

function Linear:extra_repr()
  return string.format("in_features=%d, out_features=%d, bias=%s", self.in_features,
                       self.out_features, tostring(self.bias ~= nil))
end

return Linear
