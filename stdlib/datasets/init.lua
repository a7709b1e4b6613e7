-- The datasets module: require "datasets" (also the global datasets in the host).
--
--   datasets.FashionMNIST(root, train = true, transform, target_transform, download = false)
--   datasets.MNIST(root, train = true, transform, target_transform, download = false)
--   datasets.IDX(images, labels, transform, target_transform, classes)
--   datasets.ImageFolder(root, transform, target_transform, loader, is_valid_file)
--   datasets.CSV(path, target, features, transform, target_transform)   numbers in a CSV file
--
-- Arguments in this order or by name in one trailing table (nnlua.args), as
-- datasets.FashionMNIST{train = false, transform = tf}. Each also takes
-- max_bytes (by name only, nnlua's): the most memory its images may take,
-- checked from the files' headers before anything is decoded (default 1 GiB). root may be left out:
-- $NNLUA_DATA, else the Debian package's copy. Nothing is ever downloaded.
-- Each keeps its images as bytes in memory (nn.ImageSet, bindings/l_data.c);
-- ds:get(i) gives the transformed image and the label as an integer 1..C, so
-- ds.classes[y] names it. ds.targets holds every label as a float tensor.
local args = require "nnlua.args"
local class = require "nnlua.class"
local data = require "data"
local C = require "data._C"

local datasets = {}

local DEFAULT_DATA = "/usr/share/datasets"

------------------------------------------------------------ the common class

-- The base of the built-in datasets. Each subclass's init reads its files into
-- an ImageSet and calls _setup.
local ImageDataset = class("ImageDataset", nil, {receiver = "ds"})
ImageDataset.__index = data._dataset_index
datasets.ImageDataset = ImageDataset

function ImageDataset.__len(self) return #self._set end

-- ds:get(i) -> the transformed image, the label 1..C
function ImageDataset:get(i)
  i = data._check_index(self.name .. ":get", i, #self._set)
  local x, y = self._set:raw(i), self._set:label(i)
  if self.transform then x = self.transform(x) end
  if self.target_transform then y = self.target_transform(y) end
  return x, y
end

-- the transform as C steps, or nil when some part of it is a Lua function
function ImageDataset:_steps()
  local t = self.transform
  if t == nil then return {} end
  if type(t) == "table" and t._steps then return t:_steps() end
  return nil
end

-- a dataset's printout: its lines, then its transforms as PyTorch prints them
local function with_transforms(self, lines)
  if self.transform then
    lines[#lines + 1] = "    Transform: " .. tostring(self.transform):gsub("\n", "\n    ")
  end
  if self.target_transform then
    lines[#lines + 1] = "    Target transform: " .. tostring(self.target_transform)
  end
  return table.concat(lines, "\n")
end

function ImageDataset.__tostring(self)
  local lines = {"Dataset " .. self.name, "    Number of datapoints: " .. #self._set}
  if self.root then lines[#lines + 1] = "    Root location: " .. self.root end
  if self.train ~= nil then lines[#lines + 1] = "    Split: " .. (self.train and "Train" or "Test") end
  return with_transforms(self, lines)
end

-- fills in the fields every built-in dataset has
function ImageDataset:_setup(set, a, fields)
  self._set, self.name = set, getmetatable(self).__name
  self.transform, self.target_transform = a.transform, a.target_transform
  for k, v in pairs(fields) do self[k] = v end
  self.targets = set:labels()
end

-- args.parse checks
local function callable(v, fn, name)
  local mt = getmetatable(v)
  if type(v) ~= "function" and not (type(mt) == "table" and mt.__call ~= nil) then
    error(string.format("%s: %s must be a function or a transform, got %s", fn, name, type(v)), 4)
  end
  return v
end

local function check_path(v, fn, name)
  if type(v) ~= "string" then
    error(string.format("%s: %s must be a path (a string), got %s", fn, name, args.describe(v)), 4)
  end
  if v:find("\0", 1, true) then
    error(string.format("%s: %s = %q has a NUL byte inside", fn, name, v), 4)
  end
  return v
end

-- max_bytes (nnlua's, by name only, in the trailing option table): the most
-- memory the dataset's images may take, pixels plus 20 bytes of index per
-- image; default 1 GiB. Taken out of the arguments before args.parse reads
-- the rest (the arguments it lists are PyTorch's). Returns max_bytes (or nil)
-- and the arguments without it.
local max_bytes_check = args.int(1)
local function take_max_bytes(fn, ...)
  local n = select("#", ...)
  local last = n > 0 and select(n, ...) or nil
  if not (args.is_options(last) and last.max_bytes ~= nil) then return nil, ... end
  local rest = {}
  for k, v in pairs(last) do
    if k ~= "max_bytes" then rest[k] = v end
  end
  local argv = table.pack(...)
  argv[n] = rest
  if next(rest) == nil then n = n - 1 end
  return max_bytes_check(last.max_bytes, fn, "max_bytes"), table.unpack(argv, 1, n)
end

-- args.parse of the arguments without max_bytes, which a.max_bytes then holds
local function parse(fn, spec, ...)
  local function go(max_bytes, ...)
    local a = args.parse(fn, spec, ...)
    a.max_bytes = max_bytes
    return a
  end
  return go(take_max_bytes(fn, ...))
end

-- calls C.f(...), raising its error with fn in front
local function call(fn, f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then error(fn .. ": " .. tostring(r[2]), 4) end
  return table.unpack(r, 2, r.n)
end

-------------------------------------------------------------------- IDX files

-- whether path names something (a file, or something the reader will refuse
-- by name: a folder, a FIFO); never opened here, so a FIFO cannot block
local function readable(path)
  return (C.filekind(path)) ~= "missing"
end

-- the first of name, name.gz in each folder that exists
local function find_file(folders, name)
  for _, dir in ipairs(folders) do
    for _, suffix in ipairs {"", ".gz"} do
      local path = dir .. "/" .. name .. suffix
      if readable(path) then return path end
    end
  end
  return nil
end

local FASHION_CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
local MNIST_CLASSES = {"0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
                       "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"}

-- what FashionMNIST and MNIST read, and how to get it
local SOURCES = {
  FashionMNIST = {
    folder = "fashion-mnist", classes = FASHION_CLASSES,
    get = "install the Debian package dataset-fashion-mnist (sudo apt-get install "
          .. "dataset-fashion-mnist), or pass root = the folder holding the files, or set NNLUA_DATA",
    download = "nnlua never downloads datasets: it reads the Debian package dataset-fashion-mnist "
               .. "(sudo apt-get install dataset-fashion-mnist), which puts the files in "
               .. DEFAULT_DATA .. "/fashion-mnist%s; leave download out",
  },
  MNIST = {
    folder = "mnist", classes = MNIST_CLASSES,
    get = "Debian has no MNIST package (its dataset-fashion-mnist is for datasets.FashionMNIST): "
          .. "put the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
          .. "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, .gz or not) in a folder and pass "
          .. "root = that folder, or set NNLUA_DATA",
    download = "nnlua never downloads datasets, and Debian has no MNIST package: put the four IDX "
               .. "files in a folder and pass root = that folder (or set NNLUA_DATA)%s; leave download out",
  },
}

-- the image and label files of a split in the folders, or nil, nil
local function split_files(folders, train)
  local prefix = train and "train" or "t10k"
  return find_file(folders, prefix .. "-images-idx3-ubyte"), find_file(folders, prefix .. "-labels-idx1-ubyte")
end

local function download_check(v, fn, name)
  if v ~= false then
    local src = SOURCES[fn]
    local here = ""
    if fn == "FashionMNIST" then
      here = split_files({DEFAULT_DATA .. "/" .. src.folder}, true) and " (installed on this machine)"
             or " (not installed on this machine)"
    end
    error(string.format("%s: %s = %s is not supported; " .. src.download, fn, name, args.describe(v), here), 4)
  end
  return v
end

local MNIST_SPEC = {
  {"root", nil, check = check_path},
  {"train", true, check = args.boolean},
  {"transform", nil, check = callable},
  {"target_transform", nil, check = callable},
  {"download", false, check = download_check},
}

-- FashionMNIST and MNIST: the four IDX files of the Debian layout, or of
-- torchvision's (<root>/<Name>/raw), plain or gzip. root defaults to
-- $NNLUA_DATA/<folder>, else Debian's /usr/share/datasets/<folder>.
local function mnist_like(fn)
  local src = SOURCES[fn]
  local cls = class(fn, ImageDataset)
  function cls:init(...)
    local a = parse(fn, MNIST_SPEC, ...)
    local root, train = a.root, a.train
    local env = os.getenv("NNLUA_DATA")
    local default = DEFAULT_DATA .. "/" .. src.folder
    local folders
    if root then
      folders = {root, root .. "/" .. src.folder, root .. "/" .. fn .. "/raw"}
    elseif env and env ~= "" then
      root = env
      folders = {env .. "/" .. src.folder, env, env .. "/" .. fn .. "/raw"}
    else
      root = default
      folders = {root}
    end
    local images, labels = split_files(folders, train)
    if not images or not labels then
      local prefix = train and "train" or "t10k"
      local how = src.get
      if folders[1] ~= default and split_files({default}, train) then
        how = string.format("the %s files are in %s%s: %s", fn, default,
                            fn == "FashionMNIST" and " (the Debian package dataset-fashion-mnist)" or "",
                            a.root and "leave root out to read them" or "unset NNLUA_DATA to read them")
      end
      error(string.format("%s: %s-%s-idx%s-ubyte[.gz] not found in %s; %s",
                          fn, prefix, images and "labels" or "images", images and "1" or "3",
                          table.concat(folders, ", "), how), 3)
    end
    local set = call(fn, C.imageset_idx, images, labels, a.max_bytes)
    local _, _, h, w, nclasses = set:info()
    if nclasses > #src.classes then
      error(string.format("%s: %s has label %d; expected 0..%d", fn, labels, nclasses - 1,
                          #src.classes - 1), 3)
    end
    self:_setup(set, a, {root = root, train = train, classes = src.classes, images_path = images,
                        labels_path = labels, size = {h, w}})
  end
  return cls
end

datasets.FashionMNIST = mnist_like("FashionMNIST")
datasets.MNIST = mnist_like("MNIST")

local IDX = class("IDX", ImageDataset)
datasets.IDX = IDX

local IDX_SPEC = {
  {"images", args.REQUIRED, check = check_path},
  {"labels", args.REQUIRED, check = check_path},
  {"transform", nil, check = callable},
  {"target_transform", nil, check = callable},
  {"classes", nil, table = true},
}

-- datasets.IDX(images, labels, transform, target_transform, classes): any
-- pair of IDX files (paths); classes names the labels 0..C-1 on disk
function IDX:init(...)
  local a = parse("IDX", IDX_SPEC, ...)
  local set = call("IDX", C.imageset_idx, a.images, a.labels, a.max_bytes)
  local _, _, h, w, nclasses = set:info()
  local classes = a.classes
  if classes == nil then
    classes = {}
    for k = 1, nclasses do classes[k] = tostring(k - 1) end   -- the labels as on disk
  elseif type(classes) ~= "table" or #classes < nclasses then
    error(string.format("IDX: classes must name all %d classes", nclasses), 3)
  end
  self:_setup(set, a, {classes = classes, images_path = a.images, labels_path = a.labels, size = {h, w}})
end

----------------------------------------------------------------- ImageFolder

-- the files under dir (any depth) in torchvision's order: a folder's own files
-- sorted by name, then its subfolders in order. Symbolic links are followed,
-- but each folder is walked once and each file taken once (the first name it
-- is reached by), both known by device and inode in seen: a link back up the
-- tree cannot loop. A file is taken when valid(path) says so; the others are
-- counted in skipped[1]. Entries that are not regular files (a FIFO, a broken
-- link) are taken when valid: the reader then refuses them by name.
local function image_files(dir, valid, out, seen, skipped)
  local names, kinds, ids = C.listdir(dir)
  for k, name in ipairs(names) do
    if kinds[k] ~= "dir" then
      local file = dir .. "/" .. name
      if not valid(file) then skipped[1] = skipped[1] + 1
      elseif kinds[k] ~= "file" or not seen[ids[k]] then
        if kinds[k] == "file" then seen[ids[k]] = true end
        out[#out + 1] = file
      end
    end
  end
  for k, name in ipairs(names) do
    if kinds[k] == "dir" and not seen[ids[k]] then
      seen[ids[k]] = true
      image_files(dir .. "/" .. name, valid, out, seen, skipped)
    end
  end
end

local function is_png(file) return file:lower():match("%.png$") ~= nil end

local ImageFolder = class("ImageFolder", ImageDataset)
datasets.ImageFolder = ImageFolder

local FOLDER_SPEC = {
  {"root", args.REQUIRED, check = check_path},
  {"transform", nil, check = callable},
  {"target_transform", nil, check = callable},
  {"loader", nil, unsupported = "nnlua reads the PNG files itself (in C): change the images "
                                .. "with transform, or build a TensorDataset"},
  {"is_valid_file", nil, check = args.callable},
}

-- datasets.ImageFolder(root, transform, target_transform, loader, is_valid_file):
-- root/<class>/<...>.png, classes sorted by name. is_valid_file(path) -> boolean
-- picks the files instead of the .png ending (they must still be PNG files).
function ImageFolder:init(...)
  local a = parse("ImageFolder", FOLDER_SPEC, ...)
  local root, valid = a.root, a.is_valid_file
  local names, kinds, ids = call("ImageFolder", C.listdir, root)
  local _, root_id = C.filekind(root)
  local classes, paths, labels, samples = {}, {}, {}, {}
  for k, name in ipairs(names) do
    if kinds[k] == "dir" then
      classes[#classes + 1] = name
      local files, skipped = {}, {0}
      local seen = {[root_id] = true, [ids[k]] = true}    -- walked once per class
      image_files(root .. "/" .. name, valid or is_png, files, seen, skipped)
      if #files == 0 then
        local why = ""
        if valid then why = string.format(" (is_valid_file took none of its %d files)", skipped[1])
        elseif skipped[1] > 0 then why = string.format(" (%d other files skipped: only PNG is read)", skipped[1]) end
        error(string.format("ImageFolder: class folder '%s/%s' has no PNG files%s", root, name, why), 3)
      end
      for _, f in ipairs(files) do
        paths[#paths + 1] = f
        labels[#labels + 1] = #classes
        samples[#samples + 1] = {f, #classes}
      end
    end
  end
  if #classes == 0 then error("ImageFolder: no class folders in " .. root, 3) end
  local class_to_idx = {}
  for k, name in ipairs(classes) do class_to_idx[name] = k end
  local set = call("ImageFolder", C.imageset_png, paths, labels, a.max_bytes)
  self:_setup(set, a, {root = root, classes = classes, class_to_idx = class_to_idx, samples = samples})
end

------------------------------------------------------------------------- CSV

-- datasets.CSV(path, target, features, transform, target_transform): the rows
-- of a CSV file of numbers (nnlua's own). ds:get(i) -> the features of row i
-- (a float tensor [F], a view of ds.data), its target (a number: an integer
-- when whole). The file is read once, in C (data._C.csv_read), into ds.data
-- [N, F] and ds.targets [N]; the DataLoader batches those with index_select
-- when there is no transform.
local CSV = class("CSV", nil, {receiver = "ds"})
CSV.__index = data._dataset_index
datasets.CSV = CSV

local CSV_NAME = "datasets.CSV"

local function column_name(v, fn, name)
  if type(v) ~= "string" or v == "" then
    error(string.format("%s: %s must be a column name (a non-empty string), got %s", fn, name,
                        args.describe(v)), 4)
  end
  return v
end

local function column_names(v, fn, name)
  if type(v) ~= "table" or getmetatable(v) ~= nil or #v == 0 then
    error(string.format("%s: %s must be a non-empty array of column names, got %s", fn, name,
                        args.describe(v)), 4)
  end
  local seen = {}
  for k = 1, #v do
    column_name(v[k], fn, string.format("%s[%d]", name, k))
    if seen[v[k]] then
      error(string.format("%s: %s[%d] repeats '%s' (also %s[%d])", fn, name, k, v[k], name, seen[v[k]]), 4)
    end
    seen[v[k]] = k
  end
  return v
end

local CSV_SPEC = {
  {"path", args.REQUIRED, check = check_path},
  {"target", args.REQUIRED, check = column_name},
  {"features", nil, table = true, check = column_names},
  {"transform", nil, check = callable},
  {"target_transform", nil, check = callable},
}

-- names as "a, b, c", the first max of them and a count when there are more
local function name_list(names, max)
  if #names <= max then return table.concat(names, ", ") end
  return string.format("%s, ... (%d columns)", table.concat(names, ", ", 1, max), #names)
end

function CSV:init(...)
  local a = args.parse(CSV_NAME, CSV_SPEC, ...)
  local path, target = a.path, a.target
  local features
  -- the columns to read, from the header's names: features first, then the target
  local function choose(names)
    local index = {}
    for c, name in ipairs(names) do index[name] = c end
    local function column(name, what)
      local c = index[name]
      if c == nil then
        error(string.format("'%s' has no column '%s' (%s); its columns are: %s", path, name, what,
                            name_list(names, 30)), 0)
      end
      return c
    end
    local t = column(target, "the target")
    local cols = {}
    features = {}
    if a.features then
      for k, name in ipairs(a.features) do
        cols[k] = column(name, string.format("features[%d]", k))
        if cols[k] == t then
          error(string.format("features[%d] is '%s', the target column", k, name), 0)
        end
        features[k] = name
      end
    else
      for c, name in ipairs(names) do
        if c ~= t then cols[#cols + 1], features[#features + 1] = c, name end
      end
      if #cols == 0 then
        error(string.format("'%s' has no column besides the target '%s'", path, target), 0)
      end
    end
    return {cols, {t}}
  end
  local x, y = call(CSV_NAME, C.csv_read, path, choose)
  local n = x:size(1)
  if n == 0 then
    error(string.format("%s: '%s' has no rows after its header", CSV_NAME, path), 3)
  end
  self.path, self.target, self.features, self.name = path, target, features, "CSV"
  self.data, self.targets = x, y:view(n)
  self.transform, self.target_transform = a.transform, a.target_transform
  self._n = n
  self._tensors = {self.data, self.targets}     -- what the DataLoader batches
end

function CSV.__len(self) return self._n end

-- ds:get(i) -> features [F], target
function CSV:get(i)
  i = data._check_index("CSV:get", i, self._n)
  local x, y = self.data[i], self.targets[i]
  y = math.tointeger(y) or y
  if self.transform then x = self.transform(x) end
  if self.target_transform then y = self.target_transform(y) end
  return x, y
end

function CSV.__tostring(self)
  local lines = {"Dataset CSV", "    Number of datapoints: " .. self._n, "    File: " .. self.path,
                 string.format("    Features (%d): %s", #self.features, name_list(self.features, 10)),
                 "    Target: " .. self.target}
  return with_transforms(self, lines)
end

return datasets
