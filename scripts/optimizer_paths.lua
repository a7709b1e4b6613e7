-- scripts/optimizer_paths.lua -- "Visualizing the optimizers" (after Alec
-- Radford's animations): SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta
-- and Adam, each from the same start, on three surfaces of two weights:
--
--   beale   Beale's function, minimum 0 at (3, 0.5): a flat basin, steep walls
--   valley  a long narrow valley 0.1 w1^2 + 2 w2^2 (ill-conditioned: the
--           curvature across is 20 times the curvature along)
--   saddle  w1^2 - w2^2, a saddle point at (0, 0), started almost on its ridge
--
-- Every optimizer is nnlua's own (optim.SGD, optim.Adam, ...) stepping a
-- 2-element parameter tensor; the loss is computed from the tensor's two
-- elements with autograd. For each surface the script writes:
--
--   DIR/<surface>.png   the paths over the contours, with a legend
--   DIR/<surface>.gif   the same, animated step by step
--   DIR/<surface>.csv   every step of every path: optimizer,step,w1,w2,loss
--
-- Run: ./nnlua scripts/optimizer_paths.lua [--out DIR] [--steps N] [--frames N]
--                                          [--grid N] [--size WxH] [--surfaces a,b]

---------------------------------------------------------------- options

local function whole(what, min)
  return function(s)
    local n = math.tointeger(tonumber(s))
    if n == nil or n < min then return nil, string.format("%s must be a whole number >= %d, got '%s'", what, min, s) end
    return n
  end
end

local function parse_options()
  local argparse = require "argparse"
  local p = argparse("nnlua scripts/optimizer_paths.lua",
    "Seven optimizers from one start on Beale's function, a long valley and a saddle: "
    .. "paths over contours as PNG, GIF and CSV.")
  p:help_max_width(80)
  p:option("--out", "Folder for the figures (made if missing).", "figures/optimizers"):argname("DIR")
  p:option("--steps", "Optimizer steps per path.", "300"):convert(whole("--steps", 1))
  p:option("--frames", "Frames of each GIF.", "60"):convert(whole("--frames", 1))
  p:option("--grid", "Points per side of the contour grid.", "121"):convert(whole("--grid", 2))
  p:option("--size", "Figure size in pixels.", "720x560"):argname("WxH")
  p:option("--surfaces", "Which surfaces, comma-separated.", "beale,valley,saddle")
  local o = p:parse(arg)
  local w, h = o.size:match("^(%d+)x(%d+)$")
  if not w then p:error("--size must be WxH, e.g. 720x560") end
  o.width, o.height = tonumber(w), tonumber(h)
  return o
end

local opts = parse_options()

---------------------------------------------------------------- surfaces

-- Each loss takes the two elements as tensors of one element (narrow views of
-- the parameter, so the gradient reaches it) or as plain numbers (the grid).
local surfaces = {
  beale = {
    title = "Beale's function",
    loss = function(x, y)
      return (1.5 - x + x * y) ^ 2 + (2.25 - x + x * y ^ 2) ^ 2 + (2.625 - x + x * y ^ 3) ^ 2
    end,
    xlim = {-4.5, 4.5}, ylim = {-4.5, 4.5}, start = {1, 1.5}, minimum = {3, 0.5}, log = true,
    lr = {SGD = 1e-3, Momentum = 1e-3, Nesterov = 1e-3, Adagrad = 0.5, RMSprop = 1e-2,
          Adadelta = 1.0, Adam = 0.05},
  },
  valley = {
    title = "Long valley: 0.1 w1\u{b2} + 2 w2\u{b2}",
    loss = function(x, y) return 0.1 * x ^ 2 + 2 * y ^ 2 end,
    xlim = {-10, 10}, ylim = {-4, 4}, start = {-9, 3}, minimum = {0, 0}, equal = true,
    lr = {SGD = 0.1, Momentum = 0.05, Nesterov = 0.05, Adagrad = 1.0, RMSprop = 0.05,
          Adadelta = 1.0, Adam = 0.1},
  },
  saddle = {
    title = "Saddle point: w1\u{b2} - w2\u{b2}",
    loss = function(x, y) return x ^ 2 - y ^ 2 end,
    xlim = {-2, 2}, ylim = {-2, 2}, start = {1.8, 1e-3}, minimum = {0, 0}, equal = true,
    point_label = "saddle",
    lr = {SGD = 0.02, Momentum = 0.01, Nesterov = 0.01, Adagrad = 0.1, RMSprop = 0.01,
          Adadelta = 1.0, Adam = 0.02},
  },
}
local order = {"beale", "valley", "saddle"}

-- the optimizers, in the order of the legend (and of the palette)
local optimizers = {
  {name = "SGD", make = function(p, lr) return optim.SGD({p}, {lr = lr}) end},
  {name = "Momentum", make = function(p, lr) return optim.SGD({p}, {lr = lr, momentum = 0.9}) end},
  {name = "Nesterov", make = function(p, lr) return optim.SGD({p}, {lr = lr, momentum = 0.9, nesterov = true}) end},
  {name = "Adagrad", make = function(p, lr) return optim.Adagrad({p}, {lr = lr}) end},
  {name = "RMSprop", make = function(p, lr) return optim.RMSprop({p}, {lr = lr}) end},
  {name = "Adadelta", make = function(p, lr) return optim.Adadelta({p}, {lr = lr}) end},
  {name = "Adam", make = function(p, lr) return optim.Adam({p}, {lr = lr}) end},
}

---------------------------------------------------------------- paths

-- steps of one optimizer from the start: the path's w1, w2 and loss values.
-- A path that leaves the surface far behind (a saddle's escape) stops there.
local function run(surface, opt_def)
  local w = tensor.new(surface.start):requires_grad_()
  local opt = opt_def.make(w, surface.lr[opt_def.name])
  local xs, ys, ls = {surface.start[1]}, {surface.start[2]}, {}
  local span = math.max(surface.xlim[2] - surface.xlim[1], surface.ylim[2] - surface.ylim[1])
  for step = 1, opts.steps do
    opt:zero_grad()
    local loss = surface.loss(w:narrow(1, 1, 1), w:narrow(1, 2, 1)):sum()
    ls[step] = loss:item()
    loss:backward()
    opt:step()
    local x, y = w[1], w[2]
    xs[step + 1], ys[step + 1] = x, y
    if not (math.abs(x) < 3 * span and math.abs(y) < 3 * span) then break end
  end
  ls[#xs] = surface.loss(xs[#xs], ys[#ys])
  return {name = opt_def.name, x = xs, y = ys, loss = ls}
end

-- one row per optimizer and step; data.write_csv makes the folder
local function write_csv(path, paths)
  local rows = {}
  for _, p in ipairs(paths) do
    for k = 1, #p.x do rows[#rows + 1] = {p.name, k - 1, p.x[k], p.y[k], p.loss[k]} end
  end
  data.write_csv(path, rows, {columns = {"optimizer", "step", "w1", "w2", "loss"}})
end

---------------------------------------------------------------- figures

-- the surface on a grid: z [n, n] over the axes' ranges
local function grid(surface)
  local n = opts.grid
  local xs, ys = {}, {}
  for k = 1, n do
    xs[k] = surface.xlim[1] + (surface.xlim[2] - surface.xlim[1]) * (k - 1) / (n - 1)
    ys[k] = surface.ylim[1] + (surface.ylim[2] - surface.ylim[1]) * (k - 1) / (n - 1)
  end
  local rows = {}
  for i = 1, n do
    local row = {}
    for j = 1, n do row[j] = surface.loss(xs[j], ys[i]) end
    rows[i] = row
  end
  return tensor.new(rows), xs, ys
end

-- the paths up to step upto (all of them when nil), each ending in a marker
local function path_series(paths, upto)
  local series = {}
  for i, p in ipairs(paths) do
    local n = math.min(#p.x, (upto or #p.x) + 1)
    series[i] = {label = p.name, x = table.move(p.x, 1, n, 1, {}), y = table.move(p.y, 1, n, 1, {}),
                 end_marker = "o", start_marker = i == 1 and "s" or nil}
  end
  return series
end

local function figure(surface, z, xs, ys, series, title)
  local levels = surface.log and "log" or 15
  return plot.contour{z = z, x = xs, y = ys, levels = levels, line_color = "#b0b0b0",
                      colorbar = false, series = series, equal = surface.equal,
                      title = title, xlabel = "w1", ylabel = "w2", legend = "upper left",
                      width = opts.width, height = opts.height,
                      annotations = {{x = surface.minimum[1], y = surface.minimum[2],
                                      text = "\u{2605}", align = "center", color = "#333333"},
                                     {x = surface.minimum[1], y = surface.minimum[2],
                                      text = "    " .. (surface.point_label or "minimum"),
                                      color = "#333333"}}}
end

local wanted = {}
for name in opts.surfaces:gmatch("[^,]+") do
  if not surfaces[name] then error("--surfaces: unknown surface '" .. name .. "' (beale, valley, saddle)", 0) end
  wanted[name] = true
end

for _, name in ipairs(order) do
  if wanted[name] then
    local surface = surfaces[name]
    local paths = {}
    for i, o in ipairs(optimizers) do paths[i] = run(surface, o) end
    write_csv(opts.out .. "/" .. name .. ".csv", paths)
    local z, xs, ys = grid(surface)
    figure(surface, z, xs, ys, path_series(paths),
           string.format("%s, %d steps", surface.title, opts.steps)):save(opts.out .. "/" .. name .. ".png")
    local frames = {}
    for f = 1, opts.frames do
      local upto = math.floor(f * opts.steps / opts.frames + 0.5)
      frames[f] = figure(surface, z, xs, ys, path_series(paths, upto),
                         string.format("%s, step %d", surface.title, upto))
    end
    plot.animate{frames = frames, fps = 15, hold = 2}:save(opts.out .. "/" .. name .. ".gif")
    for _, f in ipairs(frames) do f:close() end
    local ends = {}
    for _, p in ipairs(paths) do
      ends[#ends + 1] = string.format("%s (%.3g, %.3g)", p.name, p.x[#p.x], p.y[#p.y])
    end
    print(string.format("%s: %s.{png,gif,csv}; ends: %s", name, opts.out .. "/" .. name,
                        table.concat(ends, ", ")))
  end
end
