-- The transforms module: require "transforms" (also the global transforms).
--
--   transforms.Compose{t1, t2, ...}
--   transforms.ToTensor()                 raw [H, W] / [H, W, C] of 0..255 -> [C, H, W] in [0, 1]
--   transforms.Normalize(mean, std)       per channel: (x - mean) / std
--   transforms.Flatten()                  -> 1-d
--   transforms.RandomHorizontalFlip([p])  mirror with probability p (0.5)
--   transforms.RandomCrop(size [, {padding, pad_if_needed, fill, padding_mode}])
--   transforms.Lambda(fn)                 any Lua function of one sample
--
-- A transform is called on one sample: t(x). The built-in ones are kernels in C
-- (nn/transform.c); each describes itself as a step table, so a DataLoader can
-- run a whole Compose over a batch in C. Random transforms draw from the default
-- generator (tensor.manual_seed) unless given {generator = g}.
local errors = require "nnlua.errors"
local C = require "data._C"

local transforms = {}

local Transform = {__name = "Transform"}
Transform.__index = Transform
transforms.Transform = Transform

local function class(name)
  local cls = {__name = name}
  cls.__index = cls
  cls.__call = Transform.__call
  cls.__tostring = Transform.__tostring
  cls._steps = Transform._steps
  return setmetatable(cls, {__index = Transform})
end

-- a built-in transform on one sample: its step, applied by C
function Transform.__call(self, x)
  if not tensor.is_tensor(x) then
    error(string.format("%s: expected a tensor, got %s", self.__name, type(x)), 2)
  end
  return errors.rethrow(pcall(C.apply, self._step, x))
end

function Transform:_steps() return {self._step} end

function Transform.__tostring(self) return self.__name .. "(" .. (self._args or "") .. ")" end

local function check_generator(name, g)
  if g ~= nil and not errors.is_generator(g) then
    error(string.format("%s: generator must be a tensor.Generator, got %s", name, type(g)), 4)
  end
  return g
end

------------------------------------------------------------------ ToTensor

local ToTensor = class("ToTensor")
transforms.ToTensor = function()
  return setmetatable({_step = {kind = "totensor"}}, ToTensor)
end

----------------------------------------------------------------- Normalize

local Normalize = class("Normalize")

local function numbers(name, what, v)
  if type(v) == "number" then v = {v} end
  if type(v) ~= "table" or #v == 0 then
    error(string.format("Normalize: %s must be a table of numbers (one per channel), got %s",
                        what, type(v)), 3)
  end
  local out = {}
  for k, x in ipairs(v) do
    if type(x) ~= "number" or x ~= x then
      error(string.format("Normalize: %s[%d] must be a number, got %s", what, k, tostring(x)), 3)
    end
    out[k] = x
  end
  return out
end

transforms.Normalize = function(mean, std, opts)
  errors.check_opts("Normalize", opts, {inplace = true})
  mean, std = numbers("Normalize", "mean", mean), numbers("Normalize", "std", std)
  if #mean ~= #std then
    error(string.format("Normalize: %d means but %d stds", #mean, #std), 2)
  end
  for k, s in ipairs(std) do
    if s == 0 then error(string.format("Normalize: std[%d] is 0", k), 2) end
  end
  local function list(v)
    local s = {}
    for k, x in ipairs(v) do s[k] = string.format("%g", x) end
    return "{" .. table.concat(s, ", ") .. "}"
  end
  return setmetatable({mean = mean, std = std, _args = list(mean) .. ", " .. list(std),
                       _step = {kind = "normalize", mean = mean, std = std}}, Normalize)
end

------------------------------------------------------------------- Flatten

local Flatten = class("Flatten")
transforms.Flatten = function()
  return setmetatable({_step = {kind = "flatten"}}, Flatten)
end

------------------------------------------------------ RandomHorizontalFlip

local Flip = class("RandomHorizontalFlip")

-- RandomHorizontalFlip([p = 0.5]) or RandomHorizontalFlip{p = 0.5, generator = g}
transforms.RandomHorizontalFlip = function(p)
  local g
  if type(p) == "table" then
    errors.check_opts("RandomHorizontalFlip", p, {p = true, generator = true})
    p, g = p.p, check_generator("RandomHorizontalFlip", p.generator)
  end
  if p == nil then p = 0.5 end
  if type(p) ~= "number" or not (p >= 0 and p <= 1) then
    error("RandomHorizontalFlip: p must be a number in [0, 1], got " .. tostring(p), 2)
  end
  return setmetatable({p = p, _args = string.format("p=%g", p),
                       _step = {kind = "hflip", p = p, generator = g}}, Flip)
end

---------------------------------------------------------------- RandomCrop

local Crop = class("RandomCrop")
local PAD_MODES = {constant = true, edge = true, reflect = true, symmetric = true}

local function whole(name, v)
  if math.type(v) == "integer" then return v end
  if math.type(v) == "float" and v == math.floor(v) then return math.tointeger(v) end
  error(string.format("RandomCrop: %s must be whole numbers, got %s", name, tostring(v)), 4)
end

-- size: n or {h, w}; padding: n (all sides), {left/right, top/bottom} or
-- {left, top, right, bottom}, as torchvision
transforms.RandomCrop = function(size, opts)
  opts = errors.check_opts("RandomCrop", opts, {padding = true, pad_if_needed = true, fill = true,
                                                padding_mode = true, generator = true})
  local h, w
  if type(size) == "number" then h = whole("size", size); w = h
  elseif type(size) == "table" and #size == 2 then h, w = whole("size", size[1]), whole("size", size[2])
  else error("RandomCrop: size must be a number or {height, width}, got " .. type(size), 2) end
  if h < 1 or w < 1 then error(string.format("RandomCrop: size [%d, %d] must be positive", h, w), 2) end
  local pad, p = {0, 0, 0, 0}, opts.padding
  if type(p) == "number" then
    p = whole("padding", p); pad = {p, p, p, p}
  elseif type(p) == "table" and #p == 2 then
    local a, b = whole("padding", p[1]), whole("padding", p[2]); pad = {a, b, a, b}
  elseif type(p) == "table" and #p == 4 then
    for k = 1, 4 do pad[k] = whole("padding", p[k]) end
  elseif p ~= nil then
    error("RandomCrop: padding must be a number or a table of 2 or 4 numbers", 2)
  end
  for k = 1, 4 do
    if pad[k] < 0 then error("RandomCrop: padding must be >= 0, got " .. pad[k], 2) end
  end
  local mode = opts.padding_mode or "constant"
  if not PAD_MODES[mode] then
    error("RandomCrop: padding_mode must be 'constant', 'edge', 'reflect' or 'symmetric', got "
          .. tostring(mode), 2)
  end
  if opts.fill ~= nil and type(opts.fill) ~= "number" then
    error("RandomCrop: fill must be a number, got " .. type(opts.fill), 2)
  end
  if opts.pad_if_needed ~= nil and type(opts.pad_if_needed) ~= "boolean" then
    error("RandomCrop: pad_if_needed must be true or false", 2)
  end
  local g = check_generator("RandomCrop", opts.generator)
  local args = string.format("size=[%d, %d], padding={%d, %d, %d, %d}", h, w, pad[1], pad[2], pad[3], pad[4])
  if mode ~= "constant" then args = args .. ", padding_mode=" .. mode end
  return setmetatable({size = {h, w}, padding = pad, _args = args,
                       _step = {kind = "crop", size = {h, w}, padding = pad, padding_mode = mode,
                                pad_if_needed = opts.pad_if_needed or false, fill = opts.fill or 0,
                                generator = g}}, Crop)
end

-------------------------------------------------------------------- Lambda

local Lambda = class("Lambda")
transforms.Lambda = function(fn)
  if type(fn) ~= "function" then
    error("Lambda: expected a function, got " .. type(fn), 2)
  end
  return setmetatable({fn = fn}, Lambda)
end
function Lambda.__call(self, x) return self.fn(x) end
function Lambda._steps() return nil end

------------------------------------------------------------------- Compose

local Compose = class("Compose")

transforms.Compose = function(list)
  if type(list) ~= "table" or getmetatable(list) ~= nil then
    error("Compose: expected a table of transforms, got " .. type(list), 2)
  end
  local ts = {}
  for k, t in ipairs(list) do
    if not errors.callable(t) then
      error(string.format("Compose: item %d is a %s, not a transform or function", k, type(t)), 2)
    end
    ts[k] = t
  end
  return setmetatable({transforms = ts}, Compose)
end

function Compose.__call(self, x)
  for _, t in ipairs(self.transforms) do x = t(x) end
  return x
end

-- all steps in order, or nil if one part is not built in
function Compose:_steps()
  local steps = {}
  for _, t in ipairs(self.transforms) do
    if type(t) ~= "table" or type(t._steps) ~= "function" then return nil end
    local s = t:_steps()
    if s == nil then return nil end
    for _, st in ipairs(s) do steps[#steps + 1] = st end
  end
  return steps
end

function Compose.__tostring(self)
  local lines = {"Compose("}
  for _, t in ipairs(self.transforms) do
    lines[#lines + 1] = "    " .. (type(t) == "function" and "<function>" or tostring(t))
  end
  lines[#lines + 1] = ")"
  return table.concat(lines, "\n")
end

return transforms
