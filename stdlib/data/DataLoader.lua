-- data.DataLoader(dataset, batch_size = 1, shuffle = false, sampler, batch_sampler,
--                 num_workers = 0, collate_fn, pin_memory = false, drop_last = false,
--                 timeout = 0, worker_init_fn, multiprocessing_context, generator,
--                 {prefetch_factor, persistent_workers = false, pin_memory_device = "",
--                  progress}): batches of a dataset.
--
-- PyTorch's arguments in PyTorch's order or by name in one trailing table;
-- the ones nnlua does not implement (workers, samplers, pinning, collate_fn)
-- accept only their default, and anything else is an error that says what to
-- do instead.
--
--   for x, y in loader:iter() do ... end     one epoch (a fresh shuffle each time)
--   for x, y in loader do ... end            the same
--   #loader                                  batches per epoch
--
-- Three ways to make a batch, fastest first; all give the same tensors:
--   * built-in image datasets (datasets.*) whose transform is built in, also
--     through Subset/random_split: the whole batch in C from the uint8 images;
--   * TensorDataset (also through Subsets): index_select on each tensor;
--   * anything else: ds:get(i) per sample, stacked (numbers become a 1-d tensor).
local args = require "nnlua.args"
local class = require "nnlua.class"
local Progress = require "data.progress"

local DataLoader = class("DataLoader", nil, {receiver = "loader"})

local NO_WORKERS = "nnlua makes the batches in the script's own thread (built-in datasets "
  .. "assemble whole batches in C), so there are no worker processes: leave it out"
local CPU_ONLY = "nnlua runs on the CPU only: leave it out"

-- the arguments, made on first use (the generator check lives in data, which loads this file)
local SPEC
local function spec()
  if SPEC then return SPEC end
  local data = require "data"
  SPEC = {
    {"dataset", args.REQUIRED},
    {"batch_size", 1, check = args.int(1)},
    {"shuffle", false, check = args.boolean},
    {"sampler", nil, unsupported = "nnlua has no samplers: use shuffle = true for a random order, "
                                   .. "or data.Subset(dataset, indices) for some samples"},
    {"batch_sampler", nil, unsupported = "nnlua has no samplers: use batch_size, shuffle and "
                                         .. "drop_last, or data.Subset(dataset, indices)"},
    {"num_workers", 0, only = 0, why = NO_WORKERS},
    {"collate_fn", nil, unsupported = "the DataLoader stacks what ds:get(i) returns itself (tensors "
                                      .. "along a new first dimension, numbers into a 1-d tensor): "
                                      .. "return those from ds:get(i)"},
    {"pin_memory", false, only = false, why = CPU_ONLY},
    {"drop_last", false, check = args.boolean},
    {"timeout", 0, only = 0, why = NO_WORKERS},
    {"worker_init_fn", nil, unsupported = NO_WORKERS},
    {"multiprocessing_context", nil, unsupported = NO_WORKERS},
    {"generator", nil, check = data._generator},
    {"prefetch_factor", nil, positional = false, unsupported = NO_WORKERS},
    {"persistent_workers", false, positional = false, only = false, why = NO_WORKERS},
    {"pin_memory_device", "", positional = false, only = "", why = CPU_ONLY},
    {"progress", nil, positional = false, check = args.boolean},   -- nnlua's: the progress bar
  }
  return SPEC
end

function DataLoader:init(...)
  local a = args.parse("DataLoader", spec(), ...)
  require("data")._length("DataLoader", a.dataset, 3)
  self.dataset, self.batch_size, self.shuffle = a.dataset, a.batch_size, a.shuffle
  self.drop_last, self.generator, self.progress = a.drop_last, a.generator, a.progress
end

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
                      what, type(first)))
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

-- one epoch of self: a function returning the next batch (nothing at the end),
-- and its progress bar or nil
local function epoch(self)
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
  return produce, bar
end

-- the epochs of loops over the loader itself (for x, y in loader do), by loader
-- and then by the first value of the batch each returned last
local running = setmetatable({}, {__mode = "k"})

-- ends the bar line of a loop over the loader that was left with break: that
-- form of loop has no closing value, so this is done when the next epoch starts
local function close_abandoned(self)
  local epochs = running[self]
  if epochs then
    for _, e in pairs(epochs) do
      if e.bar then e.bar:close() end
    end
  end
end

-- loader:iter() -> the iterator of one epoch, for a generic for; its closing
-- value ends the progress bar's line when the loop is left with break
function DataLoader:iter()
  close_abandoned(self)
  local produce, bar = epoch(self)
  local closer = setmetatable({}, {__close = function() if bar then bar:close() end end})
  return produce, nil, nil, closer
end

-- for x, y in loader do ... end: the generic for calls loader(nil, nil) first,
-- then loader(nil, x) with the first value of the previous batch. A nil
-- control value starts a fresh epoch (so a loop left with break does not leak
-- into the next one); otherwise the epoch that returned that batch goes on,
-- which keeps loops over the same loader apart even when nested. Errors here
-- are raised at their stdlib location: the message handler moves it to the
-- user's line (the caller may be C, as ipairs is for __index).
local function advance(epochs, e, ...)
  local x = ...
  if x ~= nil then epochs[x] = e
  elseif e.bar then e.bar:close() end          -- the epoch is over: the finished bar
  return ...
end

function DataLoader.__call(self, state, control)
  if state ~= nil then
    error("DataLoader: a loader is not called with arguments; iterate over it: "
          .. "for x, y in loader do ... end (or loader:iter())")
  end
  local epochs = running[self]
  if epochs == nil then
    epochs = setmetatable({}, {__mode = "k"})
    running[self] = epochs
  end
  local e
  if control == nil then
    close_abandoned(self)
    local produce, bar = epoch(self)
    e = {produce = produce, bar = bar}
  else
    e = epochs[control]
    if e == nil then
      error("DataLoader: this loop's epoch is unknown (the loader was called with a value it did not "
            .. "return); iterate with for x, y in loader do ... end or loader:iter()")
    end
    epochs[control] = nil
  end
  return advance(epochs, e, e.produce())
end

local function not_a_list(what)
  return string.format("DataLoader: %s; a loader is iterated, not indexed: "
                       .. "for x, y in loader:iter() do ... end (or for x, y in loader do ... end), "
                       .. "and #loader is the number of batches", what)
end

-- loader[i] and ipairs(loader) (which reads loader[1]) are errors, not a silent nil
function DataLoader.__index(self, k)
  if type(k) == "number" then
    error(not_a_list(string.format("loader[%s] is not a batch (ipairs(loader) reads loader[1])",
                                   tostring(k))))
  end
  return getmetatable(self)[k]
end

function DataLoader.__pairs()
  error(not_a_list("pairs(loader) does not give batches"))
end

return DataLoader
