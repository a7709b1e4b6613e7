-- Issue 13 for data, datasets, transforms and plot's options, through the real
-- binary: no crash, no hang, no silent wrong result. Files, FIFOs and symbolic
-- links are made in a temporary folder that each test removes.
local C = require "data._C"
local FMNIST = "/usr/share/datasets/fashion-mnist"

local function sh(cmd) assert(os.execute(cmd), cmd) end

-- a dataset of n samples whose get(i) returns f(i) (default: i % 1000, 1)
local function fake(n, f)
  f = f or function(i) return i % 1000, 1 end
  return setmetatable({}, {__len = function() return n end, __index = {get = function(_, i) return f(i) end}})
end

local function collect(loader)
  local out = {}
  for x, y, z in loader:iter() do out[#out + 1] = {x, y, z} end
  return out
end

------------------------------------------------------------ transforms

test("transforms on empty and degenerate samples: no division by zero", function()
  local T = transforms
  check_eq(table.concat(T.Normalize({0.5}, {1})(tensor.zeros(0, 2, 2)).shape, ","), "0,2,2")
  check_eq(table.concat(T.ToTensor()(tensor.zeros(5, 5, 0)).shape, ","), "0,5,5")
  check_eq(table.concat(T.ToTensor()(tensor.zeros(0, 3)).shape, ","), "1,0,3")
  check_eq(table.concat(T.ToTensor()(tensor.zeros(0, 0, 3)).shape, ","), "3,0,0")
  check_eq(table.concat(T.Normalize({1, 2, 3}, {1, 2, 3})(tensor.zeros(3, 0, 4)).shape, ","), "3,0,4")
  check_eq(T.Flatten()(tensor.zeros(2, 0, 3)):numel(), 0)
  check_eq(T.RandomHorizontalFlip(1)(tensor.zeros(0, 3, 3)):numel(), 0)
  check_eq(T.Compose{T.ToTensor(), T.Normalize({0}, {1}), T.Flatten()}(tensor.zeros(0, 7)):numel(), 0)
  -- RandomCrop: an empty axis cannot be padded by repeating it
  for _, mode in ipairs {"edge", "reflect", "symmetric"} do
    expect_error(function() T.RandomCrop(2, {padding = 1, padding_mode = mode})(tensor.zeros(1, 0, 4)) end,
                 "RandomCrop: cannot pad an image height of 0 in '" .. mode .. "' mode")
    expect_error(function() T.RandomCrop(3, {pad_if_needed = true, padding_mode = mode})(tensor.zeros(1, 2, 0)) end,
                 "RandomCrop: cannot pad an image width of 0")
  end
  local y = T.RandomCrop(2, {padding = 1, fill = 5})(tensor.zeros(1, 0, 0))
  check_close(y, tensor.full({1, 2, 2}, 5), 0, "constant padding of an empty image")
  expect_error(function() T.RandomCrop(5)(tensor.zeros(1, 3, 3)) end,
               "RandomCrop: crop size [5, 5] is larger than the padded image [3, 3]")
  expect_error(function() T.RandomCrop(6, {padding = 1})(tensor.zeros(1, 3, 3)) end,
               "is larger than the padded image [5, 5]")
  check_eq(table.concat(T.RandomCrop(6, {padding = 1, pad_if_needed = true})(tensor.zeros(1, 3, 3)).shape, ","), "1,6,6")
end)

test("transforms: std = 0, non-finite and out-of-float32 numbers are errors naming them", function()
  local T = transforms
  expect_error(function() T.Normalize({0}, {0}) end, "Normalize: std[1] is 0")
  expect_error(function() T.Normalize({0}, {1e-50})(tensor.zeros(1, 2, 2)) end, "Normalize: std[1] = 0")
  expect_error(function() T.Normalize({0}, {1e300}) end, "Normalize: std[1] = 1e+300 is not a finite float32 number")
  expect_error(function() T.Normalize({math.huge}, {1}) end, "Normalize: mean[1] = inf")
  expect_error(function() T.Normalize({0}, {0 / 0}) end, "Normalize: std[1] must be a number")
  expect_error(function() T.RandomCrop(2, {fill = 1e300}) end, "RandomCrop: fill must be a finite float32 number")
  expect_error(function() T.RandomCrop(2, {fill = 0 / 0}) end, "RandomCrop: fill must be")
  -- the kernels check too, when reached directly
  expect_error(function() C.apply({kind = "normalize", mean = {0}, std = {1e300}}, tensor.zeros(1, 1, 1)) end,
               "outside float32's range")
  expect_error(function() C.apply({kind = "normalize", mean = {0}, std = {math.huge}}, tensor.zeros(1, 1, 1)) end,
               "finite")
  expect_error(function() C.apply({kind = "crop", size = {2, 2}, fill = -1e39}, tensor.zeros(1, 2, 2)) end,
               "'fill' = -1e+39 is outside float32's range")
end)

------------------------------------------------------------ files

test("a FIFO or a folder given as a file is refused by name at once", function()
  local dir = tmpdir()
  local fifo = dir .. "/b.png"
  sh("mkfifo '" .. fifo .. "'")
  local t0 = os.time()
  expect_error(function() plot.read_image(fifo) end, "cannot read '" .. fifo .. "': it is a FIFO (named pipe), not a regular file")
  expect_error(function() datasets.IDX(fifo, fifo) end, "IDX: cannot read '" .. fifo .. "': it is a FIFO")
  expect_error(function() datasets.IDX(dir, dir) end, "IDX: cannot read '" .. dir .. "': it is a directory, not a regular file")
  expect_error(function() plot.read_image(dir) end, "it is a directory")
  -- a FIFO named like a PNG inside a class folder
  sh("mkdir -p '" .. dir .. "/root/cat' && mv '" .. fifo .. "' '" .. dir .. "/root/cat/b.png'")
  C.write_png(dir .. "/root/cat/a.png", tensor.zeros(2, 2))
  expect_error(function() datasets.ImageFolder(dir .. "/root") end,
               "ImageFolder: cannot read '" .. dir .. "/root/cat/b.png': it is a FIFO")
  -- FashionMNIST's files found as FIFOs: refused, not waited on
  sh("mkdir -p '" .. dir .. "/fm' && mkfifo '" .. dir .. "/fm/t10k-images-idx3-ubyte' '" .. dir .. "/fm/t10k-labels-idx1-ubyte'")
  expect_error(function() datasets.FashionMNIST{root = dir .. "/fm", train = false} end,
               "FashionMNIST: cannot read '" .. dir .. "/fm/t10k-images-idx3-ubyte': it is a FIFO")
  expect_error(function() datasets.ImageFolder(fifo) end, "ImageFolder: cannot open folder")
  expect_error(function() datasets.ImageFolder(dir .. "/root/cat/a.png") end, "it is a file, not a folder")
  assert(os.time() - t0 < 10, "nothing blocked")
  sh("rm -rf '" .. dir .. "'")
end)

test("paths with a NUL byte inside are refused, not cut short", function()
  expect_error(function() datasets.IDX("a\0b", "c") end, "IDX: images = \"a\\0b\" has a NUL byte inside")
  expect_error(function() datasets.ImageFolder("x\0y") end, "NUL byte")
  expect_error(function() plot.read_image("a.png\0x") end, "plot.read_image: path \"a.png\\0x\" has a NUL byte inside")
  expect_error(function() plot.save_image(tensor.zeros(2, 2), "a.png\0x.png") end, "NUL byte")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}}:save("a\0.png") end, "NUL byte")
  expect_error(function() C.imageset_idx("a\0b", "c") end, "NUL byte")
  expect_error(function() C.imageset_png({"a.png\0b"}, {1}) end, "NUL byte")
  expect_error(function() C.listdir(".\0") end, "NUL byte")
  expect_error(function() C.write_png("x\0.png", tensor.zeros(2, 2)) end, "NUL byte")
  local P = require "plot._C"                    -- the C functions check too, not only plot's Lua
  expect_error(function() P.read_image("a.png\0x") end, "holds a NUL byte")
  expect_error(function() P.save_image("a.png\0x", tensor.zeros(1, 2, 2)) end, "holds a NUL byte")
end)

------------------------------------------------------------ ImageFolder walks

test("ImageFolder: symbolic links never make a folder walked twice or a file counted twice", function()
  local dir = tmpdir()
  local root = dir .. "/root"
  sh("mkdir -p '" .. root .. "/a/sub' '" .. root .. "/b' '" .. root .. "/c'")
  C.write_png(root .. "/a/x.png", tensor.zeros(2, 2))
  C.write_png(root .. "/b/y.png", tensor.full({2, 2}, 9))
  C.write_png(root .. "/c/z.png", tensor.full({2, 2}, 200))
  -- class a: two self-links (2^40 folders before), a link up to root, one to
  -- its own subfolder, and a file link to x.png: still one sample
  sh("cd '" .. root .. "/a' && ln -s . loop1 && ln -s . loop2 && ln -s .. up && ln -s sub sub2 "
     .. "&& ln -s x.png x2.png && cd sub && ln -s .. back")
  -- class b: one self-link (41 samples before)
  sh("cd '" .. root .. "/b' && ln -s . self")
  local ds = datasets.ImageFolder(root)
  check_eq(#ds, 3)
  check_eq(table.concat(ds.classes, ","), "a,b,c")
  check_eq(ds.samples[1][1], root .. "/a/x.png")
  check_eq(ds.samples[2][1], root .. "/b/y.png")
  local _, y = ds:get(3)
  check_eq(y, 3)
  -- a class that is a link to another class keeps its own copy of the samples
  sh("cd '" .. root .. "' && ln -s c d")
  local ds2 = datasets.ImageFolder(root)
  check_eq(#ds2, 4)
  check_eq(ds2.samples[4][1], root .. "/d/z.png")
  check_eq(ds2.samples[4][2], 4)
  -- broken links are named
  sh("cd '" .. root .. "/c' && ln -s nowhere.png broken.png")
  expect_error(function() datasets.ImageFolder(root) end, "cannot open '" .. root .. "/c/broken.png'")
  sh("rm -rf '" .. dir .. "'")
end)

------------------------------------------------------------ size limits

test("datasets: max_bytes bounds a dataset's memory, names the file and how to raise it", function()
  local dir = tmpdir()
  local root = dir .. "/root"
  sh("mkdir -p '" .. root .. "/a' '" .. root .. "/b'")
  for k = 1, 3 do C.write_png(string.format("%s/a/%d.png", root, k), tensor.zeros(64, 64)) end
  C.write_png(root .. "/b/rgb.png", tensor.zeros(64, 64, 3))
  local need = 4 * 64 * 64 * 3 + 5 * 20
  local ds = datasets.ImageFolder(root, {max_bytes = need})
  check_eq(#ds, 4)
  local err = expect_error(function() datasets.ImageFolder(root, {max_bytes = need - 1}) end,
                           "ImageFolder: " .. root .. "/b/rgb.png: the images up to this one")
  assert(err:find("max_bytes = " .. (need - 1), 1, true) and err:find("pass a larger max_bytes", 1, true), err)
  expect_error(function() datasets.ImageFolder{root = root, max_bytes = 0} end,
               "ImageFolder: max_bytes must be a whole number >= 1, got 0")
  expect_error(function() datasets.ImageFolder(root, {max_bytes = "x"}) end, "max_bytes must be a whole number")
  expect_error(function() datasets.ImageFolder(root, {max_bytes = math.huge}) end, "max_bytes must be a whole number")
  -- an IDX pair whose header declares 4 GiB in a few bytes of gzip
  local f = io.open(dir .. "/im", "wb")
  f:write(string.pack(">I4I4I4I4", 0x803, 65536, 256, 256))
  f:close()
  f = io.open(dir .. "/lb", "wb")
  f:write(string.pack(">I4I4", 0x801, 65536) .. string.rep("\0", 65536))
  f:close()
  sh("gzip '" .. dir .. "/im'")
  local t0 = os.clock()
  err = expect_error(function() datasets.IDX(dir .. "/im.gz", dir .. "/lb") end,
                     "IDX: " .. dir .. "/im.gz: IDX data too large: sizes [65536, 256")
  assert(err:find("max_bytes = 1073741824", 1, true), err)
  assert(os.clock() - t0 < 2, "refused from the header")
  -- FashionMNIST's test set is 7.8 MB of pixels
  if io.open(FMNIST .. "/t10k-images-idx3-ubyte.gz") then
    expect_error(function() datasets.FashionMNIST{train = false, max_bytes = 1000000} end,
                 "FashionMNIST: " .. FMNIST .. "/t10k-images-idx3-ubyte.gz: IDX data too large")
    expect_error(function() datasets.FashionMNIST{train = false, max_bytes = 7840000 + 10001 * 20} end,
                 "t10k-labels-idx1-ubyte.gz")
    check_eq(#datasets.FashionMNIST{train = false, max_bytes = 7840000 + 10001 * 20 + 10000}, 10000)
    check_eq(#datasets.FashionMNIST(nil, false, {max_bytes = 1 << 31}), 10000)
  end
  sh("rm -rf '" .. dir .. "'")
end)

------------------------------------------------------------ DataLoader checks

test("DataLoader: bad samples are errors naming the sample, never an empty epoch", function()
  local function loop(ds, bs)
    for _ in data.DataLoader(ds, {batch_size = bs or 3}):iter() do end
  end
  expect_error(function() loop(fake(3, function(i) return nil, i end)) end,
               "DataLoader: ds:get(1) returned nil as its input (value 1)")
  expect_error(function() loop(fake(3, function(i) if i == 2 then return tensor.ones(1), nil end return tensor.ones(1), i end)) end,
               "DataLoader: ds:get(2) returned nil as its target (value 2)")
  expect_error(function() loop(fake(3, function(i) if i == 3 then return tensor.ones(1) end return tensor.ones(1), i end)) end,
               "DataLoader: ds:get(3) returned 1 values but ds:get(1) returned 2")
  expect_error(function() loop(fake(3, function() end)) end, "DataLoader: ds:get(1) returned nothing")
  expect_error(function() loop(fake(3, function(i) return tensor.ones(i), 1 end)) end,
               "DataLoader: ds:get(2) returned an input of shape [2] but ds:get(1) one of shape [1]")
  expect_error(function() loop(fake(3, function(i) return tensor.ones(2, 2), i == 3 and tensor.ones(1) or 1 end)) end,
               "DataLoader: ds:get(3) returned a tensor as its target but ds:get(1) a number")
  expect_error(function() loop(fake(2, function() return {1, 2}, 1 end)) end, "ds:get(1) returned a table as its input")
  expect_error(function() loop(fake(2, function() return tensor.ones(1), true end)) end, "returned a boolean as its target")
  -- three values make three batched values, as PyTorch's tuples
  local b = collect(data.DataLoader(fake(5, function(i) return tensor.full({2}, i), i, 10 * i end), {batch_size = 2}))
  check_eq(#b, 3)
  check_close(b[1][3], tensor.new{10, 20}, 0)
  check_close(b[3][1], tensor.new{{5, 5}}, 0)
  -- one value (the input alone) is fine too
  b = collect(data.DataLoader(fake(3, function(i) return i end), {batch_size = 3}))
  check_close(b[1][1], tensor.new{1, 2, 3}, 0)
  check_eq(b[1][2], nil)
end)

test("DataLoader: batch_size and #loader for any sizes", function()
  local ds = fake(10)
  expect_error(function() data.DataLoader(ds, {batch_size = math.huge}) end,
               "DataLoader: batch_size must be a whole number >= 1, got inf")
  expect_error(function() data.DataLoader(ds, {batch_size = 0 / 0}) end, "batch_size must be a whole number")
  expect_error(function() data.DataLoader(ds, {batch_size = 2^63}) end, "batch_size must be a whole number")
  check_eq(#data.DataLoader(ds, {batch_size = math.maxinteger}), 1)
  check_eq(#data.DataLoader(ds, {batch_size = math.maxinteger, drop_last = true}), 0)
  check_eq(#data.DataLoader(fake(0), {batch_size = 3}), 0)
  local huge = fake(math.maxinteger)
  check_eq(#data.DataLoader(huge, {batch_size = 3}), (math.maxinteger - 1) // 3 + 1)
  check_eq(#data.DataLoader(huge, {batch_size = math.maxinteger}), 1)
  assert(#data.DataLoader(huge) > 0)
  -- a huge dataset without shuffling is never listed: the first batch comes at once
  local x = data.DataLoader(huge, {batch_size = 2}):iter()()
  check_close(x, tensor.new{1, 2}, 0)
  expect_error(function() data.DataLoader(huge, {shuffle = true}):iter()() end, "memory")
  local b = collect(data.DataLoader(fake(7), {batch_size = math.maxinteger}))
  check_eq(#b, 1)
  check_eq(b[1][1]:numel(), 7)
end)

------------------------------------------------------------ exact indices

test("Subset, random_split and the DataLoader keep indices above 2^24 exact", function()
  local n = (1 << 24) + 10
  local ds = fake(n, function(i) return i - (1 << 24), i end)   -- the input: i - 2^24, exact in float32
  local a, b = data.random_split(ds, {1 << 24, 10}, tensor.Generator(7))
  check_eq(#a, 1 << 24)
  check_eq(#b, 10)
  local seen = {}
  for k = 1, 10 do
    local i = b:index(k)
    check_eq(math.type(i), "integer")
    assert(i >= 1 and i <= n and not seen[i], "distinct indices in 1..n")
    seen[i] = true
  end
  -- the same split as tensor.randperm's for small sets
  local s1, s2 = data.random_split(fake(10), {7, 3}, tensor.Generator(42))
  check_eq(table.concat(s1.indices:totable(), ","),
           table.concat(tensor.randperm(10, tensor.Generator(42)):narrow(1, 1, 7):totable(), ","))
  check_eq(#s2, 3)
  -- Subset of the last samples, batched: every one is the right one
  local last = {}
  for k = 1, 10 do last[k] = (1 << 24) + k end
  local sub = data.Subset(ds, last)
  check_eq(sub:index(10), n)
  local got = {}
  for x, y in data.DataLoader(sub, {batch_size = 4}):iter() do
    for k = 1, x:numel() do got[#got + 1] = x[k] end
  end
  check_eq(table.concat(got, ","), "1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0")
  -- shuffled: a permutation of the same ten
  got = {}
  for x in data.DataLoader(sub, {batch_size = 3, shuffle = true, generator = tensor.Generator(1)}):iter() do
    for k = 1, x:numel() do got[#got + 1] = x[k] end
  end
  table.sort(got)
  check_eq(table.concat(got, ","), "1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0")
  -- a Subset of a Subset composes exactly
  local sub2 = data.Subset(sub, {10, 1})
  local x = data.DataLoader(sub2, {batch_size = 2}):iter()()
  check_close(x, tensor.new{10, 1}, 0)
  -- float32 index tensors above 2^24 are refused: they cannot say which sample
  expect_error(function() data.Subset(ds, tensor.new{16777218}) end,
               "Subset: indices[1] holds 16777218.0, above 2^24 = 16777216")
  expect_error(function() data.Subset(ds, {1.5}) end, "Subset: indices must be whole numbers in 1..16777226 (indices[1] is 1.5)")
  expect_error(function() data.Subset(ds, {n + 1}) end, "(indices[1] is 16777227)")
  expect_error(function() return sub.indices end, "Subset.indices: sample index 16777217")
end)

------------------------------------------------------------ internals

test("data._C and ImageSet methods validate like public functions", function()
  local set
  if io.open(FMNIST .. "/t10k-images-idx3-ubyte.gz") then
    set = datasets.FashionMNIST{train = false}._set
  else
    local dir = tmpdir()
    C.write_png(dir .. "/a.png", tensor.zeros(28, 28))
    set = C.imageset_png({dir .. "/a.png", dir .. "/a.png"}, {1, 2})
    sh("rm -rf '" .. dir .. "'")
  end
  local ten = tensor.arange(2)
  expect_error(function() set:batch(ten, math.maxinteger, 2, {}) end, "range of 2 from 9223372036854775807 is outside 1..2")
  expect_error(function() set:batch(ten, math.mininteger, 2, {}) end, "outside")
  expect_error(function() set:batch(ten, 2, math.maxinteger, {}) end, "outside")
  expect_error(function() set:batch(ten, 1, -1, {}) end, "outside")
  expect_error(function() set:batch(ten, 1, 0, {}) end, "at least one sample")
  expect_error(function() set:batch(tensor.new{2^25, 1}, 1, 1, {}) end, "not a whole number in 1..16777216")
  expect_error(function() set:batch(C.indices(#set + 1), #set + 1, 1, {}) end, "batch: index " .. (#set + 1) .. " out of range 1..")
  local ix = C.randperm(2)
  check_eq(#ix, 2)
  local x = set:batch(ix, 1, 2, {{kind = "totensor"}})
  check_eq(x:size(1), 2)
  -- step tables are read raw: a metatable's __index is not consulted
  local proxy = setmetatable({}, {__index = function() collectgarbage() return "totensor" end})
  expect_error(function() set:batch(ten, 1, 1, {proxy}) end, "bad 'kind'")
  local raw = set:batch(ten, 1, 1, setmetatable({}, {__len = function() return 1 end}))   -- raw length 0
  check_eq(raw:dim(), 3, "no steps: the raw image")
  -- generators named by steps stay alive through the call
  local g = tensor.Generator(1)
  set:batch(ten, 1, 2, {{kind = "hflip", p = 0.5, generator = g}})
  -- nn.Indices
  expect_error(function() C.indices(-1) end, "n must be a whole number >= 0")
  expect_error(function() C.randperm(1.5) end, "n must be a whole number")
  expect_error(function() C.randperm(1 << 62) end, "memory")
  local r = C.indices(10)
  check_eq(r:get(10), 10)
  expect_error(function() r:get(11) end, "position 11 out of range 1..10")
  expect_error(function() r:sub(math.maxinteger, 2) end, "outside 1..10")
  expect_error(function() r:sub(2, 10) end, "outside 1..10")
  check_eq(#r:sub(11, 0), 0)
  expect_error(function() r:take(C.indices(11)) end, "take: position 11 holds 11, outside 1..10")
  expect_error(function() C.indices(1 << 25):tensor(16777216, 2) end, "sample index 16777217 (at position 16777217)")
  check_close(C.indices(1 << 25):tensor(16777215, 2), tensor.new{16777215, 16777216}, 0)
  expect_error(function() C.indices_of({1, "x"}, 3) end, "indices[2] is a string, not a number")
  expect_error(function() C.indices_of(tensor.zeros(2, 2), 3) end, "indices must be a 1-d tensor")
  expect_error(function() C.indices_of(5, 3) end, "indices must be a Lua array")
  expect_error(function() C.imageset_png({"a"}, {1}, 0) end, "max_bytes must be")
  expect_error(function() C.imageset_png(setmetatable({}, {__len = function() return 1 << 40 end}), {}) end, "no image files")
  expect_error(function() C.isatty(1 << 40) end, "not a file descriptor")
  expect_error(function() C.write_png("/nonexistent/x.png", tensor.zeros(70000, 1)) end, "larger than 65536 per side")
  local kind, id = C.filekind("/")
  check_eq(kind, "dir")
  assert(id:match("^%d+:%d+$"), id)
  check_eq((C.filekind("/nonexistent")), "missing")
end)

------------------------------------------------------------ plot options

test("plot: numeric options out of range or not finite are errors naming them", function()
  local S = {{y = {1, 2, 3}}}
  expect_error(function() plot.lines{series = S, width = math.huge} end,
               "plot.lines: width must be a whole number of pixels in 100..8192, got inf")
  expect_error(function() plot.lines{series = S, width = 2^32 + 800} end, "width must be a whole number of pixels")
  expect_error(function() plot.lines{series = S, height = 0 / 0} end, "height must be a whole number of pixels")
  expect_error(function() plot.lines{series = S, height = -math.huge} end, "height must be")
  expect_error(function() plot.lines{series = S, height = 10} end, "width and height must be 100 to 8192 pixels")
  expect_error(function() plot.lines{series = S, xlim = {-math.huge, 1}} end, "plot.lines: xlim must be {lo, hi}, two finite numbers")
  expect_error(function() plot.lines{series = S, ylim = {0, math.huge}} end, "ylim must be {lo, hi}, two finite")
  expect_error(function() plot.lines{series = S, ylim = {-1e308, 1e308}} end, "ylim must be")
  expect_error(function() plot.lines{series = {{y = {1, 2}, color = {0 / 0, 0, 0}}}} end, "color must be")
  local imgs = tensor.zeros(4, 1, 2, 2)
  expect_error(function() plot.image_grid{images = imgs, rows = math.huge} end,
               "plot.image_grid: rows must be a whole number in 1..8192, got inf")
  expect_error(function() plot.image_grid{images = imgs, cols = 1e300} end, "cols must be a whole number in 1..8192")
  expect_error(function() plot.image_grid{images = imgs, cols = 2^31} end, "cols must be")
  expect_error(function() plot.image_grid{images = imgs, mean = {0}, std = {0}} end, "plot.image_grid: std[1] must not be 0")
  expect_error(function() plot.image_grid{images = imgs, mean = {math.huge}, std = {1}} end, "mean[1] must be a finite number")
  expect_error(function() plot.image_grid{images = imgs, range = {0, math.huge}} end, "range must be {lo, hi}, two finite")
  expect_error(function() plot.image_grid{images = imgs, width = 1e300} end, "width must be a whole number of pixels")
  expect_error(function() plot.heatmap{matrix = {{1, 2}}, height = math.huge} end,
               "plot.heatmap: height must be a whole number of pixels")
  local fig = plot.lines{series = S, width = 640.0, height = 480}
  check_eq(fig.width, 640)
end)

test("an image set freed by a finalizer during a call is an error, never a use after free", function()
  local dir = tmpdir()
  C.write_png(dir .. "/a.png", tensor.full({4, 4}, 7))
  local errors, calls = 0, 0
  for round = 1, 20 do
    local set = C.imageset_png({dir .. "/a.png", dir .. "/a.png"}, {1, 2})
    local free = getmetatable(set).__gc
    for k = 1, 200 do
      -- garbage whose finalizer frees the set: it runs at some allocation inside a call
      setmetatable({}, {__gc = function() if k % 7 == round % 7 then free(set) end end})
      local ok, err = pcall(function()
        calls = calls + 1
        local x = set:raw(1)
        set:labels()
        set:batch(C.indices(2), 1, 2, {{kind = "totensor"}, {kind = "flatten"}})
        return x
      end)
      if not ok then
        errors = errors + 1
        assert(tostring(err):find("freed", 1, true), err)
      end
    end
    collectgarbage()
  end
  assert(calls == 4000)
  sh("rm -rf '" .. dir .. "'")
end)
