-- The plot module: require "plot" (also the global plot). Figures as PNG (or SVG).
--
--   plot.lines{series = {{label =, y =, x =, color =, linestyle =, marker =}, ...},
--              title =, xlabel =, ylabel =, grid =, logy =, markers =, legend =,
--              xlim =, ylim =, width =, height =}
--   plot.image_grid{images =, labels =, rows =, cols =, mean =, std =, range =, title =, ...}
--   plot.heatmap{matrix =, xlabels =, ylabels =, title =, xlabel =, ylabel =, annotate =, ...}
--   fig:save("name.png")  (or .svg)    fig:pixels()    fig:close()
--   plot.save_image(t, "img.png")      plot.read_image("img.png")
--
-- This file checks the options and puts the data in shape (tables of numbers,
-- one image tensor [N, C, H, W]); layout and drawing are C (nn/plot/plot.c,
-- nn/plot/plot_image.c, over cairo in nn/plot/canvas.c).
--
-- Errors are raised where they are found, inside stdlib/ (or in C); the host's
-- message handler rewrites that location to the line of the user's script.
local tensor = require "tensor"
local class = require "nnlua.class"
local args = require "nnlua.args"
local C = require "plot._C"

local plot = {}

-- the script being run, named in every PNG written
local function script_name()
  local a = rawget(_G, "arg")
  return type(a) == "table" and type(a[0]) == "string" and a[0] or nil
end

local function fail(fn, fmt, ...)
  error(string.format("plot.%s: " .. fmt, fn, ...), 2)
end

-- a label: strings as they are, whole numbers without ".0"
local function label_string(s)
  if math.type(s) == "float" and s == math.floor(s) and math.abs(s) < 2^53 then
    return string.format("%d", math.tointeger(s))
  end
  return tostring(s)
end

local function opt_string(fn, opts, key)
  local v = opts[key]
  if v ~= nil and type(v) ~= "string" and type(v) ~= "number" then
    fail(fn, "%s must be a string, got %s", key, type(v))
  end
  return v ~= nil and label_string(v) or nil
end

-- the figure sizes nn/plot/plot.c draws (NN_PLOT_MINSIDE, NN_PLOT_MAXSIDE)
local MINSIDE, MAXSIDE = 100, 8192

-- a whole number in lo..hi (a float holding one is converted), or an error naming key
local function whole_in(fn, key, v, lo, hi, what)
  local i = math.type(v) == "float" and math.tointeger(v) or v
  if math.type(i) ~= "integer" or i < lo or i > hi then
    fail(fn, "%s must be a whole number%s in %d..%d, got %s", key, what, lo, hi, tostring(v))
  end
  return i
end

-- width or height: whole numbers in C's int range here (C checks MINSIDE..MAXSIDE
-- and says so for both)
local function opt_size(fn, opts, key)
  local v = opts[key]
  if v == nil then return key == "width" and 800 or 600 end
  local i = math.type(v) == "float" and math.tointeger(v) or v
  if math.type(i) ~= "integer" or i < -MAXSIDE or i > 1 << 30 or i == 0 then
    fail(fn, "%s must be a whole number of pixels in %d..%d, got %s", key, MINSIDE, MAXSIDE, tostring(v))
  end
  return i
end

local function opt_bool(fn, opts, key)
  local v = opts[key]
  if v ~= nil and type(v) ~= "boolean" then
    fail(fn, "%s must be true or false, got %s", key, type(v))
  end
  return v
end

-- a {lo, hi} pair of numbers, or nil
local function opt_pair(fn, opts, key)
  local v = opts[key]
  if v == nil then return nil end
  if type(v) ~= "table" or type(v[1]) ~= "number" or type(v[2]) ~= "number" then
    fail(fn, "%s must be {lo, hi}, two numbers", key)
  end
  if not (v[1] < v[2]) then fail(fn, "%s must be {lo, hi} with lo < hi, got {%g, %g}", key, v[1], v[2]) end
  if v[1] == -math.huge or v[2] == math.huge or v[2] - v[1] == math.huge then
    fail(fn, "%s must be {lo, hi}, two finite numbers not too far apart, got {%g, %g}", key, v[1], v[2])
  end
  return {v[1], v[2]}
end

-- an array of n labels (strings or numbers, or a 1-d tensor) as strings, or nil
local function opt_labels(fn, opts, key, n, what)
  local v = opts[key]
  if v == nil then return nil end
  if tensor.is_tensor(v) and v:dim() == 1 then v = v:totable() end
  if type(v) ~= "table" then fail(fn, "%s must be a table of strings, got %s", key, type(v)) end
  if #v ~= n then fail(fn, "%s has %d entries for %d %s", key, #v, n, what) end
  local out = {}
  for k = 1, n do
    local s = v[k]
    if type(s) ~= "string" and type(s) ~= "number" then
      fail(fn, "%s[%d] must be a string, got %s", key, k, type(s))
    end
    out[k] = label_string(s)
  end
  return out
end

------------------------------------------------------------------ figures

-- a class (nnlua.class): fig.save(...) instead of fig:save(...) is an error that says so
local Figure = class("Figure", nil, {receiver = "fig"})

-- made by plot.lines and the others around the drawing ud (plot._C)
function Figure:init(kind, title, ud)
  local _, w, h = C.size(ud)
  self.kind, self.width, self.height, self.title, self._c = kind, w, h, title, ud
end

local function figure(kind, title, ud) return Figure(kind, title, ud) end

-- writes the figure to path: SVG when it ends in .svg, else PNG (.png); returns the figure
function Figure:save(path)
  if type(path) ~= "string" then
    error(string.format("Figure:save: path must be a string, got %s", type(path)), 2)
  end
  if path:find("\0", 1, true) then
    error(string.format("Figure:save: path %q has a NUL byte inside", path), 2)
  end
  local ext = path:lower():match("%.(%w+)$")
  if ext ~= "png" and ext ~= "svg" then
    error(string.format("Figure:save: '%s' must end in .png or .svg", path), 2)
  end
  C.save(self._c, path, script_name(), self.title)
  return self
end

-- the figure as a tensor [3, H, W] in [0, 1], the pixels save writes
function Figure:pixels()
  return C.pixels(self._c)
end

-- frees the drawing now rather than at the next garbage collection
function Figure:close()
  C.close(self._c)
end

function Figure.__tostring(self)
  return string.format("Figure(%s, %dx%d%s)", self.kind, self.width, self.height,
                       self.title and (", '" .. self.title .. "'") or "")
end

plot.Figure = Figure

-------------------------------------------------------------------- lines

local named_colors = {blue = 1, orange = 2, green = 3, red = 4, vermillion = 4, purple = 5,
                      pink = 5, sky = 6, skyblue = 6, black = 7, yellow = 8}
local grey = {gray = 0x808080, grey = 0x808080, white = 0xFFFFFF}
local linestyles = {["-"] = 0, solid = 0, ["--"] = 1, dashed = 1, [":"] = 2, dotted = 2,
                    ["-."] = 3, dashdot = 3}
local markers = {none = 0, [""] = 0, o = 1, circle = 1, s = 2, square = 2, ["^"] = 3,
                 triangle = 3, D = 4, d = 4, diamond = 4, x = 5, ["+"] = 6, plus = 6}

local function parse_color(where, c)
  if c == nil then return nil end
  if math.type(c) == "integer" and c >= 0 and c <= 0xFFFFFF then return c end
  if type(c) == "string" then
    local hex = c:match("^#(%x%x%x%x%x%x)$")
    if hex then return tonumber(hex, 16) end
    local r, g, b = c:match("^#(%x)(%x)(%x)$")
    if r then return tonumber(r .. r .. g .. g .. b .. b, 16) end
    if named_colors[c] then return C.palette(named_colors[c]) end
    if grey[c] then return grey[c] end
  end
  if type(c) == "table" and #c == 3 then
    local v = 0
    for k = 1, 3 do
      if type(c[k]) ~= "number" or not (c[k] >= 0 and c[k] <= 1) then v = nil break end
      v = v * 256 + math.floor(c[k] * 255 + 0.5)
    end
    if v then return v end
  end
  error(string.format("%s: color must be '#rrggbb', a name (blue, orange, green, red, purple, "
                      .. "sky, black, yellow, gray) or {r, g, b} in 0..1, got %s", where,
                      tostring(c)))
end

-- y (or x) of a series: a table of numbers or a 1-d tensor, checked
local function values(where, key, v)
  if tensor.is_tensor(v) then
    if v:dim() ~= 1 then fail("lines", "%s: %s must be 1-d, got a %d-d tensor", where, key, v:dim()) end
    return v
  end
  if type(v) ~= "table" then
    fail("lines", "%s: %s must be a table of numbers or a 1-d tensor, got %s", where, key, type(v))
  end
  for k = 1, #v do
    if type(v[k]) ~= "number" then
      fail("lines", "%s: %s[%d] must be a number (NaN for a gap), got %s", where, key, k, type(v[k]))
    end
  end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > #v then
      fail("lines", "%s: %s must be an array (use 0/0 for a gap, not nil)", where, key)
    end
  end
  return v
end

local series_keys = {label = true, y = true, x = true, color = true, linestyle = true, marker = true}
local lines_keys = {series = true, title = true, xlabel = true, ylabel = true, grid = true,
                    logy = true, markers = true, legend = true, xlim = true, ylim = true,
                    width = true, height = true}

function plot.lines(opts)
  args.check_opts("plot.lines", opts, lines_keys, 0)
  if opts == nil then fail("lines", "expected a table of options with series = {...}") end
  local spec = {width = opt_size("lines", opts, "width"), height = opt_size("lines", opts, "height"),
                title = opt_string("lines", opts, "title"),
                xlabel = opt_string("lines", opts, "xlabel"),
                ylabel = opt_string("lines", opts, "ylabel"),
                grid = opt_bool("lines", opts, "grid"), logy = opt_bool("lines", opts, "logy"),
                markers = opt_bool("lines", opts, "markers"),
                xlim = opt_pair("lines", opts, "xlim"), ylim = opt_pair("lines", opts, "ylim")}
  local legend = opts.legend
  if legend == false then legend = "none" elseif legend == true or legend == nil then legend = "best" end
  local ok_legend = {best = 1, none = 1, ["upper right"] = 1, ["upper left"] = 1,
                     ["lower left"] = 1, ["lower right"] = 1}
  if not ok_legend[legend] then
    fail("lines", "legend must be true, false, 'best', 'upper right', 'upper left', 'lower left' "
         .. "or 'lower right', got %s", tostring(legend))
  end
  spec.legend = legend
  local series = opts.series
  if type(series) ~= "table" then fail("lines", "series must be a table of series, got %s", type(series)) end
  if series.y ~= nil then fail("lines", "series must be a table of series: series = {{y = ...}}") end
  if #series == 0 then fail("lines", "series must not be empty") end
  spec.series = {}
  for i = 1, #series do
    local s = series[i]
    local where = string.format("series %d", i)
    if type(s) ~= "table" or tensor.is_tensor(s) then
      fail("lines", "%s must be a table {label =, y =}, got %s", where, type(s))
    end
    if type(s.label) == "string" then where = where .. " ('" .. s.label .. "')" end
    args.check_opts("plot.lines: " .. where, s, series_keys, 0)
    if s.y == nil then fail("lines", "%s has no y", where) end
    local out = {y = values(where, "y", s.y), label = s.label ~= nil and label_string(s.label) or nil}
    if s.label ~= nil and type(s.label) ~= "string" and type(s.label) ~= "number" then
      fail("lines", "%s: label must be a string, got %s", where, type(s.label))
    end
    if s.x ~= nil then
      out.x = values(where, "x", s.x)
      local nx = tensor.is_tensor(out.x) and out.x:size(1) or #out.x
      local ny = tensor.is_tensor(out.y) and out.y:size(1) or #out.y
      if nx ~= ny then fail("lines", "%s has %d x values and %d y values", where, nx, ny) end
    end
    out.color = parse_color("plot.lines: " .. where, s.color)
    if s.linestyle ~= nil then
      out.dash = linestyles[s.linestyle]
      if not out.dash then
        fail("lines", "%s: linestyle must be '-', '--', ':' or '-.', got %s", where, tostring(s.linestyle))
      end
    end
    if s.marker ~= nil then
      out.marker = s.marker == true and 1 or s.marker == false and 0 or markers[s.marker]
      if not out.marker then
        fail("lines", "%s: marker must be 'o', 's', '^', 'D', 'x', '+' or 'none', got %s", where,
             tostring(s.marker))
      end
    end
    spec.series[i] = out
  end
  return figure("lines", spec.title, C.lines(spec))
end

--------------------------------------------------------------- image_grid

-- one image as a tensor [C, H, W]: [H, W], [C, H, W] or [H, W, C] (C 1 or 3)
local function chw(i, t)
  if not tensor.is_tensor(t) then fail("image_grid", "image %d must be a tensor, got %s", i, type(t)) end
  local d = t:dim()
  if d == 2 then return t:unsqueeze(1) end
  if d == 3 then
    local c1, c3 = t:size(1), t:size(3)
    if c1 == 1 or c1 == 3 then return t end
    if c3 == 1 or c3 == 3 then return t:permute(3, 1, 2) end
  end
  fail("image_grid", "image %d must be [H, W], [C, H, W] or [H, W, C] with C 1 or 3, got shape %s",
       i, table.concat(t.shape, "x"))
end

local function image_tensor(images)
  if tensor.is_tensor(images) then
    local d = images:dim()
    if d == 3 then return images:unsqueeze(2) end
    if d == 4 then
      local c2, c4 = images:size(2), images:size(4)
      if c2 == 1 or c2 == 3 then return images end
      if c4 == 1 or c4 == 3 then return images:permute(1, 4, 2, 3) end
    end
    fail("image_grid", "images must be a tensor [N, H, W] or [N, C, H, W] with C 1 or 3, got shape %s",
         table.concat(images.shape, "x"))
  end
  if type(images) ~= "table" then
    fail("image_grid", "images must be a table of tensors or a tensor [N, C, H, W], got %s", type(images))
  end
  if #images == 0 then fail("image_grid", "images must not be empty") end
  local list = {}
  for i = 1, #images do
    list[i] = chw(i, images[i])
    local a, b = list[1].shape, list[i].shape
    if a[1] ~= b[1] or a[2] ~= b[2] or a[3] ~= b[3] then
      fail("image_grid", "image %d is %s but image 1 is %s; all images must have the same size "
           .. "and channels", i, table.concat(b, "x"), table.concat(a, "x"))
    end
  end
  return tensor.stack(list, 1)
end

local grid_keys = {images = true, labels = true, rows = true, cols = true, mean = true, std = true,
                   range = true, title = true, width = true, height = true}

local function count(fn, opts, key)
  local v = opts[key]
  if v == nil then return nil end
  return whole_in(fn, key, v, 1, MAXSIDE, "")
end

local function channel_values(key, v, c)
  if type(v) == "number" then v = {v} end
  if type(v) ~= "table" or (#v ~= 1 and #v ~= c) then
    fail("image_grid", "%s must be a number or a table of %d numbers (one per channel)", key, c)
  end
  local out = {}
  for k = 1, c do
    local x = v[#v == 1 and 1 or k]
    if type(x) ~= "number" or x ~= x or x == math.huge or x == -math.huge or math.abs(x) > 3.4e38 then
      fail("image_grid", "%s[%d] must be a finite number, got %s", key, k, tostring(x))
    end
    if key == "std" and x == 0 then fail("image_grid", "std[%d] must not be 0", k) end
    out[k] = x
  end
  return out
end

function plot.image_grid(opts)
  args.check_opts("plot.image_grid", opts, grid_keys, 0)
  if opts == nil or opts.images == nil then fail("image_grid", "expected {images = ...}") end
  local images = image_tensor(opts.images):contiguous()
  local n, c = images:size(1), images:size(2)
  if n == 0 then fail("image_grid", "images must not be empty") end
  local rows, cols = count("image_grid", opts, "rows"), count("image_grid", opts, "cols")
  if not rows and not cols then
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
  elseif not rows then
    rows = math.ceil(n / cols)
  elseif not cols then
    cols = math.ceil(n / rows)
  end
  if rows * cols < n then
    fail("image_grid", "%d rows x %d cols hold %d images, not %d (pick the first ones with "
         .. "images:narrow(1, 1, %d))", rows, cols, rows * cols, n, rows * cols)
  end
  -- width and height follow the grid unless given (0 asks C to choose)
  local spec = {images = images, rows = rows, cols = cols,
                width = opts.width == nil and 0 or opt_size("image_grid", opts, "width"),
                height = opts.height == nil and 0 or opt_size("image_grid", opts, "height"),
                title = opt_string("image_grid", opts, "title"),
                labels = opt_labels("image_grid", opts, "labels", n, "images"),
                range = opt_pair("image_grid", opts, "range")}
  if (opts.mean == nil) ~= (opts.std == nil) then fail("image_grid", "give both mean and std, or neither") end
  if opts.mean ~= nil then
    spec.mean = channel_values("mean", opts.mean, c)
    spec.std = channel_values("std", opts.std, c)
  elseif not spec.range and images:numel() > 0 and images:max():item() > 1.5 then
    spec.range = {0, 255}                  -- raw pixel values 0..255 (no ToTensor)
  end
  return figure("image_grid", spec.title, C.image_grid(spec))
end

------------------------------------------------------------------ heatmap

local heatmap_keys = {matrix = true, xlabels = true, ylabels = true, title = true, xlabel = true,
                      ylabel = true, annotate = true, width = true, height = true}

function plot.heatmap(opts)
  args.check_opts("plot.heatmap", opts, heatmap_keys, 0)
  if opts == nil or opts.matrix == nil then fail("heatmap", "expected {matrix = ...}") end
  local m = opts.matrix
  if type(m) == "table" then
    local ok, t = pcall(tensor.new, m)
    if not ok then fail("heatmap", "matrix must be a table of rows of numbers or a 2-d tensor") end
    m = t
  end
  if not tensor.is_tensor(m) or m:dim() ~= 2 then
    fail("heatmap", "matrix must be a 2-d tensor or a table of rows, got %s",
         tensor.is_tensor(m) and (m:dim() .. "-d tensor") or type(m))
  end
  local spec = {matrix = m:contiguous(), width = opt_size("heatmap", opts, "width"),
                height = opt_size("heatmap", opts, "height"),
                title = opt_string("heatmap", opts, "title"),
                xlabel = opt_string("heatmap", opts, "xlabel"),
                ylabel = opt_string("heatmap", opts, "ylabel"),
                annotate = opt_bool("heatmap", opts, "annotate"),
                xlabels = opt_labels("heatmap", opts, "xlabels", m:size(2), "columns"),
                ylabels = opt_labels("heatmap", opts, "ylabels", m:size(1), "rows")}
  return figure("heatmap", spec.title, C.heatmap(spec))
end

------------------------------------------------------------- image files

-- writes t ([H, W] or [C, H, W], C 1 or 3, values in [0, 1], clamped) to a PNG file
function plot.save_image(t, path)
  if not tensor.is_tensor(t) then fail("save_image", "expected a tensor, got %s", type(t)) end
  if type(path) ~= "string" then fail("save_image", "path must be a string, got %s", type(path)) end
  if path:find("\0", 1, true) then fail("save_image", "path %q has a NUL byte inside", path) end
  if not path:lower():match("%.png$") then fail("save_image", "'%s' must end in .png", path) end
  if t:dim() == 2 then t = t:unsqueeze(1) end
  if t:dim() ~= 3 or (t:size(1) ~= 1 and t:size(1) ~= 3) then
    fail("save_image", "expected a tensor [H, W] or [C, H, W] with C 1 or 3, got shape %s%s",
         table.concat(t.shape, "x"), t:dim() == 4 and " (for a batch use plot.image_grid)" or "")
  end
  C.save_image(path, t:contiguous(), script_name())
end

-- reads a PNG file: a tensor [C, H, W] in [0, 1], C 1 (grey) or 3 (RGB)
function plot.read_image(path)
  if type(path) ~= "string" then
    error(string.format("plot.read_image: path must be a string, got %s", type(path)), 2)
  end
  if path:find("\0", 1, true) then
    error(string.format("plot.read_image: path %q has a NUL byte inside", path), 2)
  end
  return C.read_image(path)
end

return plot
