-- nn.Linear(in, out [, {bias = true}]): y = x Wᵀ + b with W [out, in], b [out],
-- initialised as PyTorch does: uniform in ±1/sqrt(in).
local Module = require "nn.Module"
local F = require "nn.functional"
local Linear = Module:extend("Linear")

local function whole(v, what)
  if math.type(v) ~= "integer" or v < 1 then
    error(string.format("Linear: %s must be a whole number >= 1, got %s", what, tostring(v)), 3)
  end
end

function Linear:init(in_features, out_features, opts)
  whole(in_features, "in_features"); whole(out_features, "out_features")
  local bias = true
  for k, v in pairs(opts or {}) do
    if k ~= "bias" then error("Linear: unknown option '" .. tostring(k) .. "'", 3) end
    bias = v
  end
  self.in_features, self.out_features = in_features, out_features
  local bound = 1 / math.sqrt(in_features)
  self.weight = tensor.empty(out_features, in_features):uniform_(-bound, bound):requires_grad_()
  if bias then self.bias = tensor.empty(out_features):uniform_(-bound, bound):requires_grad_() end
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
