-- Every ```lua block of docs/*.md and README.md runs without error. Files the
-- examples write and read (plain names like "loss.png", "model.safetensors")
-- go to a temporary folder.

local function blocks(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  local out = {}
  for code in text:gmatch("```lua\n(.-)```") do out[#out + 1] = code end
  return out
end

local dir = tmpdir()

-- runs fn with plot's file functions writing and reading in dir
local function in_dir(fn)
  local save, save_image, read_image = plot.Figure.save, plot.save_image, plot.read_image
  local asave, read_gif = plot.Animation.save, plot.read_gif
  local tsave, tload = tensor.save, tensor.load
  local folder = datasets.ImageFolder
  local dataC = require "data._C"                  -- data.write_csv, read_csv and datasets.CSV
  local write_file, csv_read = dataC.write_file, dataC.csv_read
  local function at(path) return dir .. "/" .. path end
  dataC.write_file = function(path, s) return write_file(at(path), s) end
  dataC.csv_read = function(path, ...) return csv_read(at(path), ...) end
  plot.Figure.save = function(self, path) return save(self, at(path)) end
  plot.save_image = function(t, path) return save_image(t, at(path)) end
  plot.read_image = function(path) return read_image(at(path)) end
  plot.Animation.save = function(self, path) return asave(self, at(path)) end
  plot.read_gif = function(path) return read_gif(at(path)) end
  tensor.save = function(value, path) return tsave(value, at(path)) end   -- m:save and m:load too
  tensor.load = function(path) return tload(at(path)) end
  datasets.ImageFolder = function(root, ...)
    if type(root) == "string" then return folder(at(root), ...) end
    return folder(root, ...)
  end
  local ok, err = pcall(fn)
  plot.Figure.save, plot.save_image, plot.read_image = save, save_image, read_image
  plot.Animation.save, plot.read_gif = asave, read_gif
  tensor.save, tensor.load = tsave, tload
  datasets.ImageFolder = folder
  dataC.write_file, dataC.csv_read = write_file, csv_read
  if not ok then error(err, 0) end
end

for _, path in ipairs{"README.md", "docs/tensor.md", "docs/nn.md", "docs/optim.md", "docs/data.md",
                      "docs/plot.md", "docs/from-pytorch.md", "docs/contributing.md"} do
  for k, code in ipairs(blocks(path)) do
    test(path .. " example " .. k, function()
      local env = setmetatable({print = function() end}, {__index = _G})
      local chunk = assert(load(code, "=" .. path .. ":example" .. k, "t", env))
      local before = tensor.get_num_threads()
      in_dir(chunk)
      tensor.set_num_threads(before)
    end)
  end
end

test("docs/plot.md examples wrote their files", function()
  for _, name in ipairs{"loss.png", "lr.png", "samples.png", "cm.png", "small.png", "small.svg",
                        "noise.png", "ramp.png"} do
    local f = io.open(dir .. "/" .. name, "rb")
    check_eq(f ~= nil, true, name)
    if f then f:close() end
  end
  os.execute("rm -rf '" .. dir .. "'")
end)
