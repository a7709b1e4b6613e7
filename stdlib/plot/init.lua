-- The plot module: require "plot" (also the global plot). Figures as PNG (or SVG).
--
--   plot.lines{series = {{label =, y =, x =, color =, linestyle =, marker =}, ...},
--              title =, xlabel =, ylabel =, grid =, logy =, markers =, legend =,
--              xlim =, ylim =, width =, height =}
--   plot.image_grid{images =, labels =, rows =, cols =, mean =, std =, range =, title =, ...}
--   plot.heatmap{matrix =, xlabels =, ylabels =, title =, xlabel =, ylabel =, annotate =,
--                extent =, origin =, ...}
--   plot.contour{z = or fn =, x =, y =, levels =, log =, filled =, lines =, series =, ...}
--   plot.scatter{x =, y = or series =, ...}   plot.bar{values =, labels = or x = or groups =, ...}
--   plot.hist{values =, bins =, range =, ...}  plot.subplots{rows =, cols =, cells = {fig, ...}}
--   fig:save("name.png")  (or .svg)    fig:pixels()    fig:close()
--   plot.save_image(t, "img.png")      plot.read_image("img.png")
--
-- This file checks the options and puts the data in shape (tables of numbers,
-- one image tensor [N, C, H, W]); layout and drawing are C (nn/plot/plot.c: the
-- axes every kind but image_grid and the categorical heatmap share, field.c:
-- contours, plot_image.c, over cairo in nn/plot/canvas.c).
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
function Figure:init(kind, title, ud, spec)
  local _, w, h = C.size(ud)
  self.kind, self.width, self.height, self.title, self._c = kind, w, h, title, ud
  self._spec = spec          -- the axes' options as C takes them (for plot.subplots)
end

local function figure(kind, title, ud, spec) return Figure(kind, title, ud, spec) end

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

-- shows the figure: through plot.display(fig) when a notebook front end has
-- set that function, else as a temporary PNG whose path is printed (and returned)
function Figure:show()
  local display = rawget(plot, "display")
  if type(display) == "function" then return display(self) end
  local base = os.tmpname()              -- a new empty file: the PNG goes beside it
  local path = base .. ".png"
  local ok, err = pcall(C.save, self._c, path, script_name(), self.title)
  os.remove(base)
  if not ok then error(err, 2) end
  print(path)
  return path
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

local series_keys = {label = true, y = true, x = true, color = true, linestyle = true, marker = true,
                     marker_size = true, start_marker = true, end_marker = true}
local axes_keys = {title = true, xlabel = true, ylabel = true, grid = true, logy = true,
                   legend = true, xlim = true, ylim = true, width = true, height = true,
                   equal = true, annotations = true}

local function keys(...)
  local out = {}
  for _, t in ipairs {...} do for k, v in pairs(t) do out[k] = v end end
  return out
end

local lines_keys = keys(axes_keys, {series = true, markers = true})

local marker_names = "'o', 's', '^', 'D', 'x', '+', '*' or 'none'"
markers["*"], markers.star = 7, 7

local function marker_of(fn, where, key, m)
  if m == nil then return nil end
  local v = m == true and 1 or m == false and 0 or markers[m]
  if not v then fail(fn, "%s: %s must be %s, got %s", where, key, marker_names, tostring(m)) end
  return v
end

local function positive_number(fn, where, key, v, max)
  if v == nil then return nil end
  if type(v) ~= "number" or not (v > 0 and v <= max) then
    fail(fn, "%s: %s must be a number in (0, %g], got %s", where, key, max, tostring(v))
  end
  return v
end

local function count_of(v) return tensor.is_tensor(v) and v:size(1) or #v end

-- one series (a table {y =, x =, label =, ...}) as C takes it
local function series_spec(fn, i, s, defaults)
  local where = string.format("series %d", i)
  if type(s) ~= "table" or tensor.is_tensor(s) then
    fail(fn, "%s must be a table {label =, y =}, got %s", where, type(s))
  end
  if type(s.label) == "string" then where = where .. " ('" .. s.label .. "')" end
  args.check_opts("plot." .. fn .. ": " .. where, s, series_keys, 0)
  if s.y == nil then fail(fn, "%s has no y", where) end
  if s.label ~= nil and type(s.label) ~= "string" and type(s.label) ~= "number" then
    fail(fn, "%s: label must be a string, got %s", where, type(s.label))
  end
  local out = {y = values(where, "y", s.y), label = s.label ~= nil and label_string(s.label) or nil}
  if s.x ~= nil then
    out.x = values(where, "x", s.x)
    local nx, ny = count_of(out.x), count_of(out.y)
    if nx ~= ny then fail(fn, "%s has %d x values and %d y values", where, nx, ny) end
  end
  out.color = parse_color("plot." .. fn .. ": " .. where, s.color)
  local ls = s.linestyle
  if ls == nil and defaults then ls = defaults.linestyle end
  if ls ~= nil then
    out.dash = (ls == "none" or ls == "") and 4 or linestyles[ls]
    if not out.dash then
      fail(fn, "%s: linestyle must be '-', '--', ':', '-.' or 'none', got %s", where, tostring(ls))
    end
  end
  out.marker = marker_of(fn, where, "marker", s.marker == nil and defaults and defaults.marker or s.marker)
  out.marker_size = positive_number(fn, where, "marker_size", s.marker_size, 200)
  out.start_marker = marker_of(fn, where, "start_marker", s.start_marker)
  out.end_marker = marker_of(fn, where, "end_marker", s.end_marker)
  return out
end

local function series_list(fn, series, defaults)
  if type(series) ~= "table" then fail(fn, "series must be a table of series, got %s", type(series)) end
  if series.y ~= nil then fail(fn, "series must be a table of series: series = {{y = ...}}") end
  local out = {}
  for i = 1, #series do out[i] = series_spec(fn, i, series[i], defaults) end
  return out
end

local aligns = {left = 0, center = 0.5, centre = 0.5, right = 1}

-- annotations = {{x =, y =, text =, color =, size =, align =}, ...} (or {x, y, text})
local function annotations(fn, list)
  if list == nil then return nil end
  if type(list) ~= "table" then fail(fn, "annotations must be a table of {x =, y =, text =}") end
  local out = {}
  for i = 1, #list do
    local a = list[i]
    if type(a) ~= "table" then fail(fn, "annotation %d must be a table {x =, y =, text =}", i) end
    local x, y, text = a.x or a[1], a.y or a[2], a.text or a[3]
    if type(x) ~= "number" or type(y) ~= "number" or x ~= x or y ~= y or math.abs(x) == math.huge
       or math.abs(y) == math.huge then
      fail(fn, "annotation %d needs finite numbers x and y", i)
    end
    if type(text) ~= "string" and type(text) ~= "number" then
      fail(fn, "annotation %d needs a text (a string)", i)
    end
    local align = a.align or "left"
    if not aligns[align] then fail(fn, "annotation %d: align must be 'left', 'center' or 'right'", i) end
    out[i] = {x = x, y = y, text = label_string(text), halign = aligns[align],
              color = parse_color("plot." .. fn .. ": annotation " .. i, a.color),
              size = positive_number(fn, "annotation " .. i, "size", a.size, 200)}
  end
  return out
end

local ok_legend = {best = 1, none = 1, ["upper right"] = 1, ["upper left"] = 1,
                   ["lower left"] = 1, ["lower right"] = 1}

-- the options every set of axes has, checked, as C takes them
local function axes_spec(fn, opts)
  local spec = {width = opt_size(fn, opts, "width"), height = opt_size(fn, opts, "height"),
                title = opt_string(fn, opts, "title"),
                xlabel = opt_string(fn, opts, "xlabel"),
                ylabel = opt_string(fn, opts, "ylabel"),
                grid = opt_bool(fn, opts, "grid"), logy = opt_bool(fn, opts, "logy"),
                markers = opt_bool(fn, opts, "markers"), equal = opt_bool(fn, opts, "equal"),
                xlim = opt_pair(fn, opts, "xlim"), ylim = opt_pair(fn, opts, "ylim"),
                texts = annotations(fn, opts.annotations), kind = fn}
  local legend = opts.legend
  if legend == false then legend = "none" elseif legend == true or legend == nil then legend = "best" end
  if not ok_legend[legend] then
    fail(fn, "legend must be true, false, 'best', 'upper right', 'upper left', 'lower left' "
         .. "or 'lower right', got %s", tostring(legend))
  end
  spec.legend = legend
  return spec
end

local function draw(kind, spec)
  return figure(kind, spec.title, C.lines(spec), spec)
end

function plot.lines(opts)
  args.check_opts("plot.lines", opts, lines_keys, 0)
  if opts == nil then fail("lines", "expected a table of options with series = {...}") end
  local spec = axes_spec("lines", opts)
  local series = opts.series
  if type(series) ~= "table" then fail("lines", "series must be a table of series, got %s", type(series)) end
  spec.series = series_list("lines", series)
  if #spec.series == 0 then fail("lines", "series must not be empty") end
  return draw("lines", spec)
end

------------------------------------------------------------------ scatter

local scatter_keys = keys(axes_keys, {x = true, y = true, label = true, color = true, marker = true,
                                      size = true, series = true})

-- points without lines: x, y (one set), or series = {{x =, y =, label =, ...}, ...}
function plot.scatter(opts)
  args.check_opts("plot.scatter", opts, scatter_keys, 0)
  if opts == nil then fail("scatter", "expected {x = ..., y = ...} or {series = ...}") end
  local spec = axes_spec("scatter", opts)
  local list = opts.series
  if list == nil then
    if opts.x == nil or opts.y == nil then fail("scatter", "expected x and y (or series = {...})") end
    list = {{x = opts.x, y = opts.y, label = opts.label, color = opts.color, marker = opts.marker,
             marker_size = opts.size}}
  elseif opts.x ~= nil or opts.y ~= nil then
    fail("scatter", "give x and y, or series, not both")
  end
  spec.series = series_list("scatter", list, {linestyle = "none", marker = "o"})
  for i, s in ipairs(spec.series) do
    if s.x == nil then fail("scatter", "series %d has no x", i) end
  end
  if #spec.series == 0 then fail("scatter", "series must not be empty") end
  return draw("scatter", spec)
end

---------------------------------------------------------------------- bar

local bar_keys = keys(axes_keys, {values = true, labels = true, x = true, width = true, color = true,
                                  label = true, bottom = true, groups = true})

local function number_list(fn, key, v)
  if tensor.is_tensor(v) then
    if v:dim() ~= 1 then fail(fn, "%s must be 1-d, got a %d-d tensor", key, v:dim()) end
    v = v:totable()
  end
  if type(v) ~= "table" then fail(fn, "%s must be a table of numbers or a 1-d tensor, got %s", key, type(v)) end
  for k = 1, #v do
    if type(v[k]) ~= "number" or v[k] ~= v[k] or math.abs(v[k]) == math.huge then
      fail(fn, "%s[%d] must be a finite number, got %s", key, k, tostring(v[k]))
    end
  end
  return v
end

-- bars: values (heights) at labels (names, x = 1, 2, ...) or x (numbers);
-- groups = {{label =, values =, color =}, ...} side by side
function plot.bar(opts)
  args.check_opts("plot.bar", opts, bar_keys, 0)
  if opts == nil then fail("bar", "expected {values = ...}") end
  local spec = axes_spec("bar", opts)
  local groups = opts.groups
  if groups == nil then
    if opts.values == nil then fail("bar", "expected values = {...} (the bar heights) or groups") end
    groups = {{values = opts.values, label = opts.label, color = opts.color}}
  elseif opts.values ~= nil then
    fail("bar", "give values, or groups, not both")
  end
  if type(groups) ~= "table" or #groups == 0 then fail("bar", "groups must be a non-empty table") end
  local n = nil
  local x
  if opts.labels ~= nil and opts.x ~= nil then fail("bar", "give labels or x, not both") end
  local width = positive_number("bar", "bars", "width", opts.width, math.huge) or 0.8
  local bottom = opts.bottom or 0
  if type(bottom) ~= "number" or bottom ~= bottom or math.abs(bottom) == math.huge then
    fail("bar", "bottom must be a finite number")
  end
  spec.bars = {}
  for g = 1, #groups do
    local grp = groups[g]
    if type(grp) ~= "table" or grp.values == nil then fail("bar", "group %d needs values = {...}", g) end
    args.check_opts("plot.bar: group " .. g, grp, {values = true, label = true, color = true}, 0)
    local h = number_list("bar", g > 1 and ("groups[" .. g .. "].values") or "values", grp.values)
    if #h == 0 then fail("bar", "values must not be empty") end
    if n and #h ~= n then fail("bar", "group %d has %d values, group 1 has %d", g, #h, n) end
    n = #h
    if not x then
      if opts.labels ~= nil then
        spec.xticklabels = opt_labels("bar", opts, "labels", n, "values")
        x = {}
        for k = 1, n do x[k] = k end
      elseif opts.x ~= nil then
        x = number_list("bar", "x", opts.x)
        if #x ~= n then fail("bar", "x has %d values for %d bars", #x, n) end
      else
        x = {}
        for k = 1, n do x[k] = k end
      end
    end
    local w = width / #groups
    local xs = {}
    for k = 1, n do xs[k] = x[k] + (g - (#groups + 1) / 2) * w end
    spec.bars[g] = {x = xs, h = h, width = w, bottom = bottom,
                    label = grp.label ~= nil and label_string(grp.label) or nil,
                    color = parse_color("plot.bar: group " .. g, grp.color)}
  end
  return draw("bar", spec)
end

--------------------------------------------------------------------- hist

local hist_keys = keys(axes_keys, {values = true, bins = true, range = true, color = true,
                                   label = true})

-- a histogram of values: bins equal bins (a number; default Sturges' rule) over
-- range (default the values' min and max); fig.counts and fig.edges hold them
function plot.hist(opts)
  args.check_opts("plot.hist", opts, hist_keys, 0)
  if opts == nil or opts.values == nil then fail("hist", "expected {values = ...}") end
  local spec = axes_spec("hist", opts)
  local v = opts.values
  if tensor.is_tensor(v) then
    v = v:contiguous():view(-1)
  elseif type(v) == "table" then
    for k = 1, #v do
      if type(v[k]) ~= "number" then fail("hist", "values[%d] must be a number, got %s", k, type(v[k])) end
    end
  else
    fail("hist", "values must be a table of numbers or a tensor, got %s", type(v))
  end
  local n = count_of(v)
  local lo, hi
  if opts.range ~= nil then
    local r = opt_pair("hist", opts, "range")
    lo, hi = r[1], r[2]
  else
    if tensor.is_tensor(v) then
      local ok = v:eq(v)                   -- not NaN
      local inf = v:abs():eq(math.huge)
      local m = ok:mul(inf:eq(0))
      if m:sum():item() > 0 then
        local sel = v:masked_select(m:gt(0))
        lo, hi = sel:min():item(), sel:max():item()
      end
    else
      for k = 1, n do
        local x = v[k]
        if x == x and math.abs(x) ~= math.huge then
          lo, hi = math.min(lo or x, x), math.max(hi or x, x)
        end
      end
    end
    if lo == nil then fail("hist", "values has no finite number") end
    if lo == hi then lo, hi = lo - 0.5, hi + 0.5 end
  end
  local bins = opts.bins
  if bins == nil then
    bins = math.max(1, math.min(100, math.ceil(math.log(math.max(n, 1), 2)) + 1))
  else
    bins = whole_in("hist", "bins", bins, 1, 100000, "")
  end
  local counts = C.histogram(v, lo, hi, bins)
  local w = (hi - lo) / bins
  local xs, edges = {}, {}
  for k = 1, bins do xs[k] = lo + (k - 0.5) * w end
  for k = 0, bins do edges[k + 1] = lo + k * w end
  edges[bins + 1] = hi
  spec.bars = {{x = xs, h = counts, width = w, bottom = 0,
                label = opts.label ~= nil and label_string(opts.label) or nil,
                color = parse_color("plot.hist", opts.color)}}
  if spec.logy then fail("hist", "logy is not supported (empty bins have no logarithm)") end
  local fig = draw("hist", spec)
  fig.counts, fig.edges = counts, edges
  return fig
end

------------------------------------------------------------------ contour

local contour_keys = keys(axes_keys, {z = true, x = true, y = true, fn = true, levels = true,
                                      log = true, filled = true, lines = true, colorbar = true,
                                      colorbar_label = true, line_color = true, series = true})

local function grid_tensor(fn, key, v)
  if type(v) == "table" then
    local ok, t = pcall(tensor.new, v)
    if not ok then fail(fn, "%s must be a table of rows of numbers or a 2-d tensor", key) end
    v = t
  end
  if not tensor.is_tensor(v) or v:dim() ~= 2 then
    fail(fn, "%s must be a 2-d tensor [ny, nx] or a table of rows, got %s", key,
         tensor.is_tensor(v) and (v:dim() .. "-d tensor") or type(v))
  end
  return v:contiguous()
end

local function coords(fn, key, v, n)
  if v == nil then
    if not n then fail(fn, "%s is needed with fn", key) end
    local out = {}
    for k = 1, n do out[k] = k end
    return out
  end
  v = number_list(fn, key, v)
  if n and #v ~= n then fail(fn, "%s has %d values for %d %s of z", key, #v, n, key == "x" and "columns" or "rows") end
  for k = 2, #v do
    if not (v[k] > v[k - 1]) then fail(fn, "%s must be increasing (%s[%d] = %g after %g)", key, key, k, v[k], v[k - 1]) end
  end
  return v
end

-- contour lines or filled contours of z [ny, nx] (z[i][j] at x[j], y[i]), or of
-- fn(x, y) over the grid x by y; series drawn on top (paths)
function plot.contour(opts)
  args.check_opts("plot.contour", opts, contour_keys, 0)
  if opts == nil then fail("contour", "expected {z = ..., x = ..., y = ...} or {fn = ..., x = ..., y = ...}") end
  local spec = axes_spec("contour", opts)
  local z, x, y
  if opts.fn ~= nil then
    if opts.z ~= nil then fail("contour", "give z or fn, not both") end
    if type(opts.fn) ~= "function" then fail("contour", "fn must be a function(x, y), got %s", type(opts.fn)) end
    if opts.x == nil or opts.y == nil then fail("contour", "fn needs x and y (the grid's coordinates)") end
    x, y = coords("contour", "x", opts.x), coords("contour", "y", opts.y)
    if #x < 2 or #y < 2 then fail("contour", "x and y need at least 2 values each") end
    if #x * #y > 4000000 then fail("contour", "a grid of %d x %d is too big", #y, #x) end
    z = tensor.zeros(#y, #x)
    local rows = {}
    for i = 1, #y do
      local row = {}
      for j = 1, #x do
        local v = opts.fn(x[j], y[i])
        if tensor.is_tensor(v) then v = v:item() end
        if type(v) ~= "number" then fail("contour", "fn(%g, %g) returned %s, not a number", x[j], y[i], type(v)) end
        row[j] = v
      end
      rows[i] = row
    end
    z = tensor.new(rows)
  else
    if opts.z == nil then fail("contour", "expected z = {...} (a grid of values) or fn") end
    z = grid_tensor("contour", "z", opts.z)
    x = coords("contour", "x", opts.x, z:size(2))
    y = coords("contour", "y", opts.y, z:size(1))
  end
  if z:size(1) < 2 or z:size(2) < 2 then fail("contour", "z needs at least 2 x 2 values") end
  local levels, log = opts.levels, opt_bool("contour", opts, "log")
  if levels == "log" then levels, log = nil, true end
  local filled, lines = opt_bool("contour", opts, "filled"), opt_bool("contour", opts, "lines")
  if lines == nil then lines = not filled end
  if not filled and not lines then fail("contour", "filled = false and lines = false draw nothing") end
  -- the values' range (positive values for log levels)
  local zv = z:view(-1)
  local fin = zv:eq(zv):mul(zv:abs():ne(math.huge))
  if log then fin = fin:mul(zv:gt(0)) end
  if fin:sum():item() == 0 then
    fail("contour", "z has no finite%s value", log and " positive" or "")
  end
  local sel = zv:masked_select(fin:gt(0))
  local zlo, zhi = sel:min():item(), sel:max():item()
  if type(levels) == "table" or tensor.is_tensor(levels) then
    levels = number_list("contour", "levels", levels)
    if #levels < (filled and 2 or 1) then fail("contour", "levels needs at least %d values", filled and 2 or 1) end
    for k = 2, #levels do
      if not (levels[k] > levels[k - 1]) then fail("contour", "levels must be increasing") end
    end
    if log then
      for k = 1, #levels do
        if not (levels[k] > 0) then fail("contour", "log levels must be > 0, got %g", levels[k]) end
      end
    end
  else
    local n = levels == nil and (log and 15 or 10) or whole_in("contour", "levels", levels, 1, 1000, "")
    if log then zlo = math.max(zlo, zhi * 1e-6) end
    if zlo == zhi then
      levels = log and {zlo / 2, zlo, zhi * 2} or {zlo - 0.5, zlo, zhi + 0.5}
    else
      levels = C.levels(zlo, zhi, n, log)
    end
  end
  if filled and #levels < 2 then fail("contour", "filled contours need at least 2 levels") end
  local colorbar = opts.colorbar
  if colorbar == nil then colorbar = filled or opts.line_color == nil end
  spec.field = {z = z, x = x, y = y, levels = levels, log = log or false,
                mode = filled and lines and 2 or filled and 1 or 0,
                line_color = parse_color("plot.contour", opts.line_color),
                colorbar = colorbar, colorbar_label = opt_string("contour", opts, "colorbar_label")}
  spec.levels = levels
  if opts.series ~= nil then spec.series = series_list("contour", opts.series) end
  local fig = draw("contour", spec)
  fig.levels = levels
  return fig
end

----------------------------------------------------------------- subplots

local subplots_keys = {rows = true, cols = true, cells = true, sharex = true, sharey = true,
                       title = true, width = true, height = true}

-- one figure of rows x cols axes: cells = {fig, fig, image, false, ...} in
-- row order; a cell is a figure of plot.lines, scatter, bar, hist, contour or
-- heatmap (with extent), an image tensor [H, W] / [C, H, W] in [0, 1] (or
-- {image = t, title =}), or false (blank)
function plot.subplots(opts)
  args.check_opts("plot.subplots", opts, subplots_keys, 0)
  if opts == nil or opts.cells == nil then fail("subplots", "expected {rows =, cols =, cells = {...}}") end
  local cells = opts.cells
  if type(cells) ~= "table" then fail("subplots", "cells must be a table of figures, got %s", type(cells)) end
  local n = #cells
  local rows = opts.rows ~= nil and whole_in("subplots", "rows", opts.rows, 1, 16, "") or nil
  local cols = opts.cols ~= nil and whole_in("subplots", "cols", opts.cols, 1, 16, "") or nil
  if not rows and not cols then
    cols = math.ceil(math.sqrt(math.max(n, 1)))
    rows = math.ceil(n / cols)
  elseif not rows then rows = math.ceil(n / cols)
  elseif not cols then cols = math.ceil(n / rows) end
  if rows > 16 or cols > 16 then fail("subplots", "at most 16 rows and 16 columns (got %d x %d)", rows, cols) end
  if n > rows * cols then fail("subplots", "%d cells do not fit in %d rows x %d cols", n, rows, cols) end
  local out = {}
  for k = 1, n do
    local c = cells[k]
    if c == false then
      out[k] = false
    elseif tensor.is_tensor(c) or (type(c) == "table" and not class.is_instance(c, Figure) and c.image ~= nil) then
      local t = tensor.is_tensor(c) and c or c.image
      if not tensor.is_tensor(t) then fail("subplots", "cell %d: image must be a tensor", k) end
      if t:dim() == 2 then t = t:unsqueeze(1) end
      if t:dim() ~= 3 or (t:size(1) ~= 1 and t:size(1) ~= 3) then
        fail("subplots", "cell %d: an image must be [H, W] or [C, H, W] with C 1 or 3", k)
      end
      local lo, hi = 0, 1
      if type(c) == "table" and c.range then lo, hi = c.range[1], c.range[2] end
      local bytes = ((t - lo) * (255 / (hi - lo)) + 0.5):clamp(0, 255.5):contiguous()   -- C truncates
      out[k] = {image = bytes, title = type(c) == "table" and c.title and label_string(c.title) or nil}
    elseif class.is_instance(c, Figure) and c._spec then
      out[k] = c._spec
    elseif class.is_instance(c, Figure) then
      fail("subplots", "cell %d: a %s figure cannot go in a subplot (only lines, scatter, bar, "
           .. "hist, contour, heatmap with extent, or an image)", k, c.kind)
    else
      fail("subplots", "cell %d must be a figure, an image tensor or false, got %s", k, type(c))
    end
  end
  for k = n + 1, rows * cols do out[k] = false end
  local spec = {rows = rows, cols = cols, cells = out, title = opt_string("subplots", opts, "title"),
                sharex = opt_bool("subplots", opts, "sharex"), sharey = opt_bool("subplots", opts, "sharey"),
                width = opts.width and opt_size("subplots", opts, "width") or math.min(8192, 480 * cols),
                height = opts.height and opt_size("subplots", opts, "height") or math.min(8192, 380 * rows + (opts.title and 40 or 0))}
  return figure("subplots", spec.title, C.subplots(spec))
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
                      ylabel = true, annotate = true, width = true, height = true, extent = true,
                      origin = true, colorbar_label = true}

-- the rows of m (a 2-d tensor) in reverse order
local function flip_rows(m)
  local rows = m:totable()
  local out = {}
  for i = 1, #rows do out[i] = rows[#rows + 1 - i] end
  return tensor.new(out)
end

-- a heatmap over numeric axes: column j spans its share of extent's x range,
-- row 1 at the top (origin "upper") or at the bottom ("lower")
local function heatmap_extent(opts, m, origin)
  local e = opts.extent
  if type(e) ~= "table" or #e ~= 4 then fail("heatmap", "extent must be {x0, x1, y0, y1}") end
  for k = 1, 4 do
    if type(e[k]) ~= "number" or e[k] ~= e[k] or math.abs(e[k]) == math.huge then
      fail("heatmap", "extent[%d] must be a finite number, got %s", k, tostring(e[k]))
    end
  end
  if not (e[2] > e[1]) or not (e[4] > e[3]) then
    fail("heatmap", "extent must be {x0, x1, y0, y1} with x0 < x1 and y0 < y1, got {%g, %g, %g, %g}",
         e[1], e[2], e[3], e[4])
  end
  if opts.xlabels ~= nil or opts.ylabels ~= nil or opts.annotate then
    fail("heatmap", "with extent the axes are numeric: xlabels, ylabels and annotate do not apply")
  end
  local rows, cols = m:size(1), m:size(2)
  if rows < 2 or cols < 2 then fail("heatmap", "with extent the matrix needs at least 2 x 2 cells") end
  local x, y = {}, {}
  for j = 1, cols do x[j] = e[1] + (j - 0.5) * (e[2] - e[1]) / cols end
  for i = 1, rows do y[i] = e[3] + (i - 0.5) * (e[4] - e[3]) / rows end
  local spec = axes_spec("heatmap", {title = opts.title, xlabel = opts.xlabel, ylabel = opts.ylabel,
                                     width = opts.width, height = opts.height})
  spec.legend = "none"
  -- C draws row i at y[i], upwards: row 1 of an "upper" matrix goes last
  spec.field = {z = origin == "upper" and flip_rows(m) or m, x = x, y = y, mode = 3, colorbar = true,
                colorbar_label = opt_string("heatmap", opts, "colorbar_label")}
  return draw("heatmap", spec)
end

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
  local origin = opts.origin or "upper"
  if origin ~= "upper" and origin ~= "lower" then
    fail("heatmap", "origin must be 'upper' (row 1 at the top) or 'lower' (row 1 at the bottom), got %s",
         tostring(origin))
  end
  if opts.extent ~= nil then return heatmap_extent(opts, m:contiguous(), origin) end
  local ylabels = opt_labels("heatmap", opts, "ylabels", m:size(1), "rows")
  if origin == "lower" then
    m = flip_rows(m)
    if ylabels then
      local r = {}
      for i = 1, #ylabels do r[i] = ylabels[#ylabels + 1 - i] end
      ylabels = r
    else
      ylabels = {}
      for i = 1, m:size(1) do ylabels[i] = tostring(m:size(1) + 1 - i) end
    end
  end
  local spec = {matrix = m:contiguous(), width = opt_size("heatmap", opts, "width"),
                height = opt_size("heatmap", opts, "height"),
                title = opt_string("heatmap", opts, "title"),
                xlabel = opt_string("heatmap", opts, "xlabel"),
                ylabel = opt_string("heatmap", opts, "ylabel"),
                annotate = opt_bool("heatmap", opts, "annotate"),
                xlabels = opt_labels("heatmap", opts, "xlabels", m:size(2), "columns"),
                ylabels = ylabels}
  if opts.colorbar_label ~= nil then fail("heatmap", "colorbar_label needs extent (numeric axes)") end
  return figure("heatmap", spec.title, C.heatmap(spec))
end

---------------------------------------------------------------- animate

local Animation = class("Animation", nil, {receiver = "anim"})

function Animation:init(frames, delay_cs, last_cs, loop)
  self.frames, self._delay, self._last, self._loop = frames, delay_cs, last_cs, loop
  self.width, self.height = frames[1].width, frames[1].height
end

-- writes the animation as a GIF (atomically); returns it
function Animation:save(path)
  if type(path) ~= "string" then
    error(string.format("Animation:save: path must be a string, got %s", type(path)), 2)
  end
  if path:find("\0", 1, true) then
    error(string.format("Animation:save: path %q has a NUL byte inside", path), 2)
  end
  if not path:lower():match("%.gif$") then
    error(string.format("Animation:save: '%s' must end in .gif", path), 2)
  end
  local uds = {}
  for k, f in ipairs(self.frames) do uds[k] = f._c end
  C.animate(path, uds, self._delay, self._last, self._loop)
  return self
end

function Animation.__tostring(self)
  return string.format("Animation(%d frames, %dx%d)", #self.frames, self.width, self.height)
end

plot.Animation = Animation

local animate_keys = {frames = true, fps = true, delay = true, hold = true, loop = true}

-- seconds as GIF hundredths (at least 2: browsers show 0 and 1 as 10)
local function centis(key, v)
  if type(v) ~= "number" or not (v > 0 and v <= 655) then
    fail("animate", "%s must be a number of seconds in (0, 655], got %s", key, tostring(v))
  end
  return math.max(2, math.floor(v * 100 + 0.5))
end

-- an animated GIF of figures: frames = {fig, ...} (all the same size), fps
-- (default 10) or delay (seconds per frame), hold (seconds on the last frame),
-- loop (true: forever, the default; false: once; n: n times)
function plot.animate(opts)
  args.check_opts("plot.animate", opts, animate_keys, 0)
  if opts == nil or opts.frames == nil then fail("animate", "expected {frames = {fig, ...}}") end
  local frames = opts.frames
  if type(frames) ~= "table" or #frames == 0 then fail("animate", "frames must be a non-empty table of figures") end
  local list = {}
  for k = 1, #frames do
    local f = frames[k]
    if not class.is_instance(f, Figure) then
      fail("animate", "frames[%d] must be a figure, got %s", k, type(f))
    end
    if f.width ~= frames[1].width or f.height ~= frames[1].height then
      fail("animate", "frames[%d] is %dx%d but frames[1] is %dx%d; give every figure the same width "
           .. "and height", k, f.width, f.height, frames[1].width, frames[1].height)
    end
    list[k] = f
  end
  if opts.fps ~= nil and opts.delay ~= nil then fail("animate", "give fps or delay, not both") end
  local delay
  if opts.delay ~= nil then delay = centis("delay", opts.delay)
  else
    local fps = opts.fps or 10
    if type(fps) ~= "number" or not (fps > 0 and fps <= 50) then
      fail("animate", "fps must be a number in (0, 50], got %s", tostring(fps))
    end
    delay = math.max(2, math.floor(100 / fps + 0.5))
  end
  local last = opts.hold ~= nil and centis("hold", opts.hold) or delay
  local loop = opts.loop
  if loop == nil or loop == true then loop = 0
  elseif loop == false then loop = -1
  else loop = whole_in("animate", "loop", loop, 1, 65535, " of repeats (or true, false)") end
  return Animation(list, delay, last, loop)
end

-- reads a GIF: its frames (tensors [3, H, W] in [0, 1], as a viewer shows
-- them), their delays in seconds, and the loop count (0 forever, nil none)
function plot.read_gif(path)
  if type(path) ~= "string" then
    error(string.format("plot.read_gif: path must be a string, got %s", type(path)), 2)
  end
  local frames, cs, loop = C.read_gif(path)
  local delays = {}
  for k, d in ipairs(cs) do delays[k] = d / 100 end
  return frames, delays, loop >= 0 and loop or nil
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
