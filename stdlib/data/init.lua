-- The data module: require "data" (also the global data in the nnlua host).
--
--   data.TensorDataset(x, y, ...)                      rows of tensors
--   data.Subset(dataset, indices)                      a view of some samples of a dataset
--   data.random_split(dataset, lengths [, generator])  disjoint random Subsets
--   data.DataLoader(dataset, batch_size = 1, shuffle = false, ...)   batches (DataLoader.lua)
--   data.write_csv(path, rows [, {columns}]), data.read_csv(path)    CSV files (csv.lua)
--
-- Arguments come in PyTorch's order or by PyTorch's name in one trailing
-- table (nnlua.args). A dataset is anything with #ds and ds:get(i) -> input,
-- target (1-based).
local tensor = require "tensor"
local args = require "nnlua.args"
local class = require "nnlua.class"
local C = require "data._C"

local data = {}

-- #ds for any dataset, with an error naming the function when there is none
local function length(fn, ds, level)
  local ok, n = pcall(function() return #ds end)
  if not ok or math.type(n) ~= "integer" or n < 0 then
    error(string.format("%s: expected a dataset (a value with #ds and ds:get(i)), got %s",
                        fn, type(ds)), level + 1)
  end
  local has_get, get = pcall(function() return ds.get end)
  if not has_get or get == nil then
    error(string.format("%s: the dataset has no get method (ds:get(i) -> input, target)", fn), level + 1)
  end
  return n
end
data._length = length

local function check_index(fn, i, n)
  if math.type(i) == "float" and math.tointeger(i) then i = math.tointeger(i) end
  if math.type(i) ~= "integer" then
    error(string.format("%s: index must be an integer, got %s", fn, tostring(i)), 3)
  end
  if i < 1 or i > n then
    error(string.format("%s: index %d out of range 1..%d", fn, i, n), 3)
  end
  return i
end
data._check_index = check_index

-- whether g is a tensor.Generator
local function is_generator(g)
  local mt = type(g) == "userdata" and getmetatable(g)
  return type(mt) == "table" and mt.__name == "nn.Generator"
end

-- args.parse checks shared by data, datasets and transforms
function data._generator(v, fn, name)
  if not is_generator(v) then
    error(string.format("%s: %s must be a tensor.Generator, got %s", fn, name, args.describe(v)), 4)
  end
  return v
end

-- ds[i] on a dataset is an error that points at ds:get(i) (a PyTorch habit:
-- dataset[0]); other keys are looked up in the class as usual. Raised at its
-- stdlib location, which the message handler moves to the user's line (the
-- caller may be C: ipairs).
function data._dataset_index(self, k)
  if math.type(k) == "integer" or math.type(k) == "float" then
    error(string.format("%s[%s]: a dataset is not indexed with []; use ds:get(%s) -> input, target "
                        .. "(a Lua index expression keeps only one value)",
                        getmetatable(self).__name, tostring(k), tostring(k)))
  end
  return getmetatable(self)[k]
end

---------------------------------------------------------------- TensorDataset

local TensorDataset = class("TensorDataset", nil, {receiver = "ds"})
TensorDataset.__index = data._dataset_index
data.TensorDataset = TensorDataset

-- TensorDataset(x, y, ...): sample i is x[i], y[i], ... (rows along dim 1);
-- a row of a 1-d tensor is a number. Variadic as PyTorch's (*tensors): no names.
function TensorDataset:init(...)
  local ts = table.pack(...)
  if ts.n == 0 then error("TensorDataset: give at least one tensor", 3) end
  local n
  for k = 1, ts.n do
    local t = ts[k]
    if not tensor.is_tensor(t) then
      local hint = args.is_options(t) and next(t) ~= nil
        and " (TensorDataset takes tensors only, by position: data.TensorDataset(x, y))" or ""
      error(string.format("TensorDataset: argument #%d must be a tensor, got %s%s", k, type(t), hint), 3)
    end
    if t:dim() == 0 then error(string.format("TensorDataset: tensor #%d is 0-d", k), 3) end
    local rows = t:size(1)
    if n and rows ~= n then
      error(string.format("TensorDataset: tensors have different first sizes (%d and %d)", n, rows), 3)
    end
    n = rows
  end
  self.tensors, self._n = {table.unpack(ts, 1, ts.n)}, n
end

function TensorDataset.__len(self) return self._n end

function TensorDataset:get(i)
  i = check_index("TensorDataset:get", i, self._n)
  local out = {}
  for k, t in ipairs(self.tensors) do
    out[k] = t[i]                     -- a number for 1-d tensors, else a view
  end
  return table.unpack(out)
end

function TensorDataset.__tostring(self)
  local shapes = {}
  for k, t in ipairs(self.tensors) do
    local s = {}
    for d = 1, t:dim() do s[d] = tostring(t:size(d)) end
    shapes[k] = "[" .. table.concat(s, ", ") .. "]"
  end
  return string.format("TensorDataset(%d samples: %s)", self._n, table.concat(shapes, ", "))
end

----------------------------------------------------------------------- Subset

local Subset = class("Subset", nil, {receiver = "ds"})
data.Subset = Subset

-- indices (a Lua array of integers or a 1-d tensor) as an nn.Indices of exact
-- integers in 1..n
local function index_list(fn, indices, n)
  if not tensor.is_tensor(indices) and type(indices) ~= "table" then
    error(string.format("%s: indices must be a Lua array or a 1-d tensor, got %s", fn, type(indices)), 4)
  end
  local ok, r = pcall(C.indices_of, indices, n)
  if not ok then error(string.format("%s: %s", fn, r), 4) end
  return r
end

local SUBSET = {
  {"dataset", args.REQUIRED},
  {"indices", args.REQUIRED, table = true},
}

-- Subset(dataset, indices): indices a Lua array or a 1-d tensor, 1-based. They
-- are kept as exact integers (an nn.Indices in _idx); sub.indices gives them as
-- a float tensor while every one fits float32 exactly (up to 2^24).
function Subset:init(...)
  local a = args.parse("Subset", SUBSET, ...)
  local n = length("Subset", a.dataset, 3)
  self.dataset, self._idx = a.dataset, index_list("Subset", a.indices, n)
end

function Subset.__index(self, k)
  if k == "classes" then return rawget(self, "dataset").classes end   -- train.classes[y] reads well
  if k == "indices" then
    local ok, t = pcall(rawget(self, "_idx").tensor, rawget(self, "_idx"))
    if not ok then error("Subset.indices: " .. t .. "; use ds:index(i) for the i-th") end
    return t
  end
  return data._dataset_index(self, k)
end

function Subset.__len(self) return #self._idx end

-- ds:index(i) -> the index into ds.dataset of sample i, an integer
function Subset:index(i)
  i = check_index("Subset:index", i, #self._idx)
  return self._idx:get(i)
end

function Subset:get(i)
  i = check_index("Subset:get", i, #self._idx)
  return self.dataset:get(self._idx:get(i))
end

function Subset.__tostring(self)
  return string.format("Subset(%d of %d samples)", #self._idx, #self.dataset)
end

------------------------------------------------------------------ random_split

local RANDOM_SPLIT = {
  {"dataset", args.REQUIRED},
  {"lengths", args.REQUIRED, table = true},
  {"generator", nil, check = data._generator},
}

-- random_split(dataset, lengths [, generator]) -> Subset, Subset, ...
-- lengths are sizes or fractions. Fractions (summing to 1) become sizes as
-- PyTorch makes them: floor(n * f), then the remainder handed out one by one
-- from the first.
function data.random_split(...)
  local a = args.parse("random_split", RANDOM_SPLIT, ...)
  local ds, lengths, generator = a.dataset, a.lengths, a.generator
  local n = length("random_split", ds, 2)
  if type(lengths) ~= "table" or #lengths == 0 then
    error("random_split: lengths must be a non-empty array of sizes or fractions", 2)
  end
  local sum = 0
  for k, v in ipairs(lengths) do
    if type(v) ~= "number" or v < 0 or v ~= v then
      error(string.format("random_split: lengths[%d] = %s is not a number >= 0", k, tostring(v)), 2)
    end
    sum = sum + v
  end
  local sizes = {}
  if math.abs(sum - 1) < 1e-9 and sum <= 1 and n ~= 1 then
    local total = 0
    for k, f in ipairs(lengths) do sizes[k] = math.floor(n * f); total = total + sizes[k] end
    for k = 0, n - total - 1 do
      local j = k % #sizes + 1
      sizes[j] = sizes[j] + 1
    end
  else
    for k, v in ipairs(lengths) do
      if v ~= math.floor(v) then
        error(string.format("random_split: lengths[%d] = %s is not a whole number (fractions must sum to 1)",
                            k, tostring(v)), 2)
      end
      sizes[k] = math.tointeger(v)
    end
    if sum ~= n then
      error(string.format("random_split: lengths sum to %d but the dataset has %d samples", math.tointeger(sum) or sum, n), 2)
    end
  end
  local perm = C.randperm(n, generator)    -- exact integers; the draws of tensor.randperm
  local out, first = {}, 1
  for k, size in ipairs(sizes) do
    -- made without Subset:init: perm's slices are exact indices in range already
    out[k] = setmetatable({dataset = ds, _idx = perm:sub(first, size)}, Subset)
    first = first + size
  end
  return table.unpack(out)
end

data.DataLoader = require "data.DataLoader"

local csv = require "data.csv"
data.write_csv, data.read_csv = csv.write_csv, csv.read_csv

return data
