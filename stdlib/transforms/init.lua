-- The transforms module: require "transforms" (also the global transforms).
--
--   transforms.Compose(transforms)           Compose{t1, t2, ...}: in order
--   transforms.ToTensor()                    raw [H, W] / [H, W, C] of 0..255 -> [C, H, W] in [0, 1]
--   transforms.Normalize(mean, std [, inplace = false])   per channel: (x - mean) / std
--   transforms.Flatten()                     -> 1-d (nnlua's)
--   transforms.RandomHorizontalFlip([p = 0.5])            mirror with probability p
--   transforms.RandomCrop(size [, padding, pad_if_needed = false, fill = 0, padding_mode = "constant"])
--   transforms.Lambda(lambd)                 any Lua function of one sample
--
-- Arguments in torchvision's order or by name in one trailing table
-- (nnlua.args): RandomCrop(28, {padding = 4}). A transform is called on one
-- sample: t(x). The built-in ones are kernels in C (nn/data/transform.c); each
-- describes itself as a step table, so a DataLoader can run a whole Compose
-- over a batch in C. Random transforms draw from the default generator
-- (tensor.manual_seed) unless given {generator = g} (by name only).
local tensor = require "tensor"
local args = require "nnlua.args"
local class = require "nnlua.class"
local data = require "data"
local C = require "data._C"

local transforms = {}

local FLOAT_MAX = 3.4028234663852886e38   -- the largest finite float32: kernels compute in float32

-- The base of the built-in transforms: an instance has _step, the table that
-- describes it to C, and _args, its arguments as printed.
local Transform = class("Transform", nil, {receiver = "transform"})
transforms.Transform = Transform

-- a built-in transform on one sample: its step, applied by C
function Transform.__call(self, x)
  if not tensor.is_tensor(x) then
    error(string.format("%s: expected a tensor, got %s", self.__name, type(x)), 2)
  end
  return C.apply(self._step, x)
end

function Transform:_steps() return {self._step} end

function Transform.__tostring(self) return self.__name .. "(" .. (self._args or "") .. ")" end

local function subclass(name) return class(name, Transform) end

------------------------------------------------------------------ ToTensor

local ToTensor = subclass("ToTensor")
transforms.ToTensor = ToTensor

function ToTensor:init(...)
  args.parse("ToTensor", {}, ...)
  self._step = {kind = "totensor"}
end

----------------------------------------------------------------- Normalize

local Normalize = subclass("Normalize")
transforms.Normalize = Normalize

-- one number per channel: a number or an array of numbers
local function numbers(v, fn, name)
  if type(v) == "number" then v = {v} end
  if type(v) ~= "table" or #v == 0 then
    error(string.format("%s: %s must be a table of numbers (one per channel), got %s",
                        fn, name, type(v)), 4)
  end
  local out = {}
  for k, x in ipairs(v) do
    if type(x) ~= "number" or x ~= x then
      error(string.format("%s: %s[%d] must be a number, got %s", fn, name, k, tostring(x)), 4)
    end
    if math.abs(x) > FLOAT_MAX then
      error(string.format("%s: %s[%d] = %s is not a finite float32 number", fn, name, k, tostring(x)), 4)
    end
    out[k] = x
  end
  return out
end

local NORMALIZE = {
  {"mean", args.REQUIRED, table = true, check = numbers},
  {"std", args.REQUIRED, table = true, check = numbers},
  {"inplace", false, check = args.boolean},
}

-- Normalize(mean, std [, inplace = false]): per channel (x - mean) / std;
-- inplace writes the result into the sample given and returns it
function Normalize:init(...)
  local a = args.parse("Normalize", NORMALIZE, ...)
  local mean, std = a.mean, a.std
  if #mean ~= #std then
    error(string.format("Normalize: %d means but %d stds", #mean, #std), 3)
  end
  for k, s in ipairs(std) do
    if s == 0 then error(string.format("Normalize: std[%d] is 0", k), 3) end
  end
  local function list(v)
    local s = {}
    for k, x in ipairs(v) do s[k] = string.format("%g", x) end
    return "{" .. table.concat(s, ", ") .. "}"
  end
  self.mean, self.std, self.inplace = mean, std, a.inplace
  self._args = list(mean) .. ", " .. list(std) .. (a.inplace and ", inplace=true" or "")
  self._step = {kind = "normalize", mean = mean, std = std}
end

function Normalize.__call(self, x)
  local y = Transform.__call(self, x)
  if self.inplace then return x:copy_(y) end
  return y
end

------------------------------------------------------------------- Flatten

local Flatten = subclass("Flatten")
transforms.Flatten = Flatten

function Flatten:init(...)
  args.parse("Flatten", {}, ...)
  self._step = {kind = "flatten"}
end

------------------------------------------------------ RandomHorizontalFlip

local Flip = subclass("RandomHorizontalFlip")
transforms.RandomHorizontalFlip = Flip

local FLIP = {
  {"p", 0.5, check = args.number(0, 1)},
  {"generator", nil, positional = false, check = data._generator},   -- nnlua's
}

-- RandomHorizontalFlip([p = 0.5]) or RandomHorizontalFlip{p = 0.5, generator = g}
function Flip:init(...)
  local a = args.parse("RandomHorizontalFlip", FLIP, ...)
  self.p, self._args = a.p, string.format("p=%g", a.p)
  self._step = {kind = "hflip", p = a.p, generator = a.generator}
end

---------------------------------------------------------------- RandomCrop

local Crop = subclass("RandomCrop")
transforms.RandomCrop = Crop

local function whole(name, v)
  if math.type(v) == "integer" then return v end
  if math.type(v) == "float" and v == math.floor(v) then return math.tointeger(v) end
  error(string.format("RandomCrop: %s must be whole numbers, got %s", name, tostring(v)), 5)
end

-- size: n or {h, w} -> {h, w}
local function crop_size(v, fn)
  local h, w
  if type(v) == "number" then h = whole("size", v); w = h
  elseif type(v) == "table" and #v == 2 then h, w = whole("size", v[1]), whole("size", v[2])
  else error(string.format("%s: size must be a number or {height, width}, got %s", fn, type(v)), 4) end
  if h < 1 or w < 1 then error(string.format("%s: size [%d, %d] must be positive", fn, h, w), 4) end
  return {h, w}
end

-- padding: n (all sides), {left/right, top/bottom} or {left, top, right, bottom},
-- as torchvision -> {left, top, right, bottom}
local function crop_padding(p, fn)
  local pad
  if type(p) == "number" then
    p = whole("padding", p); pad = {p, p, p, p}
  elseif type(p) == "table" and #p == 2 then
    local a, b = whole("padding", p[1]), whole("padding", p[2]); pad = {a, b, a, b}
  elseif type(p) == "table" and #p == 4 then
    pad = {}
    for k = 1, 4 do pad[k] = whole("padding", p[k]) end
  else
    error(fn .. ": padding must be a number or a table of 2 or 4 numbers", 4)
  end
  for k = 1, 4 do
    if pad[k] < 0 then error(fn .. ": padding must be >= 0, got " .. pad[k], 4) end
  end
  return pad
end

local function fill_number(v, fn)
  if type(v) ~= "number" or v ~= v or math.abs(v) > FLOAT_MAX then
    error(string.format("%s: fill must be a finite float32 number (one value for every channel), got %s",
                        fn, args.describe(v)), 4)
  end
  return v
end

local CROP = {
  {"size", args.REQUIRED, table = true, check = crop_size},
  {"padding", nil, table = true, check = crop_padding},
  {"pad_if_needed", false, check = args.boolean},
  {"fill", 0, check = fill_number},
  {"padding_mode", "constant", check = args.oneof("constant", "edge", "reflect", "symmetric")},
  {"generator", nil, positional = false, check = data._generator},   -- nnlua's
}

-- RandomCrop(size [, padding, pad_if_needed, fill, padding_mode]) and
-- {generator = g}: pads, then crops a random window, as torchvision
function Crop:init(...)
  local a = args.parse("RandomCrop", CROP, ...)
  local size, pad, mode = a.size, a.padding or {0, 0, 0, 0}, a.padding_mode
  local h, w = size[1], size[2]
  local text = string.format("size=[%d, %d], padding={%d, %d, %d, %d}", h, w, pad[1], pad[2], pad[3], pad[4])
  if mode ~= "constant" then text = text .. ", padding_mode=" .. mode end
  self.size, self.padding, self._args = size, pad, text
  self._step = {kind = "crop", size = {h, w}, padding = pad, padding_mode = mode,
                pad_if_needed = a.pad_if_needed, fill = a.fill, generator = a.generator}
end

-------------------------------------------------------------------- Lambda

local Lambda = subclass("Lambda")
transforms.Lambda = Lambda

local function lua_function(v, fn, name)
  if type(v) ~= "function" then
    error(string.format("%s: %s must be a function, got %s", fn, name, type(v)), 4)
  end
  return v
end

-- Lambda(lambd): any Lua function of one sample
function Lambda:init(...)
  local a = args.parse("Lambda", {{"lambd", args.REQUIRED, check = lua_function}}, ...)
  self.fn = a.lambd
end

function Lambda.__call(self, x) return self.fn(x) end
function Lambda._steps() return nil end

------------------------------------------------------------------- Compose

local Compose = subclass("Compose")
transforms.Compose = Compose

local function transform_list(list, fn, name)
  if type(list) ~= "table" or getmetatable(list) ~= nil then
    error(string.format("%s: %s must be a table of transforms, got %s", fn, name,
                        class.is_object(list) and "one transform (put it in a table: Compose{t})" or type(list)), 4)
  end
  local ts = {}
  for k, t in ipairs(list) do
    local mt = getmetatable(t)
    if type(t) ~= "function" and not (type(mt) == "table" and mt.__call ~= nil) then
      error(string.format("%s: item %d is a %s, not a transform or function", fn, k, type(t)), 4)
    end
    ts[k] = t
  end
  return ts
end

-- Compose(transforms): applies them in order (Lua functions allowed)
function Compose:init(...)
  local a = args.parse("Compose", {{"transforms", args.REQUIRED, table = true, check = transform_list}}, ...)
  self.transforms = a.transforms
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
