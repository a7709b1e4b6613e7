-- The small built-in layers: activations, Flatten, Identity, Dropout, BatchNorm1d.
-- (Dropout and BatchNorm1d are one call each into nn._C through nn.functional.)
local Module = require "nn.Module"
local F = require "nn.functional"
local L = {}

local function simple(name, fn, repr)
  local class = Module:extend(name)
  class.forward = fn
  if repr then class.extra_repr = repr end
  L[name] = class
  return class
end

simple("ReLU", function(_, x) return x:relu() end)
simple("Sigmoid", function(_, x) return x:sigmoid() end)
simple("Tanh", function(_, x) return x:tanh() end)
simple("Identity", function(_, x) return x end)

local LeakyReLU = simple("LeakyReLU", function(self, x) return F.leaky_relu(x, self.negative_slope) end,
                         function(self) return "negative_slope=" .. self.negative_slope end)
function LeakyReLU:init(slope) self.negative_slope = slope or 0.01 end

local GELU = simple("GELU", function(self, x) return F.gelu(x, {approximate = self.approximate}) end,
                    function(self) return "approximate='" .. self.approximate .. "'" end)
function GELU:init(opts)
  opts = F._check_opts("GELU", opts, {approximate = true})
  self.approximate = opts.approximate or "none"
end

local function dim_layer(name, method)
  local class = simple(name, function(self, x) return x[method](x, self.dim) end,
                       function(self) return "dim=" .. tostring(self.dim) end)
  function class:init(dim)
    if math.type(dim) ~= "integer" then error(name .. ": dim must be an integer, got " .. tostring(dim), 3) end
    self.dim = dim
  end
end
dim_layer("Softmax", "softmax")
dim_layer("LogSoftmax", "log_softmax")

local Flatten = simple("Flatten", function(self, x) return x:flatten(self.start_dim, self.end_dim) end,
                       function(self) return string.format("start_dim=%d, end_dim=%d", self.start_dim, self.end_dim) end)
function Flatten:init(start_dim, end_dim) self.start_dim, self.end_dim = start_dim or 2, end_dim or -1 end

local Dropout = simple("Dropout", function(self, x) return F.dropout(x, self.p, self.training) end,
                       function(self) return "p=" .. self.p end)
function Dropout:init(p)
  p = p or 0.5
  if type(p) ~= "number" or p < 0 or p > 1 then error("Dropout: p must be in [0, 1], got " .. tostring(p), 3) end
  self.p = p
end

local BatchNorm1d = Module:extend("BatchNorm1d")
L.BatchNorm1d = BatchNorm1d
function BatchNorm1d:init(n, opts)
  opts = F._check_opts("BatchNorm1d", opts, {eps = true, momentum = true, affine = true})
  self.num_features, self.eps, self.momentum = n, opts.eps or 1e-5, opts.momentum or 0.1
  if opts.affine ~= false then
    self.weight = tensor.ones(n):requires_grad_()
    self.bias = tensor.zeros(n):requires_grad_()
  end
  self:register_buffer("running_mean", tensor.zeros(n))
  self:register_buffer("running_var", tensor.ones(n))
end

function BatchNorm1d:forward(x)
  return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                      self.training, self.momentum, self.eps)
end

function BatchNorm1d:extra_repr()
  return string.format("%d, eps=%g, momentum=%g", self.num_features, self.eps, self.momentum)
end

return L
