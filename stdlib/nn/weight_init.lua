-- nn.init: in-place initialisers with PyTorch's gain and fan conventions.
-- fan_in of a weight [out, in, ...] is in * receptive field, fan_out is out * receptive field.
local tensor = require "tensor"
local args = require "nnlua.args"
local I = {}

local function fans(t)
  local s = t.shape
  if #s < 2 then error("nn.init: fan in and fan out need a tensor with at least 2 dims, got " .. #s, 3) end
  local rf = 1
  for i = 3, #s do rf = rf * s[i] end
  return s[2] * rf, s[1] * rf
end

function I.calculate_gain(nonlinearity, param)
  if nonlinearity == "linear" or nonlinearity == "sigmoid" or nonlinearity == nil then return 1 end
  if nonlinearity == "tanh" then return 5 / 3 end
  if nonlinearity == "relu" then return math.sqrt(2) end
  if nonlinearity == "leaky_relu" then
    local slope = param or 0.01
    return math.sqrt(2 / (1 + slope * slope))
  end
  if nonlinearity == "selu" then return 3 / 4 end
  error("nn.init.calculate_gain: unknown nonlinearity '" .. tostring(nonlinearity) .. "'", 2)
end

local function nograd(t, fn)
  if not tensor.is_tensor(t) then error("nn.init: expected a tensor, got " .. type(t), 3) end
  tensor.no_grad(fn)
  return t
end

local function opts_of(name, opts, known)
  return args.check_keys("nn.init." .. name, opts or {}, known, 3)
end

function I.uniform_(t, a, b) return nograd(t, function() t:uniform_(a or 0, b or 1) end) end
function I.normal_(t, mean, std) return nograd(t, function() t:normal_(mean or 0, std or 1) end) end
function I.constant_(t, v) return nograd(t, function() t:fill_(v) end) end
function I.zeros_(t) return I.constant_(t, 0) end
function I.ones_(t) return I.constant_(t, 1) end

function I.xavier_uniform_(t, gain)
  local fi, fo = fans(t)
  local a = (gain or 1) * math.sqrt(6 / (fi + fo))
  return I.uniform_(t, -a, a)
end

function I.xavier_normal_(t, gain)
  local fi, fo = fans(t)
  return I.normal_(t, 0, (gain or 1) * math.sqrt(2 / (fi + fo)))
end

local function kaiming_std(t, opts, name)
  opts = opts_of(name, opts, {a = true, mode = true, nonlinearity = true})
  local fi, fo = fans(t)
  local mode = opts.mode or "fan_in"
  if mode ~= "fan_in" and mode ~= "fan_out" then
    error("nn.init." .. name .. ": mode must be 'fan_in' or 'fan_out'", 3)
  end
  local gain = I.calculate_gain(opts.nonlinearity or "leaky_relu", opts.a or 0)
  return gain / math.sqrt(mode == "fan_in" and fi or fo)
end

function I.kaiming_uniform_(t, opts)
  local bound = math.sqrt(3) * kaiming_std(t, opts, "kaiming_uniform_")
  return I.uniform_(t, -bound, bound)
end

function I.kaiming_normal_(t, opts)
  return I.normal_(t, 0, kaiming_std(t, opts, "kaiming_normal_"))
end

return I
