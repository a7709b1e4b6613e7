-- The datasets module: require "datasets" (also the global datasets in the host).
--
--   datasets.FashionMNIST{root, train = true, transform, target_transform}
--   datasets.MNIST{root, train = true, transform, target_transform}
--   datasets.IDX{images, labels, transform, target_transform, classes}
--   datasets.ImageFolder{root, transform, target_transform}
--
-- Each keeps its images as bytes in memory (nn.ImageSet, bindings/l_data.c);
-- ds:get(i) gives the transformed image and the label as an integer 1..C, so
-- ds.classes[y] names it. ds.targets holds every label as a float tensor.
local errors = require "nnlua.errors"
local C = require "data._C"

local datasets = {}

local DEFAULT_DATA = "/usr/share/datasets"

------------------------------------------------------------ the common class

local ImageDataset = {__name = "ImageDataset"}
ImageDataset.__index = ImageDataset
datasets.ImageDataset = ImageDataset

function ImageDataset.__len(self) return #self._set end

local function get(self, i)
  local data = require "data"
  i = data._check_index(self.name .. ":get", i, #self._set)
  local x, y = self._set:raw(i), self._set:label(i)
  if self.transform then x = self.transform(x) end
  if self.target_transform then y = self.target_transform(y) end
  return x, y
end

-- ds:get(i) -> the transformed image, the label 1..C
function ImageDataset:get(i) return errors.rethrow(pcall(get, self, i)) end

-- the transform as C steps, or nil when some part of it is a Lua function
function ImageDataset:_steps()
  local t = self.transform
  if t == nil then return {} end
  if type(t) == "table" and t._steps then return t:_steps() end
  return nil
end

function ImageDataset.__tostring(self)
  local lines = {"Dataset " .. self.name, "    Number of datapoints: " .. #self._set}
  if self.root then lines[#lines + 1] = "    Root location: " .. self.root end
  if self.train ~= nil then lines[#lines + 1] = "    Split: " .. (self.train and "Train" or "Test") end
  if self.transform then
    lines[#lines + 1] = "    Transform: " .. tostring(self.transform):gsub("\n", "\n    ")
  end
  if self.target_transform then
    lines[#lines + 1] = "    Target transform: " .. tostring(self.target_transform)
  end
  return table.concat(lines, "\n")
end

local function new_dataset(fn, set, opts, fields)
  for _, k in ipairs {"transform", "target_transform"} do
    if opts[k] ~= nil and not errors.callable(opts[k]) then
      error(string.format("%s: %s must be a function or a transform, got %s", fn, k, type(opts[k])), 0)
    end
  end
  local ds = setmetatable({_set = set, name = fn, transform = opts.transform,
                           target_transform = opts.target_transform}, ImageDataset)
  for k, v in pairs(fields) do ds[k] = v end
  ds.targets = set:labels()
  return ds
end

-------------------------------------------------------------------- IDX files

local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
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

local MNIST_OPTS = {root = true, train = true, transform = true, target_transform = true,
                    download = true}

-- FashionMNIST and MNIST: the four IDX files of the Debian layout, or of
-- torchvision's (<root>/<Name>/raw), plain or gzip.
local function mnist_like(fn, folder, how_to_get, classes)
  return function(opts)
    return errors.rethrow(pcall(function()
      opts = errors.check_opts(fn, opts, MNIST_OPTS, 3)
      local train = opts.train
      if train == nil then train = true end
      if type(train) ~= "boolean" then error(fn .. ": train must be true or false", 0) end
      local root = opts.root
      if root ~= nil and type(root) ~= "string" then error(fn .. ": root must be a string", 0) end
      local env = os.getenv("NNLUA_DATA")
      local folders
      if root then
        folders = {root, root .. "/" .. folder, root .. "/" .. fn .. "/raw"}
      elseif env and env ~= "" then
        root = env
        folders = {env .. "/" .. folder, env, env .. "/" .. fn .. "/raw"}
      else
        root = DEFAULT_DATA .. "/" .. folder
        folders = {root}
      end
      local prefix = train and "train" or "t10k"
      local images = find_file(folders, prefix .. "-images-idx3-ubyte")
      local labels = find_file(folders, prefix .. "-labels-idx1-ubyte")
      if not images or not labels then
        error(string.format("%s: %s-%s-idx%s-ubyte[.gz] not found in %s; %s",
                            fn, prefix, images and "labels" or "images", images and "1" or "3",
                            table.concat(folders, ", "), how_to_get), 0)
      end
      local set = C.imageset_idx(images, labels)
      local ds = new_dataset(fn, set, opts, {root = root, train = train, classes = classes,
                                              images_path = images, labels_path = labels})
      local _, _, h, w, nclasses = set:info()
      if nclasses > #classes then
        error(string.format("%s: %s has label %d; expected 0..%d", fn, labels, nclasses - 1,
                            #classes - 1), 0)
      end
      ds.size = {h, w}
      return ds
    end))
  end
end

datasets.FashionMNIST = mnist_like("FashionMNIST", "fashion-mnist",
  "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), "
  .. "or pass root = the folder holding the files, or set NNLUA_DATA", FASHION_CLASSES)

datasets.MNIST = mnist_like("MNIST", "mnist",
  "MNIST is not packaged by Debian: put the four IDX files (from yann.lecun.com/exdb/mnist) "
  .. "in a folder and pass root = that folder, or set NNLUA_DATA", MNIST_CLASSES)

local IDX_OPTS = {images = true, labels = true, transform = true, target_transform = true,
                  classes = true}

-- datasets.IDX{images = path, labels = path, classes = {names}}: any pair of IDX files
function datasets.IDX(opts)
  return errors.rethrow(pcall(function()
    opts = errors.check_opts("IDX", opts, IDX_OPTS, 3)
    if type(opts.images) ~= "string" or type(opts.labels) ~= "string" then
      error("IDX: give images = path and labels = path (IDX files, .gz or not)", 0)
    end
    local set = C.imageset_idx(opts.images, opts.labels)
    local _, _, h, w, nclasses = set:info()
    local classes = opts.classes
    if classes == nil then
      classes = {}
      for k = 1, nclasses do classes[k] = tostring(k - 1) end   -- the labels as on disk
    elseif type(classes) ~= "table" or #classes < nclasses then
      error(string.format("IDX: classes must name all %d classes", nclasses), 0)
    end
    local ds = new_dataset("IDX", set, opts, {classes = classes, images_path = opts.images,
                                              labels_path = opts.labels})
    ds.size = {h, w}
    return ds
  end))
end

----------------------------------------------------------------- ImageFolder

local FOLDER_OPTS = {root = true, transform = true, target_transform = true}

-- PNG files under dir (any depth) in torchvision's order: a folder's own files
-- sorted by name, then its subfolders in order; counts the other files skipped
local function png_files(dir, out, skipped)
  local names, isdir = C.listdir(dir)
  for k, name in ipairs(names) do
    if not isdir[k] then
      if name:lower():match("%.png$") then out[#out + 1] = dir .. "/" .. name
      else skipped[1] = skipped[1] + 1 end
    end
  end
  for k, name in ipairs(names) do
    if isdir[k] then png_files(dir .. "/" .. name, out, skipped) end
  end
end

-- datasets.ImageFolder{root = path}: root/<class>/<...>.png, classes sorted by name
function datasets.ImageFolder(opts)
  return errors.rethrow(pcall(function()
    opts = errors.check_opts("ImageFolder", opts, FOLDER_OPTS, 3)
    local root = opts.root
    if type(root) ~= "string" then error("ImageFolder: give root = the folder of class folders", 0) end
    local names, isdir = C.listdir(root)
    local classes, paths, labels, samples = {}, {}, {}, {}
    for k, name in ipairs(names) do
      if isdir[k] then
        classes[#classes + 1] = name
        local files, skipped = {}, {0}
        png_files(root .. "/" .. name, files, skipped)
        if #files == 0 then
          error(string.format("ImageFolder: class folder '%s/%s' has no PNG files%s", root, name,
                              skipped[1] > 0 and string.format(" (%d other files skipped: only "
                              .. "PNG is read)", skipped[1]) or ""), 0)
        end
        for _, f in ipairs(files) do
          paths[#paths + 1] = f
          labels[#labels + 1] = #classes
          samples[#samples + 1] = {f, #classes}
        end
      end
    end
    if #classes == 0 then error("ImageFolder: no class folders in " .. root, 0) end
    local class_to_idx = {}
    for k, name in ipairs(classes) do class_to_idx[name] = k end
    local set = C.imageset_png(paths, labels)
    return new_dataset("ImageFolder", set, opts, {root = root, classes = classes,
                                                  class_to_idx = class_to_idx, samples = samples})
  end))
end

return datasets
