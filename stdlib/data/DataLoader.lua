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
--   * TensorDataset and datasets.CSV without transforms (also through Subsets):
--     index_select on each tensor;
--   * anything else: ds:get(i) per sample, stacked (numbers become a 1-d tensor).
local tensor = require "tensor"
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

-- batches per epoch, without overflow for any size of dataset or batch
function DataLoader.__len(self)
  local n = #self.dataset
  if self.drop_last then return n // self.batch_size end
  if n == 0 then return 0 end
  return (n - 1) // self.batch_size + 1
end

function DataLoader.__tostring(self)
  return string.format("DataLoader(%d samples, batch_size=%d, shuffle=%s, drop_last=%s, %d batches)",
                       #self.dataset, self.batch_size, tostring(self.shuffle),
                       tostring(self.drop_last), #self)
end

-- TensorDataset batches go through index_select, whose float32 index tensor
-- holds whole numbers exactly only up to 2^24; larger ones go sample by sample
local FLOAT_EXACT = 1 << 24

-- How to make batches of ds: {set, steps, index} for built-in image datasets,
-- {tensors, index} for TensorDataset, nil for per-sample. index (an nn.Indices
-- of 1-based indices into the base dataset, or nil for 1..n) composes Subsets.
local function plan(ds)
  local data = require "data"
  local mt = getmetatable(ds)
  if mt == data.Subset then
    local p = plan(ds.dataset)
    if not p then return nil end
    local idx = rawget(ds, "_idx")
    if p.index then idx = p.index:take(idx) end
    return {set = p.set, steps = p.steps, tensors = p.tensors, index = idx}
  elseif mt == data.TensorDataset then
    if #ds > FLOAT_EXACT then return nil end
    return {tensors = ds.tensors}
  elseif type(ds) == "table" and rawget(ds, "_tensors") and ds.transform == nil
         and ds.target_transform == nil then        -- datasets.CSV: its data and targets
    if #ds > FLOAT_EXACT then return nil end
    return {tensors = rawget(ds, "_tensors")}
  elseif type(ds) == "table" and rawget(ds, "_set") and ds.target_transform == nil then
    local steps = ds:_steps()
    if steps then return {set = ds._set, steps = steps} end
  end
  return nil
end

local function shape_string(t)
  return "[" .. table.concat(t.shape, ", ") .. "]"
end

local function what(j)
  return j == 1 and "input" or j == 2 and "target" or ("value " .. j)
end

-- Checks value j of the sample of index i against the batch's first sample
-- (index i1, value v1) and raises an error naming both when they cannot be
-- batched together.
local function check_value(v, j, i, v1, i1)
  local tv = tensor.is_tensor(v) and "tensor" or type(v)
  if tv ~= "tensor" and tv ~= "number" then
    error(string.format("DataLoader: ds:get(%d) returned %s as its %s (value %d); a batch is "
                        .. "made of tensors or numbers: return input, target from ds:get(i)",
                        i, v == nil and "nil" or "a " .. tv, what(j), j))
  end
  if v1 == nil then return end
  local t1 = tensor.is_tensor(v1) and "tensor" or type(v1)
  if tv ~= t1 then
    error(string.format("DataLoader: ds:get(%d) returned a %s as its %s but ds:get(%d) a %s; "
                        .. "every sample must give the same kinds of values", i, tv, what(j), i1, t1))
  end
  if tv == "tensor" then
    local a, b = v.shape, v1.shape
    local same = #a == #b
    for d = 1, #a do same = same and a[d] == b[d] end
    if not same then
      error(string.format("DataLoader: ds:get(%d) returned an %s of shape %s but ds:get(%d) one of "
                          .. "shape %s; the samples of a batch must have one shape (crop or "
                          .. "resize them)", i, what(j), shape_string(v), i1, shape_string(v1)))
    end
  end
end

-- the batch of the samples at positions first .. first+count-1 of order, from
-- ds:get one by one: every sample must return the same number of values (at
-- least the input), each a tensor of one shape or a number
local function per_sample(ds, order, first, count)
  local cols, nvals, i1
  for k = 1, count do
    local i = order:get(first + k - 1)
    local r = table.pack(ds:get(i))
    if nvals == nil then
      nvals, i1 = r.n, i
      if nvals == 0 then
        error(string.format("DataLoader: ds:get(%d) returned nothing; it must return input, target", i))
      end
      cols = {}
      for j = 1, nvals do cols[j] = {} end
    elseif r.n ~= nvals then
      error(string.format("DataLoader: ds:get(%d) returned %d values but ds:get(%d) returned %d; "
                          .. "every sample must return the same number", i, r.n, i1, nvals))
    end
    for j = 1, nvals do
      check_value(r[j], j, i, cols[j][1], i1)
      cols[j][k] = r[j]
    end
  end
  local out = {}
  for j = 1, nvals do
    out[j] = tensor.is_tensor(cols[j][1]) and tensor.stack(cols[j], 1) or tensor.new(cols[j])
  end
  return table.unpack(out, 1, nvals)
end

-- the batch of positions first .. first+count-1 of the epoch's order (an nn.Indices)
local function make_batch(p, ds, order, first, count)
  if p and p.set then
    return p.set:batch(order, first, count, p.steps)
  elseif p then
    local idx = order:tensor(first, count)
    local out = {}
    for k, t in ipairs(p.tensors) do out[k] = t:index_select(1, idx) end
    return table.unpack(out)
  end
  return per_sample(ds, order, first, count)
end

-- one epoch of self: a function returning the next batch (nothing at the end),
-- and its progress bar or nil
local function epoch(self)
  local C = require "data._C"
  local ds, bs = self.dataset, self.batch_size
  local n = #ds
  local nb = #self
  local p = plan(ds)
  local order = self.shuffle and C.randperm(n, self.generator) or C.indices(n)
  if p and p.index then order = p.index:take(order) end
  local bar = Progress.enabled(self.progress) and nb > 0 and Progress(nb) or nil
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
