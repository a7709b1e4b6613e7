-- data and datasets: TensorDataset, Subset, random_split, DataLoader (all three
-- batch paths give the same tensors), FashionMNIST from the Debian package (the
-- 10,000-image test set; the training set once), IDX files with bad contents,
-- ImageFolder, the progress bar, memory across epochs.

local T = transforms
local FMNIST = "/usr/share/datasets/fashion-mnist"
local NNLUA = os.getenv("NNLUA") or "./nnlua"

local function shape(t) return table.concat(t.shape, ",") end

-- runs a Lua snippet in a fresh nnlua with env settings; returns its stdout+stderr and success
local function run(env, code)
  local script = os.tmpname()
  write_file(script, code)
  local p = io.popen(string.format("%s %s %s 2>&1", env, NNLUA, script))
  local out = p:read("a")
  local ok = p:close()
  os.remove(script)
  return out, ok
end

-- big-endian IDX bytes: images [n, h, w] (values v(i, k)) or labels [n]
local function idx_bytes(dims, values)
  local parts = {string.pack(">I4", 0x0800 + #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  local bytes = {}
  for k, v in ipairs(values) do bytes[k] = string.char(v) end
  return table.concat(parts) .. table.concat(bytes)
end

------------------------------------------------------------- TensorDataset

test("TensorDataset: rows of each tensor; numbers for 1-d", function()
  local x, y = tensor.arange(0, 12):view(4, 3), tensor.new{3, 1, 4, 1}
  local ds = data.TensorDataset(x, y)
  check_eq(#ds, 4)
  local xi, yi = ds:get(2)
  check_close(xi, tensor.new{3, 4, 5}, 0)
  check_eq(yi, 1)
  check_eq(tostring(ds), "TensorDataset(4 samples: [4, 3], [4])")
  expect_error(function() ds:get(5) end, "TensorDataset:get: index 5 out of range 1..4")
  expect_error(function() ds:get(1.5) end, "index must be an integer")
  expect_error(function() data.TensorDataset(x, tensor.zeros(3)) end, "different first sizes (4 and 3)")
  expect_error(function() data.TensorDataset(x, {1, 2}) end, "argument #2 must be a tensor, got table")
  expect_error(function() data.TensorDataset() end, "at least one tensor")
end)

-------------------------------------------------------------------- Subset

test("Subset: a Lua array or a tensor of 1-based indices", function()
  local ds = data.TensorDataset(tensor.arange(10, 20), tensor.arange(0, 10))
  local s = data.Subset(ds, {3, 1, 10})
  check_eq(#s, 3)
  check_eq(select(1, s:get(1)), 12)
  check_eq(select(2, s:get(3)), 9)
  local s2 = data.Subset(s, tensor.new{3})
  check_eq(s2:get(1), 19)
  check_eq(#data.Subset(ds, {}), 0)
  expect_error(function() data.Subset(ds, {0}) end, "Subset: indices must be whole numbers in 1..10")
  expect_error(function() data.Subset(ds, {11}) end, "in 1..10")
  expect_error(function() data.Subset(ds, {1.5}) end, "whole numbers")
  expect_error(function() data.Subset(ds, {"a"}) end, "indices[1] is a string")
  expect_error(function() data.Subset(ds, tensor.ones(2, 2)) end, "1-d tensor, got 2-d")
  expect_error(function() data.Subset(42, {1}) end, "Subset: expected a dataset")
  expect_error(function() data.Subset(setmetatable({}, {__len = function() return 3 end}), {1}) end,
               "no get method")
end)

-------------------------------------------------------------- random_split

test("random_split: sizes or fractions, disjoint, reproducible", function()
  local ds = data.TensorDataset(tensor.arange(1, 11))
  local a, b = data.random_split(ds, {7, 3}, tensor.Generator(42))
  check_eq(#a, 7)
  check_eq(#b, 3)
  local seen = {}
  for _, s in ipairs {a, b} do
    for i = 1, #s do
      local v = s:get(i)
      assert(not seen[v], "sample in two subsets")
      seen[v] = true
    end
  end
  local a2 = data.random_split(ds, {7, 3}, tensor.Generator(42))
  check_close(a2.indices, a.indices, 0, "same seed, same split")
  -- golden: the same seed gives this split on every machine (xoshiro256** + Fisher-Yates)
  check_eq(table.concat(a.indices:totable(), ","), table.concat(tensor.randperm(10, tensor.Generator(42)):narrow(1, 1, 7):totable(), ","))
  -- fractions as PyTorch: floor(n * f), remainder one by one from the first
  local p, q, r = data.random_split(ds, {0.33, 0.33, 0.34})
  check_eq(#p .. "," .. #q .. "," .. #r, "4,3,3")
  local x, y = data.random_split(data.TensorDataset(tensor.zeros(60000)), {5 / 6, 1 / 6}, tensor.Generator(1))
  check_eq(#x .. "," .. #y, "50000,10000")
  expect_error(function() data.random_split(ds, {5, 4}) end, "random_split: lengths sum to 9 but the dataset has 10 samples")
  expect_error(function() data.random_split(ds, {5, -5, 10}) end, "random_split: lengths[2] = -5 is not a number >= 0")
  expect_error(function() data.random_split(ds, {}) end, "random_split: lengths must be a non-empty array")
  expect_error(function() data.random_split(ds, {5.5, 4.5}) end, "not a whole number")
  expect_error(function() data.random_split(ds, {5, 5}, 42) end, "random_split: generator must be a tensor.Generator, got 42")
end)

test("random_split: the same seed gives the same split on every machine (golden values)", function()
  -- recorded once from xoshiro256** + Fisher-Yates; a change means old seeds give new splits
  local a, b = data.random_split(data.TensorDataset(tensor.arange(1, 9)), {5, 3}, tensor.Generator(42))
  check_eq(table.concat(a.indices:totable(), ","), "8.0,2.0,7.0,4.0,6.0")
  check_eq(table.concat(b.indices:totable(), ","), "5.0,3.0,1.0")
end)

---------------------------------------------------------------- DataLoader

local function batches(loader)
  local out = {}
  for x, y in loader:iter() do out[#out + 1] = {x, y} end
  return out
end

test("DataLoader: batch sizes, #loader, drop_last, order without shuffle", function()
  local ds = data.TensorDataset(tensor.arange(0, 20):view(10, 2), tensor.arange(1, 11))
  local l = data.DataLoader(ds, {batch_size = 4})
  check_eq(#l, 3)
  local bs = batches(l)
  check_eq(#bs, 3)
  check_eq(shape(bs[1][1]), "4,2")
  check_eq(shape(bs[3][1]), "2,2")
  check_close(bs[3][2], tensor.new{9, 10}, 0)
  check_eq(#data.DataLoader(ds, {batch_size = 4, drop_last = true}), 2)
  check_eq(#batches(data.DataLoader(ds, {batch_size = 4, drop_last = true})), 2)
  check_eq(#data.DataLoader(ds), 10)
  check_eq(tostring(l), "DataLoader(10 samples, batch_size=4, shuffle=false, drop_last=false, 3 batches)")
end)

test("DataLoader: shuffle covers every sample once, a new order each epoch, seeded", function()
  local ds = data.TensorDataset(tensor.arange(1, 101))
  local l = data.DataLoader(ds, {batch_size = 32, shuffle = true, generator = tensor.Generator(3)})
  local e1, e2 = {}, {}
  for x in l:iter() do for _, v in ipairs(x:totable()) do e1[#e1 + 1] = v end end
  for x in l:iter() do for _, v in ipairs(x:totable()) do e2[#e2 + 1] = v end end
  check_eq(#e1, 100)
  local sorted = {table.unpack(e1)}
  table.sort(sorted)
  for i = 1, 100 do check_eq(sorted[i], i) end
  assert(table.concat(e1, ",") ~= table.concat(e2, ","), "two epochs in the same order")
  local l2 = data.DataLoader(ds, {batch_size = 32, shuffle = true, generator = tensor.Generator(3)})
  local f1 = {}
  for x in l2:iter() do for _, v in ipairs(x:totable()) do f1[#f1 + 1] = v end end
  check_eq(table.concat(f1, ","), table.concat(e1, ","))
end)

-- a dataset in plain Lua that serves the same samples as ds (the per-sample path)
local function wrap(ds)
  return setmetatable({}, {__len = function() return #ds end,
                           __index = {get = function(_, i) return ds:get(i) end}})
end

test("DataLoader: the TensorDataset path and the per-sample path agree", function()
  local x = tensor.randn(50, 3, 2)
  local ds = data.TensorDataset(x, tensor.arange(1, 51))
  local sub = data.random_split(ds, {30, 20}, tensor.Generator(1))
  for _, d in ipairs {ds, sub} do
    local fast = batches(data.DataLoader(d, {batch_size = 8, shuffle = true, generator = tensor.Generator(5)}))
    local slow = batches(data.DataLoader(wrap(d), {batch_size = 8, shuffle = true, generator = tensor.Generator(5)}))
    check_eq(#fast, #slow)
    for i = 1, #fast do
      check_close(fast[i][1], slow[i][1], 0)
      check_close(fast[i][2], slow[i][2], 0)
    end
  end
end)

test("DataLoader over a Lua table dataset: numbers, tensors, one value", function()
  local ds = setmetatable({}, {__len = function() return 5 end, __index = {
    get = function(_, i) return tensor.full({2}, i), i * 10 end}})
  local bs = batches(data.DataLoader(ds, {batch_size = 2}))
  check_eq(#bs, 3)
  check_close(bs[2][1], tensor.new{{3, 3}, {4, 4}}, 0)
  check_close(bs[3][2], tensor.new{50}, 0)
  local only = setmetatable({}, {__len = function() return 3 end, __index = {get = function(_, i) return i end}})
  for x, y in data.DataLoader(only, {batch_size = 3}):iter() do
    check_close(x, tensor.new{1, 2, 3}, 0)
    check_eq(y, nil)
  end
end)

test("DataLoader: bad options and bad datasets are clear errors at the script line", function()
  local ds = data.TensorDataset(tensor.zeros(4))
  expect_error(function() data.DataLoader(ds, {batch_sise = 4}) end, "DataLoader: unknown option 'batch_sise'")
  expect_error(function() data.DataLoader(ds, {batch_size = 0}) end, "DataLoader: batch_size must be a whole number >= 1, got 0")
  expect_error(function() data.DataLoader(ds, {batch_size = 2.5}) end, "DataLoader: batch_size must be a whole number >= 1, got 2.5")
  expect_error(function() data.DataLoader(ds, {shuffle = 1}) end, "DataLoader: shuffle must be true or false, got 1")
  expect_error(function() data.DataLoader(ds, {generator = 1}) end, "DataLoader: generator must be a tensor.Generator, got 1")
  expect_error(function() data.DataLoader(ds, "4") end, "DataLoader: batch_size must be a whole number >= 1, got \"4\"")
  expect_error(function() data.DataLoader({1, 2, 3}) end, "no get method")
  expect_error(function() data.DataLoader(nil) end, "DataLoader: missing required argument 'dataset'")
  expect_error(function() data.DataLoader(42) end, "DataLoader: expected a dataset")
  local bad = setmetatable({}, {__len = function() return 2 end, __index = {get = function() return "s", 1 end}})
  local err = expect_error(function() for _ in data.DataLoader(bad):iter() do end end,
                           "DataLoader: ds:get(1) returned a string as its input (value 1)")
  assert(err:find("test_data.lua:%d+:"), err)
  local mixed = setmetatable({}, {__len = function() return 2 end, __index = {
    get = function(_, i) return tensor.zeros(i), 1 end}})
  expect_error(function() for _ in data.DataLoader(mixed, {batch_size = 2}):iter() do end end,
               "DataLoader: ds:get(2) returned an input of shape [2] but ds:get(1) one of shape [1]")
  local failing = setmetatable({}, {__len = function() return 2 end, __index = {
    get = function() error("my dataset broke") end}})
  expect_error(function() for _ in data.DataLoader(failing):iter() do end end, "my dataset broke")
end)

-------------------------------------------------------------- FashionMNIST

local test_tf = T.Compose{T.ToTensor(), T.Normalize({0.286}, {0.353})}

test("FashionMNIST test set from the Debian package: 10,000 images, 1,000 per class", function()
  local ds = datasets.FashionMNIST{train = false}
  check_eq(#ds, 10000)
  check_eq(ds.classes[1], "T-shirt/top")
  check_eq(ds.classes[10], "Ankle boot")
  local x, y = ds:get(1)
  check_eq(shape(x), "28,28")
  check_eq(math.type(y), "integer")
  check_eq(y, 10)                                   -- the first test image is an ankle boot
  check_eq(x:max():item(), 255)
  local counts = {}
  for i = 1, 10 do counts[i] = math.tointeger(ds.targets:eq(i):sum():item()) end
  check_eq(table.concat(counts, ","), "1000,1000,1000,1000,1000,1000,1000,1000,1000,1000")
  assert(tostring(ds):find("Dataset FashionMNIST\n    Number of datapoints: 10000", 1, true), tostring(ds))
end)

test("FashionMNIST with a transform: [1, 28, 28] normalized, same as tensor arithmetic", function()
  local ds = datasets.FashionMNIST{train = false, transform = test_tf}
  local x = ds:get(7)
  check_eq(shape(x), "1,28,28")
  local raw = datasets.FashionMNIST{train = false}:get(7)
  check_close(x, ((raw / 255 - 0.286) / 0.353):view(1, 28, 28), 0)
end)

-- the same batches from the C path and from the per-sample path (a Lambda at the end)
local function same_batches(ds_fast, ds_slow, opts, seed)
  tensor.manual_seed(seed)
  local fast = batches(data.DataLoader(ds_fast, opts))
  tensor.manual_seed(seed)
  local slow = batches(data.DataLoader(ds_slow, opts))
  check_eq(#fast, #slow)
  for i = 1, #fast do
    check_close(fast[i][1], slow[i][1], 0, "batch " .. i .. " inputs")
    check_close(fast[i][2], slow[i][2], 0, "batch " .. i .. " targets")
  end
  return fast
end

test("built-in transforms in C batches equal the per-sample Lua path, bit for bit", function()
  local id = T.Lambda(function(x) return x end)
  local pipelines = {
    {T.ToTensor(), T.Normalize({0.286}, {0.353})},
    {T.ToTensor(), T.Normalize({0.286}, {0.353}), T.Flatten()},
    {T.RandomCrop(28, {padding = 4}), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize({0.286}, {0.353})},
    {T.ToTensor(), T.RandomCrop(24, {padding = {1, 2}, padding_mode = "reflect"}), T.RandomHorizontalFlip(0.3),
     T.Normalize({0.5}, {0.25}), T.Flatten()},
    {T.RandomCrop({20, 26}, {padding_mode = "edge"}), T.Flatten()},
    {},
  }
  local full = datasets.FashionMNIST{train = false}
  for k, list in ipairs(pipelines) do
    local slow_list = {table.unpack(list)}
    slow_list[#slow_list + 1] = id
    local fast = datasets.FashionMNIST{train = false, transform = #list > 0 and T.Compose(list) or nil}
    local slow = datasets.FashionMNIST{train = false, transform = T.Compose(slow_list)}
    assert(fast:_steps() and not slow:_steps(), "pipeline " .. k .. " paths")
    local sub_fast = data.Subset(fast, tensor.arange(1, 301))
    local sub_slow = data.Subset(slow, tensor.arange(1, 301))
    local b = same_batches(sub_fast, sub_slow, {batch_size = 64, shuffle = true}, 10 + k)
    check_eq(#b, 5)
    if k == 1 then check_eq(shape(b[1][1]), "64,1,28,28") end
    if k == 4 then check_eq(shape(b[1][1]), "64,576") end
  end
  local _ = full
end)

test("API.md's example: random_split of the training set, batches of [64, 1, 28, 28]", function()
  local t0 = require("data._C").clock()
  local tf = T.Compose{T.ToTensor(), T.Normalize({0.286}, {0.353})}
  local full = datasets.FashionMNIST{train = true, transform = tf}
  local load_s = require("data._C").clock() - t0
  local train, val = data.random_split(full, {50000, 10000}, tensor.Generator(42))
  local loader = data.DataLoader(train, {batch_size = 64, shuffle = true})
  check_eq(#loader, 782)
  check_eq(#train, 50000)
  check_eq(#val, 10000)
  local n, last = 0, nil
  for x, y in loader:iter() do
    n = n + 1
    if n == 1 then
      check_eq(shape(x), "64,1,28,28")
      check_eq(shape(y), "64")
      assert(y:min():item() >= 1 and y:max():item() <= 10)
      check_eq(type(full.classes[y[1]]), "string")
    end
    last = x
  end
  check_eq(n, 782)
  check_eq(shape(last), "16,1,28,28")
  check_eq(train.classes[1], "T-shirt/top")
  if not os.getenv("NNLUA_ASAN") then assert(load_s < 2, "loading took " .. load_s .. " s") end
end)

test("a missing dataset names the path and the Debian package", function()
  local dir = tmpdir()
  local err = expect_error(function() datasets.FashionMNIST{root = dir} end,
                           "train-images-idx3-ubyte[.gz] not found in " .. dir)
  assert(err:find("dataset-fashion-mnist", 1, true), err)
  assert(err:find("test_data.lua:%d+:"), err)
  expect_error(function() datasets.MNIST{root = dir, train = false} end, "t10k-images-idx3-ubyte[.gz] not found")
  expect_error(function() datasets.FashionMNIST{rot = dir} end, "FashionMNIST: unknown option 'rot'")
  expect_error(function() datasets.FashionMNIST{train = "yes"} end, "train must be true or false")
  expect_error(function() datasets.FashionMNIST{train = false, transform = 3} end, "transform must be a function or a transform")
  os.execute("rm -rf '" .. dir .. "'")
end)

test("NNLUA_DATA and root find the files (plain or gzip)", function()
  local dir = tmpdir()
  assert(os.execute("mkdir -p " .. dir .. "/fashion-mnist && cp " .. FMNIST .. "/t10k-* " .. dir .. "/fashion-mnist/"))
  local out, ok = run("NNLUA_DATA=" .. dir, 'print(#datasets.FashionMNIST{train = false})')
  assert(ok and out:find("10000"), out)
  assert(os.execute("gunzip " .. dir .. "/fashion-mnist/t10k-labels-idx1-ubyte.gz"))
  check_eq(#datasets.FashionMNIST{root = dir .. "/fashion-mnist", train = false}, 10000)
  os.execute("rm -rf '" .. dir .. "'")
end)

test("IDX: bad files are clear errors, never a partial dataset", function()
  local dir = tmpdir()
  local imgs, labs = dir .. "/i.idx", dir .. "/l.idx"
  local pixels = {}
  for k = 1, 3 * 2 * 2 do pixels[k] = k * 10 end
  write_file(imgs, idx_bytes({3, 2, 2}, pixels))
  write_file(labs, idx_bytes({3}, {2, 0, 1}))
  local ds = datasets.IDX{images = imgs, labels = labs}
  check_eq(#ds, 3)
  local x, y = ds:get(1)
  check_close(x, tensor.new{{10, 20}, {30, 40}}, 0)
  check_eq(y, 3)
  check_eq(ds.classes[y], "2")
  local named = datasets.IDX{images = imgs, labels = labs, classes = {"a", "b", "c"}}
  check_eq(named.classes[named.targets[1]], "c")
  write_file(labs .. "4", idx_bytes({4}, {0, 0, 1, 1}))
  expect_error(function() datasets.IDX{images = imgs, labels = labs .. "4"} end, "differ in count: 3 images, 4 labels")
  local full = idx_bytes({3, 2, 2}, pixels)
  write_file(imgs .. "t", full:sub(1, #full - 1))
  expect_error(function() datasets.IDX{images = imgs .. "t", labels = labs} end, "truncated")
  write_file(imgs .. "m", "\0\0\9\3" .. full:sub(5))
  expect_error(function() datasets.IDX{images = imgs .. "m", labels = labs} end, "not supported")
  expect_error(function() datasets.IDX{images = dir .. "/none", labels = labs} end, dir .. "/none")
  expect_error(function() datasets.IDX{images = imgs} end, "IDX: missing required argument 'labels' (arguments: images, labels,")
  expect_error(function() datasets.IDX{images = imgs, labels = 3} end, "IDX: labels must be a path (a string), got 3")
  expect_error(function() datasets.IDX{images = imgs, labels = labs, classes = {"a"}} end, "classes must name all 3")
  expect_error(function() ds:get(4) end, "IDX:get: index 4 out of range 1..3")
  write_file(labs .. "11", idx_bytes({3}, {10, 0, 1}))
  local cwd_err = expect_error(function() datasets.FashionMNIST{root = dir} end, "not found")
  local _ = cwd_err
  os.execute("rm -rf '" .. dir .. "'")
end)

------------------------------------------------- for x, y in loader do

-- the batches of one loop over the loader itself, as {x, y} pairs
local function loop_batches(loader)
  local out = {}
  for x, y in loader do out[#out + 1] = {x, y} end
  return out
end

test("for x, y in loader do: the batches of one epoch, as loader:iter() gives them", function()
  local ds = data.TensorDataset(tensor.arange(1, 11):view(10, 1), tensor.arange(101, 111))
  local a = data.DataLoader(ds, {batch_size = 3, shuffle = true, generator = tensor.Generator(7)})
  local b = data.DataLoader(ds, {batch_size = 3, shuffle = true, generator = tensor.Generator(7)})
  for epoch = 1, 2 do                           -- a fresh shuffle each epoch, the same in both forms
    local la, lb = loop_batches(a), batches(b)
    check_eq(#la, 4, "epoch " .. epoch)
    check_eq(#lb, 4)
    for i = 1, 4 do
      check_close(la[i][1], lb[i][1], 0, "epoch " .. epoch .. " batch " .. i)
      check_close(la[i][2], lb[i][2], 0)
    end
  end
  local fast = datasets.FashionMNIST{train = false, transform = test_tf}
  local n, shape1 = 0, nil
  for x, y in data.DataLoader(data.Subset(fast, tensor.arange(1, 130)), {batch_size = 64}) do
    n = n + 1
    shape1 = shape1 or shape(x) .. " " .. shape(y)
  end
  check_eq(n, 3)
  check_eq(shape1, "64,1,28,28 64")
end)

test("for x, y in loader do: a loop left with break does not leak into the next loop", function()
  local ds = data.TensorDataset(tensor.arange(1, 11))
  local loader = data.DataLoader(ds, {batch_size = 4})
  for x in loader do
    check_close(x, tensor.new{1, 2, 3, 4}, 0)
    break
  end
  local all = loop_batches(loader)
  check_eq(#all, 3, "the next loop is a whole epoch")
  check_close(all[1][1], tensor.new{1, 2, 3, 4}, 0, "and starts at the first batch")
  -- two loops over the same loader, one inside the other, keep their own epochs
  local outer, inner = 0, 0
  for x in loader do
    outer = outer + 1
    check_eq(x[1], (outer - 1) * 4 + 1)
    for _ in loader do inner = inner + 1 end
  end
  check_eq(outer, 3)
  check_eq(inner, 9)
end)

test("ipairs(loader), pairs(loader) and loader[1] are errors that name loader:iter()", function()
  local loader = data.DataLoader(data.TensorDataset(tensor.zeros(4)), {batch_size = 2})
  local err = expect_error(function() for _ in ipairs(loader) do end end,
                           "DataLoader: loader[1] is not a batch (ipairs(loader) reads loader[1])")
  assert(err:find("for x, y in loader:iter() do", 1, true), err)
  assert(err:find("test_data.lua:%d+:"), err)
  err = expect_error(function() for _ in pairs(loader) do end end, "DataLoader: pairs(loader) does not give batches")
  assert(err:find("loader:iter()", 1, true), err)
  assert(err:find("test_data.lua:%d+:"), err)
  err = expect_error(function() local b = loader[1]; return b end, "DataLoader: loader[1] is not a batch")
  assert(err:find("loader:iter()", 1, true), err)
  expect_error(function() loader(4) end, "DataLoader: a loader is not called with arguments")
  expect_error(function() loader(nil, tensor.zeros(2)) end, "DataLoader: this loop's epoch is unknown")
  check_eq(loader.batch_size, 2, "string keys still read fields")
  -- a dataset is not indexed either (dataset[0] is a PyTorch habit)
  local ds = data.TensorDataset(tensor.zeros(4))
  err = expect_error(function() local v = ds[1]; return v end, "TensorDataset[1]: a dataset is not indexed with []; use ds:get(1)")
  assert(err:find("test_data.lua:%d+:"), err)
  expect_error(function() local v = data.Subset(ds, {1})[1]; return v end, "Subset[1]: a dataset is not indexed")
  err = expect_error(function() for _ in ipairs(ds) do end end, "TensorDataset[1]: a dataset is not indexed")
  assert(err:find("test_data.lua:%d+:"), err)
  expect_error(function() local v = datasets.FashionMNIST{train = false}[0]; return v end,
               "FashionMNIST[0]: a dataset is not indexed with []; use ds:get(0)")
end)

---------------------------------------------------- download and root

test("download = true says nnlua never downloads and where Debian's copy is; download = false is fine", function()
  local err = expect_error(function() datasets.FashionMNIST{download = true} end,
                           "FashionMNIST: download = true is not supported; nnlua never downloads datasets")
  assert(err:find("apt-get install dataset-fashion-mnist", 1, true), err)
  assert(err:find(FMNIST .. " (installed on this machine)", 1, true), err)
  assert(err:find("test_data.lua:%d+:"), err)
  expect_error(function() datasets.FashionMNIST(nil, false, nil, nil, true) end, "download = true is not supported")
  err = expect_error(function() datasets.MNIST{download = true} end,
                     "MNIST: download = true is not supported; nnlua never downloads datasets, and Debian has no MNIST package")
  assert(err:find("pass root = that folder", 1, true), err)
  check_eq(#datasets.FashionMNIST{train = false, download = false}, 10000)
end)

test("a root without the files, while Debian's copy is installed, says where that copy is", function()
  local dir = tmpdir()
  local err = expect_error(function() datasets.FashionMNIST{root = dir} end,
                           "FashionMNIST: train-images-idx3-ubyte[.gz] not found in " .. dir)
  assert(err:find("the FashionMNIST files are in " .. FMNIST .. " (the Debian package dataset-fashion-mnist): "
                  .. "leave root out to read them", 1, true), err)
  err = expect_error(function() datasets.FashionMNIST{root = "data", train = false} end,
                     "t10k-images-idx3-ubyte[.gz] not found in data, data/fashion-mnist, data/FashionMNIST/raw")
  assert(err:find("leave root out", 1, true), err)
  local out = run("NNLUA_DATA=" .. dir, "datasets.FashionMNIST{train = false}")
  assert(out:find("the FashionMNIST files are in " .. FMNIST, 1, true) and out:find("unset NNLUA_DATA", 1, true), out)
  -- MNIST: Debian has no package, and the message says so
  err = expect_error(function() datasets.MNIST{root = dir} end, "MNIST: train-images-idx3-ubyte[.gz] not found in " .. dir)
  assert(err:find("Debian has no MNIST package", 1, true), err)
  assert(not err:find("leave root out", 1, true), err)
  os.execute("rm -rf '" .. dir .. "'")
end)

------------------------------------------------- . instead of :

test("every method called with . instead of : says how to call it", function()
  local ds = data.TensorDataset(tensor.zeros(4))
  local loader = data.DataLoader(ds)
  local fm = datasets.FashionMNIST{train = false}
  local cases = {
    {function() loader.iter() end, "iter: call it as loader:iter(...) with a colon"},
    {function() ds.get(1) end, "get: call it as ds:get(...) with a colon; ds.get(...) passes a number as self, not the ds"},
    {function() data.Subset(ds, {1}).get(1) end, "get: call it as ds:get(...)"},
    {function() fm.get(1) end, "get: call it as ds:get(...)"},
    {function() fm._steps() end, "_steps: call it as ds:_steps(...)"},
    {function() transforms.ToTensor()._steps() end, "_steps: call it as transform:_steps(...)"},
    {function() transforms.Compose{}._steps() end, "_steps: call it as transform:_steps(...)"},
  }
  for _, c in ipairs(cases) do
    local err = expect_error(c[1], c[2])
    assert(err:find("test_data.lua:%d+:"), err)
  end
end)

test("datasets, loaders and transforms are classes: printouts and fields as before", function()
  local class = require "nnlua.class"
  local ds = data.TensorDataset(tensor.zeros(4, 2))
  local fm = datasets.FashionMNIST{train = false}
  for _, v in ipairs {ds, data.Subset(ds, {1}), data.DataLoader(ds), fm, transforms.ToTensor(),
                      transforms.Compose{}, transforms.Lambda(print)} do
    assert(class.is_object(v), tostring(v))
  end
  assert(class.is_instance(fm, datasets.ImageDataset))
  assert(class.is_instance(transforms.RandomCrop(2), transforms.Transform))
  check_eq(tostring(datasets.FashionMNIST), "class FashionMNIST")
  check_eq(fm.name, "FashionMNIST")
  check_eq(fm.size[1] .. "x" .. fm.size[2], "28x28")
  check_eq(tostring(data.Subset(ds, {1, 2})), "Subset(2 of 4 samples)")
end)

------------------------------------------------- ImageFolder's extras

test("ImageFolder: is_valid_file picks the files; loader is not supported", function()
  local dir = tmpdir()
  assert(os.execute("mkdir -p " .. dir .. "/a " .. dir .. "/b"))
  local write = require("data._C").write_png
  write(dir .. "/a/keep.png", tensor.full({3, 3}, 1))
  write(dir .. "/a/skip.png", tensor.full({3, 3}, 2))
  write(dir .. "/b/keep.png", tensor.full({3, 3}, 3))
  local seen = {}
  local ds = datasets.ImageFolder(dir, {is_valid_file = function(p) seen[#seen + 1] = p; return p:find("keep") ~= nil end})
  check_eq(#ds, 2)
  check_eq(#seen, 3, "is_valid_file sees every file")
  check_eq(seen[1], dir .. "/a/keep.png", "with its whole path")
  check_eq(ds:get(2)[1][1], 3)
  expect_error(function() datasets.ImageFolder(dir, {is_valid_file = function() return false end}) end,
               "class folder '" .. dir .. "/a' has no PNG files (is_valid_file took none of its 2 files)")
  expect_error(function() datasets.ImageFolder(dir, {is_valid_file = 3}) end, "ImageFolder: is_valid_file must be a function, got 3")
  expect_error(function() datasets.ImageFolder(dir, {loader = function() end}) end,
               "ImageFolder: loader is not supported; nnlua reads the PNG files itself")
  os.execute("rm -rf '" .. dir .. "'")
end)

------------------------------------------------------------ progress bar

test("progress bar: on stderr with NNLUA_PROGRESS=1, silent otherwise or with progress = false", function()
  local code = [[
    local ds = data.TensorDataset(tensor.zeros(50))
    for x in data.DataLoader(ds, {batch_size = 10, progress = PROGRESS}):iter() do end
    print("done")
  ]]
  local out = run("NNLUA_PROGRESS=1", code:gsub("PROGRESS", "nil"))
  assert(out:find("5/5 [", 1, true), out)
  assert(out:find("samples/s", 1, true), out)
  assert(out:find("done"), out)
  out = run("NNLUA_PROGRESS=1", code:gsub("PROGRESS", "false"))
  check_eq(out, "done\n")
  out = run("", code:gsub("PROGRESS", "nil"))          -- stderr is a pipe here: no bar
  check_eq(out, "done\n")
  out = run("NNLUA_PROGRESS=0", code:gsub("PROGRESS", "true"))
  check_eq(out, "done\n")
end)

test("progress bar: a loop left with break ends its line", function()
  local out = run("NNLUA_PROGRESS=1", [[
    local ds = data.TensorDataset(tensor.zeros(50))
    for x in data.DataLoader(ds, {batch_size = 10}):iter() do break end
    io.stderr:write("after\n")
  ]])
  assert(out:find("\nafter\n", 1, true), out)
end)

test("progress bar: a loop over the loader left with break has its line ended when the next epoch starts", function()
  local out = run("NNLUA_PROGRESS=1", [[
    local loader = data.DataLoader(data.TensorDataset(tensor.zeros(50)), {batch_size = 10})
    for x in loader do break end
    for x in loader do end
    io.stderr:write("after\n")
  ]])
  assert(out:find("1/5 [", 1, true), out)
  assert(out:find("1/5 %[[^\n]*\n[^\n]*5/5 %["), "the first bar's line is ended before the second bar: " .. out)
  assert(out:find("\nafter\n", 1, true), out)
end)

------------------------------------------------------------------ memory

test("memory stays flat across epochs without collectgarbage()", function()
  local ds = datasets.FashionMNIST{train = false, transform = test_tf}
  local loader = data.DataLoader(ds, {batch_size = 64, shuffle = true})
  for _ in loader:iter() do end
  local before = status_kb("VmRSS")
  for _ = 1, 5 do for x, y in loader:iter() do local _ = x, y end end
  local grown = status_kb("VmRSS") - before
  assert(grown < 64 * 1024, "RSS grew by " .. grown .. " kB over 5 epochs")
end)

------------------------------------------------------------- ImageFolder

local write_png = require("data._C").write_png

test("ImageFolder: class folders sorted by name, PNGs at any depth, batches in C", function()
  local dir = tmpdir()
  for _, c in ipairs {"dog", "cat", "bird"} do assert(os.execute("mkdir -p " .. dir .. "/" .. c .. "/sub")) end
  local imgs = {}
  for k = 1, 6 do imgs[k] = tensor.arange(0, 8 * 10):view(8, 10):add(k * 20):clamp(0, 255) end
  write_png(dir .. "/cat/a.png", imgs[1])
  write_png(dir .. "/cat/b.PNG", imgs[2])
  write_png(dir .. "/dog/x.png", imgs[3])
  write_png(dir .. "/dog/sub/y.png", imgs[4])
  write_png(dir .. "/bird/z.png", imgs[5])
  write_file(dir .. "/bird/notes.txt", "skipped")
  write_file(dir .. "/README", "a file next to the class folders is not a class")
  local ds = datasets.ImageFolder{root = dir}
  check_eq(table.concat(ds.classes, ","), "bird,cat,dog")
  check_eq(#ds, 5)
  check_eq(ds.class_to_idx.dog, 3)
  local x, y = ds:get(2)
  check_eq(shape(x), "8,10")
  check_close(x, imgs[1], 0)
  check_eq(y, 2)
  check_eq(select(2, ds:get(5)), 3)
  check_close(ds:get(5), imgs[4], 0, "dog/sub/y.png")
  check_eq(ds.samples[1][1], dir .. "/bird/z.png")
  -- grey stays one channel; a colour image makes the whole set RGB
  write_png(dir .. "/dog/sub/rgb.png", tensor.full({8, 10, 3}, 7))
  local rgb = datasets.ImageFolder{root = dir, transform = T.Compose{T.RandomCrop(6), T.ToTensor()}}
  local cx = rgb:get(1)
  check_eq(shape(cx), "3,6,6")
  check_close(datasets.ImageFolder{root = dir}:get(1):narrow(3, 2, 1):view(8, 10), imgs[5], 0)
  local slow = datasets.ImageFolder{root = dir, transform = T.Compose{T.RandomCrop(6), T.ToTensor(), T.Lambda(function(v) return v end)}}
  same_batches(rgb, slow, {batch_size = 4, shuffle = true}, 4)
  os.execute("rm -rf '" .. dir .. "'")
end)

test("ImageFolder: bad folders and files are clear errors", function()
  local dir = tmpdir()
  expect_error(function() datasets.ImageFolder{root = dir} end, "ImageFolder: no class folders in " .. dir)
  expect_error(function() datasets.ImageFolder{root = dir .. "/nope"} end, "cannot open folder '" .. dir .. "/nope'")
  expect_error(function() datasets.ImageFolder{} end, "ImageFolder: missing required argument 'root' (arguments: root,")
  expect_error(function() datasets.ImageFolder{root = dir, transfrom = 1} end, "unknown option 'transfrom'")
  assert(os.execute("mkdir -p " .. dir .. "/a " .. dir .. "/b"))
  write_file(dir .. "/a/photo.jpg", "not read")
  write_png(dir .. "/b/ok.png", tensor.zeros(4, 4))
  expect_error(function() datasets.ImageFolder{root = dir} end, "class folder '" .. dir .. "/a' has no PNG files (1 other files skipped")
  write_file(dir .. "/a/broken.png", "\137PNG\r\n\26\n garbage")
  local err = expect_error(function() datasets.ImageFolder{root = dir} end, dir .. "/a/broken.png")
  assert(err:find("test_data.lua:%d+:"), err)
  os.remove(dir .. "/a/broken.png")
  write_png(dir .. "/a/big.png", tensor.zeros(6, 5))
  local ds = datasets.ImageFolder{root = dir}
  expect_error(function() for _ in data.DataLoader(ds, {batch_size = 2}):iter() do end end,
               "cannot batch samples of different shapes: image 1 gives [6, 5], image 2 gives [4, 4]")
  check_eq(shape(ds:get(2)), "4,4")
  os.execute("rm -rf '" .. dir .. "'")
end)

------------------------------------------------------------ the reference

test("scripts/reference.lua runs end to end (1 epoch on 1,000 training images) and writes its figures", function()
  local dir = tmpdir()
  local p = io.popen(NNLUA .. " scripts/reference.lua 1 1000 '" .. dir .. "/figs' 2>&1")
  local out = p:read("a")
  assert(p:close(), out)
  local sgd, adam = out:match("test accuracy: SGD (%S+), Adam (%S+)")
  assert(sgd and tonumber(sgd) > 0.5 and tonumber(adam) > 0.5, out)
  assert(out:find("train 1000, validation 10000, test 10000 images of 10 classes", 1, true), out)
  for _, name in ipairs{"loss", "accuracy", "lr", "samples", "confusion"} do
    local img = plot.read_image(dir .. "/figs/" .. name .. ".png")
    -- the sample grid's size follows the grid (docs/plot.md): 2 x 5 FashionMNIST images
    check_eq(table.concat(img.shape, ","), name == "samples" and "3,398,784" or "3,600,800", name)
  end
  os.execute("rm -rf '" .. dir .. "'")
end)

------------------------------------------------------------------ misuse

test("every data._C function and ImageSet method survives bad arguments", function()
  local C = require "data._C"
  local set = C.imageset_idx(FMNIST .. "/t10k-images-idx3-ubyte.gz", FMNIST .. "/t10k-labels-idx1-ubyte.gz")
  local bad = {true, 0, -1, 1.5, 1e300, 0 / 0, "", "x", {}, {kind = "crop"}, {{}}, {"a"},
               tensor.zeros(0), tensor.zeros(2, 2), tensor.new{1e9}, tensor.new{0 / 0}, set,
               function() end, tensor.Generator(1), {kind = "normalize", mean = {}, std = {}},
               {kind = "crop", size = {1e9, 1}}, {kind = "crop", size = {2, 2}, padding = {1e12, 0, 0, 0}},
               {kind = "hflip", p = 0 / 0}, {kind = "crop", size = {2, 2}, generator = 5}}
  local calls = 0
  local function try(f, ...)
    calls = calls + 1
    pcall(f, ...)
  end
  for name, f in pairs(C) do
    -- the writers get paths of their own below: a bad value that is a valid
    -- path ("x") would write into the current folder
    if name ~= "isatty" and name ~= "clock" and name ~= "listdir" and name ~= "write_png"
       and name ~= "write_file" then
      for _, a in ipairs(bad) do
        try(f, a)
        for _, b in ipairs(bad) do try(f, a, b) end
      end
    end
  end
  for _, a in ipairs(bad) do
    try(C.listdir, a)
    try(C.write_png, ("n"):rep(300) .. "/x.png", a)   -- a folder that cannot be made
    try(C.write_file, ("n"):rep(300) .. "/x.csv", a)
    if type(a) ~= "string" then try(C.write_file, a, "text") end   -- "x" would be a path
    try(set.raw, set, a)
    try(set.label, set, a)
    try(set.batch, set, tensor.new{1, 2}, 1, 2, {a})
    try(set.batch, set, a, 1, 1, {})
    try(set.batch, set, tensor.new{1, 2}, a, 1, {})
    try(set.batch, set, tensor.new{1, 2}, 1, a, {})
    try(set.raw, a, 1)
  end
  assert(calls > 1000)
  local ok = pcall(set.batch, set, tensor.new{1, 2}, 2, 2, {})
  assert(not ok, "batch range past the indices must fail")
  local x = set:batch(tensor.new{1, 2}, 1, 2, {{kind = "totensor"}})
  check_eq(shape(x), "2,1,28,28")
end)
