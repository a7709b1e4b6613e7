-- Every constructor of data, datasets and transforms, from one table: the
-- arguments in PyTorch's (torchvision's) order and the same arguments by name
-- in one trailing table give the same object; one given both ways, a missing
-- required one and an unknown name are errors that name it and list the valid
-- names. Then DataLoader's arguments that nnlua does not implement, and the
-- keyword-only ones.

local T = transforms
local FMNIST = "/usr/share/datasets/fashion-mnist"

------------------------------------------------------------------ fixtures

local root = tmpdir()                      -- removed at the end of this file

-- big-endian IDX bytes: images [n, h, w] (values v) or labels [n]
local function idx_bytes(dims, values)
  local parts = {string.pack(">I4", 0x0800 + #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  for k, v in ipairs(values) do values[k] = string.char(v) end
  return table.concat(parts) .. table.concat(values)
end

local pixels = {}
for k = 1, 3 * 4 * 4 do pixels[k] = (k * 37) % 256 end
local imgs, labs = root .. "/i.idx", root .. "/l.idx"
write_file(imgs, idx_bytes({3, 4, 4}, {table.unpack(pixels)}))
write_file(labs, idx_bytes({3}, {2, 0, 1}))
-- an MNIST folder in torchvision's layout (<root>/MNIST/raw), test split only
local mnist = root .. "/mnist"
assert(os.execute("mkdir -p " .. mnist .. "/MNIST/raw"))
write_file(mnist .. "/MNIST/raw/t10k-images-idx3-ubyte", idx_bytes({3, 4, 4}, {table.unpack(pixels)}))
write_file(mnist .. "/MNIST/raw/t10k-labels-idx1-ubyte", idx_bytes({3}, {9, 0, 4}))
-- an image folder: two classes
local folder = root .. "/folder"
assert(os.execute("mkdir -p " .. folder .. "/cat " .. folder .. "/dog"))
local write_png = require("data._C").write_png
write_png(folder .. "/cat/1.png", tensor.full({4, 4}, 10))
write_png(folder .. "/cat/2.png", tensor.full({4, 4}, 20))
write_png(folder .. "/dog/1.png", tensor.full({4, 4}, 30))
write_file(folder .. "/dog/notes.png.txt", "not an image")

local tds = data.TensorDataset(tensor.arange(1, 11):view(10, 1), tensor.arange(101, 111))
local tf = T.Compose{T.ToTensor(), T.Normalize({0.5}, {0.25})}
local target_tf = function(y) return y + 100 end
local only_ones = function(path) return path:find("1%.png$") ~= nil end
local twice_fn = function(x) return x * 2 end

---------------------------------------------------------------- comparisons

local function same_values(a, b, what)
  if tensor.is_tensor(a) or tensor.is_tensor(b) then check_close(a, b, 0, what)
  else check_eq(a, b, what) end
end

-- a DataLoader: its fields, and the batches of two epochs
local function same_loader(a, b)
  for _, k in ipairs {"dataset", "batch_size", "shuffle", "drop_last", "progress"} do
    check_eq(a[k], b[k], k)
  end
  check_eq(#a, #b, "#loader")
  for epoch = 1, 2 do
    local ba, bb = {}, {}
    for x, y in a:iter() do ba[#ba + 1] = {x, y} end
    for x, y in b:iter() do bb[#bb + 1] = {x, y} end
    check_eq(#ba, #bb)
    for i = 1, #ba do
      check_close(ba[i][1], bb[i][1], 0, "epoch " .. epoch .. " batch " .. i)
      check_close(ba[i][2], bb[i][2], 0)
    end
  end
end

-- any dataset: its length, its fields and every sample
local function same_dataset(a, b)
  check_eq(getmetatable(a), getmetatable(b), "class")
  check_eq(#a, #b, "#ds")
  for _, k in ipairs {"dataset", "root", "train", "transform", "target_transform", "images_path",
                      "labels_path", "name"} do
    check_eq(rawget(a, k), rawget(b, k), k)
  end
  if a.classes then check_eq(table.concat(a.classes, "|"), table.concat(b.classes, "|"), "classes") end
  if rawget(a, "indices") then check_close(a.indices, b.indices, 0, "indices") end
  for i = 1, #a do
    local xa, ya = a:get(i)
    local xb, yb = b:get(i)
    same_values(xa, xb, "sample " .. i .. " input")
    same_values(ya, yb, "sample " .. i .. " target")
  end
end

-- the datasets random_split returns
local function same_splits(a, b)
  check_eq(#a, #b, "number of subsets")
  for k = 1, #a do same_dataset(a[k], b[k]) end
end

local sample = tensor.arange(0, 48):view(1, 6, 8)
local raw = tensor.arange(0, 48):view(6, 8)

-- a transform: its printout and what it does to a sample, five times over
-- (random transforms here have their own generators, seeded alike)
local function same_transform(a, b)
  check_eq(getmetatable(a), getmetatable(b), "class")
  check_eq(tostring(a), tostring(b), "printout")
  for i = 1, 5 do
    local input = (getmetatable(a) == T.ToTensor or getmetatable(a) == T.Compose) and raw or sample
    tensor.manual_seed(i)
    local ya = a(input:clone())
    tensor.manual_seed(i)
    local yb = b(input:clone())
    check_close(ya, yb, 0, "call " .. i)
  end
end

-------------------------------------------------------------------- the table
--
-- Each case: fn; pos and named return the same arguments in PyTorch's order
-- and by name (required ones too); same compares the two results (a table of
-- them when there are several); names is the list the errors show; twice
-- gives one argument both ways (twice_name); each of missing leaves out the
-- required argument it names, by position or by name; required gives the
-- required ones alone.

local G = tensor.Generator
local DL_NAMES = "dataset, batch_size?, shuffle?, sampler?, batch_sampler?, num_workers?, collate_fn?, "
  .. "pin_memory?, drop_last?, timeout?, worker_init_fn?, multiprocessing_context?, generator?, "
  .. "prefetch_factor?, persistent_workers?, pin_memory_device?, progress?"

local cases = {
  {"data.DataLoader", data.DataLoader,
   pos = function() return tds, 4, true, nil, nil, 0, nil, false, true, 0, nil, nil, G(7), {progress = false} end,
   named = function() return {dataset = tds, batch_size = 4, shuffle = true, sampler = nil, num_workers = 0,
                              pin_memory = false, drop_last = true, timeout = 0, generator = G(7),
                              prefetch_factor = nil, persistent_workers = false, pin_memory_device = "",
                              progress = false} end,
   same = same_loader, names = DL_NAMES,
   twice = function() return tds, 4, {batch_size = 4} end, twice_name = "batch_size",
   missing = {{function() return end, "dataset"}, {function() return {batch_size = 4} end, "dataset"}},
   required = function() return tds end},
  {"data.Subset", data.Subset,
   pos = function() return tds, {3, 1, 10} end,
   named = function() return {dataset = tds, indices = {3, 1, 10}} end,
   same = same_dataset, names = "dataset, indices",
   twice = function() return tds, {3}, {indices = {3}} end, twice_name = "indices",
   missing = {{function() return tds end, "indices"}, {function() return {indices = {1}} end, "dataset"}},
   required = function() return tds, {1} end},
  {"data.random_split", data.random_split, multiple = true,
   pos = function() return tds, {6, 4}, G(1) end,
   named = function() return {dataset = tds, lengths = {6, 4}, generator = G(1)} end,
   same = same_splits, names = "dataset, lengths, generator?",
   twice = function() return tds, {6, 4}, {lengths = {6, 4}} end, twice_name = "lengths",
   missing = {{function() return tds end, "lengths"},
              {function() return {lengths = {6, 4}, generator = G(1)} end, "dataset"}},
   required = function() return tds, {6, 4} end},
  {"datasets.FashionMNIST", datasets.FashionMNIST,
   pos = function() return FMNIST, false, tf, target_tf, false end,
   named = function() return {root = FMNIST, train = false, transform = tf, target_transform = target_tf,
                              download = false} end,
   same = function(a, b)                        -- 10,000 samples: their targets, and a few of them
     check_close(a.targets, b.targets, 0, "targets")
     for _, k in ipairs {"root", "train", "transform", "target_transform"} do check_eq(a[k], b[k], k) end
     for _, i in ipairs {1, 500, 10000} do
       check_close(a:get(i), b:get(i), 0)
       check_eq(select(2, a:get(i)), select(2, b:get(i)))
     end
   end,
   names = "root?, train?, transform?, target_transform?, download?",
   twice = function() return FMNIST, {root = FMNIST} end, twice_name = "root"},
  {"datasets.MNIST", datasets.MNIST,
   pos = function() return mnist, false, tf, target_tf end,
   named = function() return {root = mnist, train = false, transform = tf, target_transform = target_tf} end,
   same = same_dataset, names = "root?, train?, transform?, target_transform?, download?",
   twice = function() return mnist, false, {train = false} end, twice_name = "train"},
  {"datasets.IDX", datasets.IDX,
   pos = function() return imgs, labs, tf, target_tf, {"a", "b", "c"} end,
   named = function() return {images = imgs, labels = labs, transform = tf, target_transform = target_tf,
                              classes = {"a", "b", "c"}} end,
   same = same_dataset, names = "images, labels, transform?, target_transform?, classes?",
   twice = function() return imgs, labs, {labels = labs} end, twice_name = "labels",
   missing = {{function() return imgs end, "labels"}, {function() return {labels = labs} end, "images"}},
   required = function() return imgs, labs end},
  {"datasets.ImageFolder", datasets.ImageFolder,
   pos = function() return folder, tf, target_tf, nil, only_ones end,
   named = function() return {root = folder, transform = tf, target_transform = target_tf,
                              is_valid_file = only_ones} end,
   same = function(a, b)
     same_dataset(a, b)
     check_eq(#a, 2, "is_valid_file kept the two 1.png")
   end,
   names = "root, transform?, target_transform?, loader?, is_valid_file?",
   twice = function() return folder, {root = folder} end, twice_name = "root",
   missing = {{function() return end, "root"}, {function() return {transform = tf} end, "root"}},
   required = function() return folder end},
  {"transforms.Compose", T.Compose,
   pos = function() return {T.ToTensor(), T.Flatten(), twice_fn} end,
   named = function() return {transforms = {T.ToTensor(), T.Flatten(), twice_fn}} end,
   same = same_transform, names = "transforms",
   twice = function() return {T.ToTensor()}, {transforms = {T.ToTensor()}} end, twice_name = "transforms",
   missing = {{function() return end, "transforms"}},
   required = function() return {} end},
  {"transforms.ToTensor", T.ToTensor,
   pos = function() return end, named = function() return {} end,
   same = same_transform, names = ""},
  {"transforms.Normalize", T.Normalize,
   pos = function() return {0.5}, {0.25}, true end,
   named = function() return {mean = {0.5}, std = {0.25}, inplace = true} end,
   same = same_transform, names = "mean, std, inplace?",
   twice = function() return {0.5}, {0.25}, {std = {0.25}} end, twice_name = "std",
   missing = {{function() return {0.5} end, "std"}, {function() return {std = {0.25}, inplace = true} end, "mean"}},
   required = function() return {0.5}, {0.25} end},
  {"transforms.Flatten", T.Flatten,
   pos = function() return end, named = function() return {} end,
   same = same_transform, names = ""},
  {"transforms.RandomHorizontalFlip", T.RandomHorizontalFlip,
   pos = function() return 0.3, {generator = G(3)} end,
   named = function() return {p = 0.3, generator = G(3)} end,
   same = same_transform, names = "p?, generator?",
   twice = function() return 0.3, {p = 0.3} end, twice_name = "p"},
  {"transforms.RandomCrop", T.RandomCrop,
   pos = function() return {4, 5}, {1, 2}, true, 0.5, "edge", {generator = G(4)} end,
   named = function() return {size = {4, 5}, padding = {1, 2}, pad_if_needed = true, fill = 0.5,
                              padding_mode = "edge", generator = G(4)} end,
   same = same_transform, names = "size, padding?, pad_if_needed?, fill?, padding_mode?, generator?",
   twice = function() return 4, 1, {padding = 1} end, twice_name = "padding",
   missing = {{function() return end, "size"}, {function() return {padding = 1} end, "size"}},
   required = function() return 4 end},
  {"transforms.Lambda", T.Lambda,
   pos = function() return twice_fn end,
   named = function() return {lambd = twice_fn} end,
   same = function(a, b)
     same_transform(a, b)
     check_eq(a.fn, twice_fn)
   end,
   names = "lambd",
   twice = function() return twice_fn, {lambd = twice_fn} end, twice_name = "lambd",
   missing = {{function() return end, "lambd"}},
   required = function() return twice_fn end},
}

local function list_of(names) return "(arguments: " .. names .. "; ? marks optional ones)" end

local function call(case, f)
  if case.multiple then return {case[2](f())} end
  return case[2](f())
end

for _, case in ipairs(cases) do
  local name, fn = case[1], case[2]
  local short = name:match("[^.]+$")

  test(name .. ": PyTorch's order and names in one table give the same object", function()
    case.same(call(case, case.pos), call(case, case.named))
  end)

  test(name .. ": an argument given both ways, or an unknown name, is an error listing the names", function()
    if case.twice then
      local err = expect_error(function() fn(case.twice()) end,
                               string.format("%s: '%s' given twice, as argument #", short, case.twice_name))
      assert(err:find(list_of(case.names), 1, true), err)
      assert(err:find("test_constructors_data.lua:%d+:"), err)
    end
    local given = case.required and table.pack(case.required()) or {n = 0}
    given.n = given.n + 1
    given[given.n] = {bogus = 1}
    local err = expect_error(function() fn(table.unpack(given, 1, given.n)) end,
                             short .. ": unknown option 'bogus'")
    if case.names ~= "" then assert(err:find(list_of(case.names), 1, true), err) end
    assert(err:find("test_constructors_data.lua:%d+:"), err)
  end)

  if case.missing then
    test(name .. ": a missing required argument is an error listing the names", function()
      for _, m in ipairs(case.missing) do
        local f, missing = m[1], m[2]
        local err = expect_error(function() fn(f()) end,
                                 string.format("%s: missing required argument '%s' %s", short, missing,
                                               list_of(case.names)))
        assert(err:find("test_constructors_data.lua:%d+:"), err)
      end
    end)
  end
end

----------------------------------------------------- the special cases

test("data.TensorDataset stays variadic: tensors by position only", function()
  local x, y, z = tensor.zeros(3, 2), tensor.ones(3), tensor.zeros(3, 1, 1)
  local ds = data.TensorDataset(x, y, z)
  check_eq(#ds.tensors, 3)
  check_eq(select("#", ds:get(1)), 3)
  expect_error(function() data.TensorDataset(x, {tensors = {y}}) end,
               "TensorDataset: argument #2 must be a tensor, got table (TensorDataset takes tensors only, "
               .. "by position: data.TensorDataset(x, y))")
end)

test("the old forms work as before", function()
  check_eq(#data.DataLoader(tds, {batch_size = 64, shuffle = true}), 1)
  check_eq(data.DataLoader(tds, 3).batch_size, 3)
  check_eq(#datasets.FashionMNIST{train = false, transform = tf}, 10000)
  check_eq(tostring(T.Normalize({0.286}, {0.353})), "Normalize({0.286}, {0.353})")
  check_eq(#T.Compose{T.ToTensor(), T.Normalize({0.286}, {0.353})}.transforms, 2)
  check_eq(#T.Compose{}.transforms, 0)
  check_eq(T.RandomCrop(28, {padding = 4}).padding[1], 4)
  check_eq(T.RandomHorizontalFlip{p = 1}.p, 1)
  check_eq(T.RandomHorizontalFlip().p, 0.5)
  check_eq(#data.Subset(tds, {}), 0)
end)

test("keyword-only arguments (PyTorch's *, and nnlua's own) are refused by position", function()
  expect_error(function() data.DataLoader(tds, 1, false, nil, nil, 0, nil, false, false, 0, nil, nil, nil, 2) end,
               "DataLoader: too many arguments: 14 given, at most 13 by position")
  expect_error(function() T.RandomHorizontalFlip(0.5, G(1)) end,
               "RandomHorizontalFlip: too many arguments: 2 given, at most 1 by position")
  expect_error(function() T.RandomCrop(4, 0, false, 0, "constant", G(1)) end,
               "RandomCrop: too many arguments: 6 given, at most 5 by position")
  expect_error(function() T.ToTensor(1) end, "ToTensor: too many arguments: 1 given, at most 0 by position")
  expect_error(function() T.Normalize({0.5}, {1}, false, {}, 1) end, "Normalize: too many arguments")
end)

-- DataLoader's arguments that nnlua does not implement: the default is
-- accepted (by position and by name), anything else is an error naming the
-- argument and saying what to do instead
local unsupported = {
  {"sampler", 4, {3, 1, 2}, "sampler is not supported; nnlua has no samplers: use shuffle = true"},
  {"batch_sampler", 5, {{1, 2}}, "batch_sampler is not supported; nnlua has no samplers"},
  {"num_workers", 6, 4, "num_workers = 4 is not supported; nnlua makes the batches in the script's own thread"},
  {"collate_fn", 7, print, "collate_fn is not supported; the DataLoader stacks what ds:get(i) returns"},
  {"pin_memory", 8, true, "pin_memory = true is not supported; nnlua runs on the CPU only"},
  {"timeout", 10, 5, "timeout = 5 is not supported; nnlua makes the batches in the script's own thread"},
  {"worker_init_fn", 11, print, "worker_init_fn is not supported; nnlua makes the batches"},
  {"multiprocessing_context", 12, "spawn", "multiprocessing_context is not supported; nnlua makes the batches"},
  {"prefetch_factor", nil, 2, "prefetch_factor is not supported; nnlua makes the batches"},
  {"persistent_workers", nil, true, "persistent_workers = true is not supported; nnlua makes the batches"},
  {"pin_memory_device", nil, "cuda", 'pin_memory_device = "cuda" is not supported; nnlua runs on the CPU only'},
}
local defaults = {num_workers = 0, pin_memory = false, timeout = 0, persistent_workers = false,
                  pin_memory_device = ""}

test("DataLoader: arguments nnlua does not implement take only their default, else say what to do", function()
  for _, u in ipairs(unsupported) do
    local name, pos, bad, msg = table.unpack(u)
    local err = expect_error(function() data.DataLoader(tds, {[name] = bad}) end, "DataLoader: " .. msg)
    assert(err:find("test_constructors_data.lua:%d+:"), err)
    if pos then
      local a = {tds, 1, false, nil, nil, 0, nil, false, false, 0, nil, nil}
      a[pos] = bad
      expect_error(function() data.DataLoader(table.unpack(a, 1, pos)) end, "DataLoader: " .. msg)
    end
    if defaults[name] ~= nil then
      check_eq(#data.DataLoader(tds, {[name] = defaults[name]}), 10, name .. " = its default")
    end
  end
  check_eq(#data.DataLoader(tds, 5, false, nil, nil, 0, nil, false, false, 0, nil, nil, nil), 2)
end)

test("Normalize's inplace writes into the sample given and returns it", function()
  local x = tensor.full({1, 2, 2}, 3)
  local y = T.Normalize({1}, {2}, true)(x)
  assert(rawequal(x, y), "inplace returns the sample given")
  check_close(x, tensor.ones(1, 2, 2), 0, "x itself")
  local x2 = tensor.full({1, 2, 2}, 3)
  local y2 = T.Normalize({1}, {2})(x2)
  check_close(x2, tensor.full({1, 2, 2}, 3), 0, "untouched without inplace")
  check_close(y2, tensor.ones(1, 2, 2), 0)
  check_eq(tostring(T.Normalize({1}, {2}, true)), "Normalize({1}, {2}, inplace=true)")
end)

os.execute("rm -rf '" .. root .. "'")
