-- data.DataLoader(ds, {batch_size = 1, shuffle = false, drop_last = false,
--                      generator, progress}): batches of a dataset.
--
--   for x, y in loader:iter() do ... end     one epoch (a fresh shuffle each time)
--   #loader                                  batches per epoch
--
-- Three ways to make a batch, fastest first; all give the same tensors:
--   * built-in image datasets (datasets.*) whose transform is built in, also
--     through Subset/random_split: the whole batch in C from the uint8 images;
--   * TensorDataset (also through Subsets): index_select on each tensor;
--   * anything else: ds:get(i) per sample, stacked (numbers become a 1-d tensor).
local errors = require "nnlua.errors"
local Progress = require "data.progress"

local DataLoader = {__name = "DataLoader"}
DataLoader.__index = DataLoader

local OPTS = {batch_size = true, shuffle = true, drop_last = true, generator = true, progress = true}

setmetatable(DataLoader, {__call = function(_, ds, opts)
  local data = require "data"
  local n = data._length("DataLoader", ds, 2)
  opts = errors.check_opts("DataLoader", opts, OPTS)
  local bs = opts.batch_size or 1
  if math.type(bs) ~= "integer" or bs < 1 then
    if not (math.type(bs) == "float" and bs >= 1 and bs == math.floor(bs)) then
      error("DataLoader: batch_size must be an integer >= 1, got " .. tostring(bs), 2)
    end
    bs = math.tointeger(bs)
  end
  for _, k in ipairs {"shuffle", "drop_last", "progress"} do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then
      error(string.format("DataLoader: %s must be true or false, got %s", k, type(opts[k])), 2)
    end
  end
  if opts.generator ~= nil and not errors.is_generator(opts.generator) then
    error("DataLoader: generator must be a tensor.Generator, got " .. type(opts.generator), 2)
  end
  return setmetatable({dataset = ds, batch_size = bs, shuffle = opts.shuffle or false,
                       drop_last = opts.drop_last or false, generator = opts.generator,
                       progress = opts.progress}, DataLoader)
end})

function DataLoader.__len(self)
  local n = #self.dataset
  if self.drop_last then return n // self.batch_size end
  return (n + self.batch_size - 1) // self.batch_size
end

function DataLoader.__tostring(self)
  return string.format("DataLoader(%d samples, batch_size=%d, shuffle=%s, drop_last=%s, %d batches)",
                       #self.dataset, self.batch_size, tostring(self.shuffle),
                       tostring(self.drop_last), #self)
end

-- How to make batches of ds: {set, steps, index} for built-in image datasets,
-- {tensors, index} for TensorDataset, nil for per-sample. index (a 1-d tensor of
-- 1-based indices into the base dataset, or nil for 1..n) composes Subsets.
local function plan(ds)
  local data = require "data"
  local mt = getmetatable(ds)
  if mt == data.Subset then
    local p = plan(ds.dataset)
    if not p then return nil end
    local idx = ds.indices
    if p.index then idx = idx:numel() > 0 and p.index:index_select(1, idx) or idx end
    return {set = p.set, steps = p.steps, tensors = p.tensors, index = idx}
  elseif mt == data.TensorDataset then
    return {tensors = ds.tensors}
  elseif type(ds) == "table" and rawget(ds, "_set") and ds.target_transform == nil then
    local steps = ds:_steps()
    if steps then return {set = ds._set, steps = steps} end
  end
  return nil
end

local function collate(values, what)
  local first = values[1]
  if tensor.is_tensor(first) then
    return tensor.stack(values, 1)
  elseif type(first) == "number" then
    return tensor.new(values)
  elseif first == nil then
    return nil
  end
  error(string.format("DataLoader: cannot batch %ss of type %s (expected tensors or numbers)",
                      what, type(first)), 0)
end

local function per_sample(ds, order, first, count)
  local xs, ys, extra = {}, {}, nil
  for k = 1, count do
    local r = table.pack(ds:get(math.tointeger(order[first + k - 1])))
    xs[k], ys[k] = r[1], r[2]
    if r.n > 2 then
      extra = extra or {}
      for j = 3, r.n do extra[j] = extra[j] or {}; extra[j][k] = r[j] end
    end
  end
  local out = {collate(xs, "input"), collate(ys, "target")}
  if extra then for j = 3, #extra do out[j] = collate(extra[j], "value") end end
  return table.unpack(out, 1, extra and #extra or 2)
end

-- the batch of positions first .. first+count-1 of the epoch's order
local function make_batch(p, ds, order, first, count)
  if p and p.set then
    return p.set:batch(order, first, count, p.steps)
  elseif p then
    local idx = order:narrow(1, first, count)
    local out = {}
    for k, t in ipairs(p.tensors) do out[k] = t:index_select(1, idx) end
    return table.unpack(out)
  end
  return per_sample(ds, order, first, count)
end

-- loader:iter() -> the iterator of one epoch, for a generic for
function DataLoader:iter()
  local ds, bs = self.dataset, self.batch_size
  local n = #ds
  local nb = #self
  local p = plan(ds)
  local order
  if self.shuffle then order = tensor.randperm(n, self.generator)
  else order = n > 0 and tensor.arange(n) or tensor.empty(0) end
  if p and p.index then order = n > 0 and p.index:index_select(1, order) or order end
  local bar = Progress.enabled(self.progress) and nb > 0 and Progress.new(nb) or nil
  local b = 0
  local function finish(count, ...)
    if bar then bar:step(count) end
    return ...
  end
  local function produce()
    b = b + 1
    if b > nb then return nil end
    local first = (b - 1) * bs + 1
    local count = math.min(bs, n - first + 1)
    return finish(count, make_batch(p, ds, order, first, count))
  end
  local function step() return errors.rethrow(pcall(produce)) end
  local closer = setmetatable({}, {__close = function() if bar then bar:close() end end})
  return step, nil, nil, closer
end

return DataLoader
