-- The small built-in layers: activations, Flatten, Identity, Dropout, BatchNorm1d.
-- (Dropout and BatchNorm1d are one call each into nn._C through nn.functional.)
-- Each constructor reads PyTorch's arguments through nnlua.args: in PyTorch's
-- order, or by name in one trailing table. Each class keeps its spec in
-- class.spec (the constructor tests walk them).
local tensor = require "tensor"
local Module = require "nn.Module"
local F = require "nn.functional"
local args = require "nnlua.args"
local L = {}

local INPLACE = {"inplace", false, only = false,
                 why = "nnlua's layers return a new tensor and never change their input: leave it out"}

-- a layer class: forward fn, its spec, how init stores the parsed arguments, and extra_repr
local function layer(name, spec, forward, repr)
  local class = Module:extend(name)
  class.spec = spec
  function class:init(...)
    for k, v in pairs(args.parse("nn." .. name, spec, ...)) do
      if k ~= "inplace" then self[k] = v end
    end
  end
  class.forward = forward
  if repr then class.extra_repr = repr end
  L[name] = class
  return class
end

layer("ReLU", {INPLACE}, function(_, x) return x:relu() end)
layer("Sigmoid", {}, function(_, x) return x:sigmoid() end)
layer("Tanh", {}, function(_, x) return x:tanh() end)
layer("Identity", {}, function(_, x) return x end)

layer("LeakyReLU", {{"negative_slope", 0.01, check = args.number()}, INPLACE},
      function(self, x) return F.leaky_relu(x, self.negative_slope) end,
      function(self) return "negative_slope=" .. self.negative_slope end)

layer("GELU", {{"approximate", "none", check = args.oneof("none", "tanh")}},
      function(self, x) return F.gelu(x, {approximate = self.approximate}) end,
      function(self) return "approximate='" .. self.approximate .. "'" end)

-- dims are 1-based: nn.Softmax(2) normalises each row of a [N, C] batch
local DIM = {"dim", args.REQUIRED, check = args.int()}
layer("Softmax", {DIM}, function(self, x) return x:softmax(self.dim) end,
      function(self) return "dim=" .. tostring(self.dim) end)
layer("LogSoftmax", {DIM}, function(self, x) return x:log_softmax(self.dim) end,
      function(self) return "dim=" .. tostring(self.dim) end)

layer("Flatten", {{"start_dim", 2, check = args.int()}, {"end_dim", -1, check = args.int()}},
      function(self, x) return x:flatten(self.start_dim, self.end_dim) end,
      function(self) return string.format("start_dim=%d, end_dim=%d", self.start_dim, self.end_dim) end)

layer("Dropout", {{"p", 0.5, check = args.number(0, 1)}, INPLACE},
      function(self, x) return F.dropout(x, self.p, self.training) end,
      function(self) return "p=" .. self.p end)

local BatchNorm1d = Module:extend("BatchNorm1d")
L.BatchNorm1d = BatchNorm1d
BatchNorm1d.spec = {
  {"num_features", args.REQUIRED, check = args.int(1)},
  {"eps", 1e-5, check = args.number(0)},
  {"momentum", 0.1, check = args.number(0, 1)},
  {"affine", true, check = args.boolean},
  {"track_running_stats", true, check = args.boolean},
  {"device", "cpu", only = "cpu", why = "nnlua computes on the CPU"},
  {"dtype", "float32", only = "float32", why = "nnlua's tensors are float32"},
}

function BatchNorm1d:init(...)
  local a = args.parse("nn.BatchNorm1d", BatchNorm1d.spec, ...)
  local n = a.num_features
  self.num_features, self.eps, self.momentum = n, a.eps, a.momentum
  self.affine, self.track_running_stats = a.affine, a.track_running_stats
  if a.affine then
    self.weight = tensor.ones(n):requires_grad_()
    self.bias = tensor.zeros(n):requires_grad_()
  end
  if a.track_running_stats then
    self:register_buffer("running_mean", tensor.zeros(n))
    self:register_buffer("running_var", tensor.ones(n))
  end
end

-- without running statistics, batch statistics are used in eval mode too (as in PyTorch)
function BatchNorm1d:forward(x)
  local batch_stats = self.training or self.running_mean == nil
  return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                      batch_stats, self.momentum, self.eps)
end

function BatchNorm1d:extra_repr()
  local s = string.format("%d, eps=%g, momentum=%g", self.num_features, self.eps, self.momentum)
  if not self.affine then s = s .. ", affine=false" end
  if not self.track_running_stats then s = s .. ", track_running_stats=false" end
  return s
end

return L
