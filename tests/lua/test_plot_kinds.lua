-- plot: the line-chart options (linestyle "none", explicit colours, equal
-- aspect, annotations), heatmaps with numeric axes, contour, scatter, bar,
-- hist and subplots, each read back from the figure's pixels.

local pixels = dofile("tests/lua/pixels.lua")
local shape, rgb, near, has_color, to_px = pixels.shape, pixels.rgb, pixels.near, pixels.has_color, pixels.to_px

-- a thin anti-aliased red line: some pixel within r clearly red over white
local function reddish(px, x, y, r)
  x, y = math.floor(x + 0.5), math.floor(y + 0.5)
  for dy = -r, r do for dx = -r, r do
    local c = rgb(px, x + dx, y + dy)
    if c[1] - c[3] > 0.3 and c[1] - c[2] > 0.15 then return true end
  end end
  return false
end

local function hex(c) return {(c >> 16) / 255, ((c >> 8) & 255) / 255, (c & 255) / 255} end

local BLUE, ORANGE, GREEN, RED = hex(0x0072B2), hex(0xE69F00), hex(0x009E73), hex(0xD55E00)
local WHITE = {1, 1, 1}
local VIRIDIS_LOW, VIRIDIS_HIGH = hex(0x440154), hex(0xFDE725)

-- the plotting area's frame in px (or in the rows y0.. / columns x0.. of it),
-- from the longest dark columns and rows of the region: the first two runs of
-- columns are the area's left and right edges (a colour bar's come after)
local function frame(px, x0, y0, w, h)
  x0, y0 = x0 or 1, y0 or 1
  w, h = w or px:size(3) - x0 + 1, h or px:size(2) - y0 + 1
  local sub = px:narrow(2, y0, h):narrow(3, x0, w)
  local dark = sub[1]:lt(0.3):mul(sub[2]:lt(0.3)):mul(sub[3]:lt(0.3))
  local cols, rows = dark:sum(1):totable(), dark:sum(2):totable()
  local cmax, rmax = math.max(table.unpack(cols)), math.max(table.unpack(rows))
  local f, runs = {}, 0
  for x = 1, w do
    local long = cols[x] > 0.9 * cmax and cmax > 20
    if long and not (x > 1 and cols[x - 1] > 0.9 * cmax) then runs = runs + 1 end
    if long and runs == 1 then f.left = f.left or x + x0 - 1 end
    if long and runs == 2 then f.right = x + x0 - 1 end
  end
  for y = 1, h do if rows[y] > 0.9 * rmax and rmax > 20 then f.top = f.top or y + y0 - 1; f.bottom = y + y0 - 1 end end
  assert(f.left and f.right and f.top, "no frame found")
  return f
end

-- whether colour c is within r pixels of data point (x, y)
local function color_at(px, f, x, y, xr, yr, c, r)
  local a, b = to_px(f, x, y, xr, yr)
  return has_color(px, a, b, c, r)
end

------------------------------------------------------------ line options

test("lines: linestyle 'none' draws the markers only", function()
  local xr, yr = {0, 10}, {0, 10}
  local px = plot.lines{xlim = xr, ylim = yr, legend = false,
                        series = {{x = {1, 9}, y = {1, 9}, linestyle = "none", marker = "s"}}}:pixels()
  local f = frame(px)
  check_eq(color_at(px, f, 1, 1, xr, yr, BLUE), true, "marker at (1, 1)")
  check_eq(color_at(px, f, 9, 9, xr, yr, BLUE), true, "marker at (9, 9)")
  for _, t in ipairs {3, 5, 7} do
    local x, y = to_px(f, t, t, xr, yr)
    check_eq(has_color(px, x, y, BLUE, 3), false, "no line at " .. t)
  end
  -- with no marker asked for, 'none' still shows the points (circles)
  local dots = plot.lines{xlim = xr, ylim = yr, legend = false,
                          series = {{x = {5}, y = {5}, linestyle = "none"}}}:pixels()
  check_eq(color_at(dots, frame(dots), 5, 5, xr, yr, BLUE), true, "a dot")
  expect_error(function() plot.lines{series = {{y = {1, 2}, linestyle = "~"}}} end, "'-.' or 'none'")
end)

test("lines: colours given are never handed out by the palette, and stay solid past 8 series", function()
  local xr, yr = {0, 10}, {0, 10}
  local series = {}
  for i = 1, 8 do series[i] = {x = {0, 10}, y = {i, i}} end        -- eight automatic colours
  series[9] = {x = {0, 10}, y = {9, 9}, color = "red"}              -- and one asked for in red
  local px = plot.lines{xlim = xr, ylim = yr, legend = false, series = series}:pixels()
  local f = frame(px)
  -- the red series: red all along (solid, not dashed)
  local n, red = 0, 0
  for x = 0.5, 9.5, 0.25 do
    local a, b = to_px(f, x, 9, xr, yr)
    n = n + 1
    if has_color(px, a, b, RED, 1) then red = red + 1 end
  end
  check_eq(red, n, "the red series is solid red")
  -- no automatic series is red: the palette skipped it (series 4 would have been)
  for i = 1, 8 do
    local a, b = to_px(f, 5, i, xr, yr)
    check_eq(has_color(px, a, b, RED, 1), false, "series " .. i .. " is not red")
  end
  local a, b = to_px(f, 5, 4, xr, yr)
  check_eq(has_color(px, a, b, hex(0xCC79A7), 1), true, "series 4 takes the next colour (purple)")
end)

test("lines: equal = true makes one unit as long in x as in y", function()
  local px = plot.lines{xlim = {0, 10}, ylim = {0, 5}, equal = true, legend = false,
                        series = {{x = {0, 10}, y = {0, 5}}}}:pixels()
  local f = frame(px)
  local w, h = f.right - f.left, f.bottom - f.top
  check_close(w / h, 2, 0.02, "10 units wide, 5 high")
  local tall = plot.lines{xlim = {0, 2}, ylim = {0, 10}, equal = true, series = {{y = {1, 2}}}}:pixels()
  local g = frame(tall)
  check_close((g.bottom - g.top) / (g.right - g.left), 5, 0.05, "2 wide, 10 high")
  expect_error(function() plot.lines{equal = true, logy = true, series = {{y = {1, 2}}}} end,
               "equal aspect needs linear axes")
end)

test("lines: annotations write text at data coordinates", function()
  local xr, yr = {0, 10}, {0, 10}
  local opts = {xlim = xr, ylim = yr, legend = false, series = {{x = {0}, y = {0}}}}
  local bare = plot.lines(opts):pixels()
  opts.annotations = {{x = 5, y = 5, text = "minimum", color = "red"}, {2, 8, "left", align = "right"}}
  local px = plot.lines(opts):pixels()
  local f = frame(px)
  local x, y = to_px(f, 5, 5, xr, yr)
  local function reds(img, x0)   -- red text pixels just right of x0
    local n = 0
    for dx = 0, 60 do for dy = -6, 6 do
      if near(rgb(img, math.floor(x0 + dx), math.floor(y + dy)), RED, 0.3) then n = n + 1 end
    end end
    return n
  end
  check_eq(reds(px, x) > 20, true, "red text right of (5, 5)")
  check_eq(reds(bare, x), 0, "nothing there without it")
  local lx, ly = to_px(f, 2, 8, xr, yr)
  local left = px[1]:narrow(1, math.floor(ly) - 6, 12):narrow(2, math.floor(lx) - 40, 38):lt(0.5):sum():item()
  check_eq(left > 10, true, "right-aligned text ends at (2, 8)")
  expect_error(function() plot.lines{series = {{y = {1}}}, annotations = {{x = 1, text = "a"}}} end,
               "annotation 1 needs finite numbers x and y")
  expect_error(function() plot.lines{series = {{y = {1}}}, annotations = {{1, 1, "a", align = "top"}}} end,
               "align must be")
end)

------------------------------------------------------------- heatmaps

test("heatmap: extent gives numeric axes; origin 'lower' puts row 1 at the bottom", function()
  local m = {{0, 1}, {2, 3}}
  for _, origin in ipairs {"lower", "upper"} do
    local px = plot.heatmap{matrix = m, extent = {0, 2, 0, 2}, origin = origin}:pixels()
    local f = frame(px)
    local lowx, lowy = to_px(f, 0.5, 0.5, {0, 2}, {0, 2})       -- the bottom left cell
    local hix, hiy = to_px(f, 1.5, 1.5, {0, 2}, {0, 2})         -- the top right one
    if origin == "lower" then
      check_eq(near(rgb(px, math.floor(lowx), math.floor(lowy)), VIRIDIS_LOW, 0.02), true, "0 at bottom left")
      check_eq(near(rgb(px, math.floor(hix), math.floor(hiy)), VIRIDIS_HIGH, 0.02), true, "3 at top right")
    else
      local tlx, tly = to_px(f, 0.5, 1.5, {0, 2}, {0, 2})
      check_eq(near(rgb(px, math.floor(tlx), math.floor(tly)), VIRIDIS_LOW, 0.02), true, "0 at top left")
    end
  end
  -- without extent, origin 'lower' flips the rows too
  local px = plot.heatmap{matrix = m, origin = "lower", annotate = false}:pixels()
  local lx, ly, hx, hy
  for y = 1, 600, 4 do for x = 1, 700, 4 do
    if not lx and near(rgb(px, x, y), VIRIDIS_LOW, 0.02) then lx, ly = x, y end
    if not hx and near(rgb(px, x, y), VIRIDIS_HIGH, 0.02) then hx, hy = x, y end
  end end
  check_eq(hy < ly and lx < hx, true, "3 above-right of 0")
  expect_error(function() plot.heatmap{matrix = m, extent = {0, 1, 0}} end, "extent must be {x0, x1, y0, y1}")
  expect_error(function() plot.heatmap{matrix = m, extent = {1, 0, 0, 1}} end, "x0 < x1")
  expect_error(function() plot.heatmap{matrix = m, extent = {0, 1, 0, 1}, xlabels = {"a", "b"}} end,
               "axes are numeric")
  expect_error(function() plot.heatmap{matrix = m, origin = "top"} end, "origin must be")
end)

test("heatmap: 120 x 120 cells label every few rows, not every one", function()
  local m = tensor.zeros(120, 120)
  m[1][1] = 1                     -- every other cell is 0: dark purple
  local px = plot.heatmap{matrix = m}:pixels()
  local left = 1                  -- the matrix's left edge: its first dark purple pixel in row 300
  while not near(rgb(px, left, 300), VIRIDIS_LOW, 0.02) do left = left + 1 end
  -- the bands of text rows left of the matrix: one per label, apart from each other
  local rows = px[1]:narrow(2, 1, left - 8):lt(0.5):sum(2):totable()
  local bands, inside = 0, false
  for y = 1, #rows do
    if rows[y] > 0 and not inside then bands = bands + 1 end
    inside = rows[y] > 0
  end
  check_eq(bands >= 10 and bands <= 40, true, "between 10 and 40 row labels, got " .. bands)
end)

---------------------------------------------------------------- contour

test("contour: lines at the levels, where the function crosses them", function()
  local xs, ys = {}, {}
  for k = 0, 40 do xs[k + 1] = -4 + k * 0.2; ys[k + 1] = -4 + k * 0.2 end
  local xr = {-4, 4}
  local fig = plot.contour{fn = function(x, y) return x * x + y * y end, x = xs, y = ys,
                           levels = {4, 9}, line_color = "red", colorbar = false}
  check_eq(fig.kind, "contour")
  local px = fig:pixels()
  local f = frame(px)
  for _, r in ipairs {2, 3} do
    for a = 0, 330, 30 do
      local x, y = to_px(f, r * math.cos(math.rad(a)), r * math.sin(math.rad(a)), xr, xr)
      check_eq(reddish(px, x, y, 2), true, string.format("circle r = %g at %d degrees", r, a))
    end
  end
  for _, r in ipairs {1, 2.5, 3.6} do
    local x, y = to_px(f, r, 0, xr, xr)
    check_eq(reddish(px, x, y, 2), false, "no line at r = " .. r)
  end
end)

test("contour: filled bands coloured low to high, a colour bar, paths with start and end markers", function()
  local fig = plot.contour{z = {{0, 10}, {0, 10}}, x = {0, 10}, y = {0, 1}, levels = {0, 2, 4, 6, 8, 10},
                           filled = true, series = {{x = {1, 9}, y = {0.2, 0.8}, color = "red",
                                                     start_marker = "o", end_marker = "s"}}}
  local px = fig:pixels()
  local f = frame(px)
  local xr, yr = {0, 10}, {0, 1}
  local function at(x, y) local a, b = to_px(f, x, y, xr, yr) return rgb(px, math.floor(a), math.floor(b)) end
  check_eq(near(at(0.5, 0.9), VIRIDIS_LOW, 0.02), true, "band 0..2 is dark purple")
  check_eq(near(at(9.5, 0.1), VIRIDIS_HIGH, 0.02), true, "band 8..10 is yellow")
  check_eq(near(at(5, 0.95), at(5.9, 0.95), 0.001) and not near(at(5.9, 0.95), at(6.1, 0.95), 0.01), true,
           "a band ends at 6")
  check_eq(color_at(px, f, 1, 0.2, xr, yr, RED), true, "path start")
  check_eq(color_at(px, f, 9, 0.8, xr, yr, RED), true, "path end")
  -- the colour bar right of the area runs from purple (bottom) to yellow (top)
  local bx = f.right + 25
  check_eq(near(rgb(px, bx, f.bottom - 3), VIRIDIS_LOW, 0.02), true, "colour bar bottom")
  check_eq(near(rgb(px, bx, f.top + 3), VIRIDIS_HIGH, 0.02), true, "colour bar top")
end)

test("contour: automatic and log-spaced levels", function()
  local xs = {1, 2, 3}
  local z = {{1, 10, 100}, {1000, 1e4, 1e5}, {1, 1, 1}}
  local lin = plot.contour{z = z, x = xs, y = xs}
  check_eq(#lin.levels >= 5, true, "about 10 nice levels")
  check_eq(lin.levels[1] <= 1 and lin.levels[#lin.levels] >= 1e5, true, "covering the values")
  local log = plot.contour{z = z, x = xs, y = xs, levels = "log"}
  local lv = log.levels
  check_close(lv[1], 1, 1e-9)
  check_close(lv[#lv], 1e5, 1e-6)
  for k = 2, #lv - 1 do check_close(math.log(lv[k + 1] / lv[k]), math.log(lv[k] / lv[k - 1]), 1e-9) end
  local five = plot.contour{z = z, x = xs, y = xs, levels = 6, log = true, filled = true}
  check_eq(#five.levels, 6)
  check_close(five.levels[2], 10, 1e-9)
end)

test("contour: bad input", function()
  local z = {{1, 2}, {3, 4}}
  expect_error(function() plot.contour{z = {1, 2}} end, "z must be a 2-d tensor")
  expect_error(function() plot.contour{z = z, x = {2, 1}} end, "x must be increasing")
  expect_error(function() plot.contour{z = z, x = {1, 2, 3}} end, "x has 3 values for 2 columns")
  expect_error(function() plot.contour{z = z, levels = {3, 2}} end, "levels must be increasing")
  expect_error(function() plot.contour{z = z, levels = {-1, 2}, log = true} end, "log levels must be > 0")
  expect_error(function() plot.contour{fn = function() return "a" end, x = {1, 2}, y = {1, 2}} end,
               "returned string, not a number")
  expect_error(function() plot.contour{fn = function() return 1 end, x = {1, 2}} end, "fn needs x and y")
  expect_error(function() plot.contour{z = {{0 / 0, 0 / 0}, {0 / 0, 0 / 0}}} end, "no finite value")
  expect_error(function() plot.contour{z = z, filled = false, lines = false} end, "draw nothing")
  expect_error(function() plot.contour{z = z, colour = 1} end, "unknown option 'colour'")
end)

--------------------------------------------------------- scatter, bar, hist

test("scatter: points where the data says, no lines between them", function()
  local xr, yr = {0, 10}, {0, 10}
  local px = plot.scatter{x = {2, 8}, y = {2, 8}, color = "green", xlim = xr, ylim = yr}:pixels()
  local f = frame(px)
  check_eq(color_at(px, f, 2, 2, xr, yr, GREEN), true)
  check_eq(color_at(px, f, 8, 8, xr, yr, GREEN), true)
  check_eq(color_at(px, f, 5, 5, xr, yr, GREEN, 3), false, "no line")
  local two = plot.scatter{series = {{x = {1}, y = {1}, label = "a"}, {x = {2}, y = {2}, label = "b"}}}
  check_eq(two.kind, "scatter")
  expect_error(function() plot.scatter{x = {1, 2}} end, "expected x and y")
  expect_error(function() plot.scatter{x = {1}, y = {1}, width = 10} end,
               "plot.scatter: width and height must be 100 to 8192 pixels")
  expect_error(function() plot.hist{values = {1}, height = 10} end, "plot.hist: width and height")
  expect_error(function() plot.scatter{x = {1, 2}, y = {1}} end, "has 2 x values and 1 y values")
end)

-- the top of the bar whose centre is at data x: the first row from the top
-- of the frame holding colour c in that column, in data units
local function bar_top(px, f, x, c, xr, yr)
  local col = math.floor(to_px(f, x, 0, xr, yr) + 0.5)
  for y = f.top + 1, f.bottom do
    if near(rgb(px, col, y), c, 0.05) then
      return yr[1] + (f.bottom - y) / (f.bottom - f.top) * (yr[2] - yr[1])
    end
  end
  return 0
end

test("bar: bars of the right heights at their labels; groups side by side", function()
  local yr = {0, 10}
  local px = plot.bar{labels = {"a", "b", "c"}, values = {3, 7.5, 2}, ylim = yr}:pixels()
  local f = frame(px)
  local xr = {0.5, 3.5}       -- 3 bars 0.8 wide at 1, 2, 3, padded 5%: read x from the frame
  xr = {0.6 - 0.12, 3.4 + 0.12}
  for k, h in ipairs {3, 7.5, 2} do
    check_close(bar_top(px, f, k, BLUE, xr, yr), h, 0.05, "bar " .. k)
  end
  local g = plot.bar{labels = {"x", "y"}, ylim = yr, groups = {{label = "A", values = {4, 6}},
                                                              {label = "B", values = {8, 2}, color = "red"}}}:pixels()
  local gf = frame(g)
  local gx = {0.6 - 0.1, 2.4 + 0.1}
  check_close(bar_top(g, gf, 0.8, BLUE, gx, yr), 4, 0.05, "group A, bar 1")
  check_close(bar_top(g, gf, 1.2, RED, gx, yr), 8, 0.05, "group B, bar 1")
  check_close(bar_top(g, gf, 2.2, RED, gx, yr), 2, 0.05, "group B, bar 2")
  expect_error(function() plot.bar{values = {1, 0 / 0}} end, "values[2] must be a finite number")
  expect_error(function() plot.bar{labels = {"a"}, values = {1, 2}} end, "labels has 1 entries for 2 values")
  expect_error(function() plot.bar{groups = {{values = {1}}, {values = {1, 2}}}} end, "group 2 has 2 values")
end)

test("hist: counts per bin, read back from the bar heights", function()
  local v = {0.5, 1.5, 1.5, 2.5, 2.5, 2.5, 3.0, -1, 0 / 0}
  local fig = plot.hist{values = v, bins = 3, range = {0, 3}, ylim = {0, 5}}
  check_eq(table.concat(fig.counts, " "), "1 2 4", "3.0 falls in the last bin; -1 and NaN are out")
  check_close(fig.edges, {0, 1, 2, 3}, 0)
  local px = fig:pixels()
  local f = frame(px)
  local xr = {-0.15, 3.15}
  for k, c in ipairs {1, 2, 4} do
    check_close(bar_top(px, f, k - 0.5, BLUE, xr, {0, 5}), c, 0.03, "bin " .. k)
  end
  -- a tensor of normal samples: every finite value counted once, Sturges' bins
  local t = tensor.randn(1000, tensor.Generator(3))
  local h = plot.hist{values = t}
  local total = 0
  for _, c in ipairs(h.counts) do total = total + c end
  check_eq(total, 1000)
  check_eq(#h.counts, 11, "ceil(log2(1000)) + 1 bins")
  check_close(h.edges[1], t:min():item(), 1e-6)
  check_close(h.edges[#h.edges], t:max():item(), 1e-6)
  expect_error(function() plot.hist{values = {1, "a"}} end, "values[2] must be a number")
  expect_error(function() plot.hist{values = {0 / 0}} end, "no finite number")
  expect_error(function() plot.hist{values = {1, 2}, bins = 0} end, "bins must be a whole number")
end)

--------------------------------------------------------------- subplots

test("subplots: each cell where it belongs; images; shared x", function()
  local line = plot.lines{series = {{y = {1, 2, 3}, color = "blue"}}, legend = false}
  local red = tensor.zeros(3, 8, 8)
  red[1]:fill_(1)
  local fig = plot.subplots{rows = 1, cols = 2, cells = {line, red}, width = 800, height = 400}
  check_eq(fig.kind, "subplots")
  local px = fig:pixels()
  check_eq(shape(px), "3,400,800")
  local f = frame(px, 1, 1, 400, 400)
  check_eq(f.right < 400, true, "the line chart in the left half")
  check_eq(has_color(px, (f.left + f.right) / 2, (f.top + f.bottom) / 2, BLUE), true, "its line")
  check_eq(near(rgb(px, 600, 200), {1, 0, 0}, 0.01), true, "the image in the right half")
  check_eq(near(rgb(px, 200, 200), {1, 0, 0}, 0.01), false)
  -- shared x: the top cell (x 0..10) shows the bottom one's range 0..20 too
  local top = plot.lines{xlim = {0, 10}, ylim = {0, 1}, legend = false,
                         series = {{x = {5, 5}, y = {0, 1}, color = "red"}}}
  local bottom = plot.lines{xlim = {0, 20}, ylim = {0, 1}, series = {{x = {0, 20}, y = {0, 1}}}}
  for _, share in ipairs {false, true} do
    local s = plot.subplots{rows = 2, cols = 1, cells = {top, bottom}, sharex = share,
                            width = 600, height = 600}:pixels()
    local tf = frame(s, 1, 1, 600, 300)
    local want = share and 0.25 or 0.5
    local x = tf.left + want * (tf.right - tf.left)
    check_eq(reddish(s, x, (tf.top + tf.bottom) / 2, 2), true, "sharex " .. tostring(share))
    check_eq(reddish(s, tf.left + (share and 0.5 or 0.25) * (tf.right - tf.left), (tf.top + tf.bottom) / 2, 3), false)
  end
  expect_error(function() plot.subplots{cells = {1}} end, "cell 1 must be a figure")
  expect_error(function() plot.subplots{rows = 1, cols = 1, cells = {line, line}} end, "2 cells do not fit")
  local grid = plot.image_grid{images = tensor.zeros(2, 4, 4)}
  expect_error(function() plot.subplots{cells = {grid}} end, "a image_grid figure cannot go in a subplot")
end)

---------------------------------------------------------------- animate

test("animate: a GIF whose frames decode to the PNG figures, the same bytes each time", function()
  local dir = tmpdir()
  local function frames()
    local figs = {}
    for k = 1, 4 do
      figs[k] = plot.lines{width = 320, height = 240, xlim = {0, 5}, ylim = {0, 5}, legend = false,
                           series = {{x = {k}, y = {k}, linestyle = "none", marker = "s", color = "red"}}}
    end
    return figs
  end
  local figs = frames()
  local anim = plot.animate{frames = figs, fps = 4, hold = 1.5}
  check_eq(tostring(anim), "Animation(4 frames, 320x240)")
  anim:save(dir .. "/a.gif")
  local bytes = read_file(dir .. "/a.gif")
  check_eq(bytes:sub(1, 6), "GIF89a")
  check_eq(bytes:find("NETSCAPE2.0", 1, true) ~= nil, true, "loops")
  plot.animate{frames = frames(), fps = 4, hold = 1.5}:save(dir .. "/b.gif")
  check_eq(read_file(dir .. "/b.gif") == bytes, true, "same figures, same bytes")
  local got, delays, loop = plot.read_gif(dir .. "/a.gif")
  check_eq(#got, 4)
  check_eq(table.concat(delays, " "), "0.25 0.25 0.25 1.5")
  check_eq(loop, 0, "forever")
  for k = 1, 4 do
    figs[k]:save(dir .. "/f" .. k .. ".png")
    check_eq(shape(got[k]), "3,240,320")
    -- these frames have fewer than 256 colours in all: the GIF holds them exactly
    check_close(got[k], plot.read_image(dir .. "/f" .. k .. ".png"), 0, "frame " .. k)
  end
  plot.animate{frames = {figs[1]}, loop = false}:save(dir .. "/once.gif")
  check_eq(select(3, plot.read_gif(dir .. "/once.gif")), nil, "no loop extension")
  plot.animate{frames = {figs[1]}, loop = 3, delay = 0.5}:save(dir .. "/three.gif")
  local _, d3, l3 = plot.read_gif(dir .. "/three.gif")
  check_eq(l3, 3)
  check_eq(d3[1], 0.5)
  os.execute("rm -rf '" .. dir .. "'")
end)

test("animate: many colours share one median-cut palette, close to the figures", function()
  local dir = tmpdir()
  local xs = {}
  for k = 1, 41 do xs[k] = -2 + (k - 1) * 0.1 end
  local figs = {}
  for k = 1, 3 do
    figs[k] = plot.contour{fn = function(x, y) return x * x + k * y * y end, x = xs, y = xs,
                           filled = true, width = 400, height = 300}
  end
  plot.animate{frames = figs}:save(dir .. "/c.gif")
  local got = plot.read_gif(dir .. "/c.gif")
  for k = 1, 3 do
    local d = (got[k] - figs[k]:pixels()):abs()
    check_eq(d:max():item() <= 24 / 255, true, "frame " .. k .. " largest error " .. d:max():item() * 255)
    check_eq(d:mean():item() <= 1 / 255, true, "frame " .. k .. " mean error " .. d:mean():item() * 255)
  end
  os.execute("rm -rf '" .. dir .. "'")
end)

test("animate: bad input", function()
  local a = plot.lines{series = {{y = {1, 2}}}, width = 300, height = 200}
  local b = plot.lines{series = {{y = {1, 2}}}, width = 400, height = 200}
  expect_error(function() plot.animate{frames = {a, b}} end, "frames[2] is 400x200 but frames[1] is 300x200")
  expect_error(function() plot.animate{frames = {}} end, "non-empty table of figures")
  expect_error(function() plot.animate{frames = {a, 1}} end, "frames[2] must be a figure")
  expect_error(function() plot.animate{frames = {a}, fps = 0} end, "fps must be a number")
  expect_error(function() plot.animate{frames = {a}, fps = 5, delay = 1} end, "fps or delay, not both")
  expect_error(function() plot.animate{frames = {a}, loop = 0} end, "loop must be a whole number")
  expect_error(function() plot.animate{frames = {a}}:save("x.png") end, "must end in .gif")
  expect_error(function() plot.animate{frames = {a}}:save(("n"):rep(300) .. "/x.gif") end, "cannot write")
  local dir = tmpdir()
  write_file(dir .. "/not.gif", "hello")
  expect_error(function() plot.read_gif(dir .. "/not.gif") end, "cannot read")
  expect_error(function() plot.read_gif(dir .. "/missing.gif") end, "cannot read")
  os.execute("rm -rf '" .. dir .. "'")
end)

test("fig:show writes a temporary PNG and prints its path, or hands the figure to plot.display", function()
  local fig = plot.lines{series = {{y = {1, 2}}}, width = 200, height = 150}
  local printed
  local old_print = print
  print = function(s) printed = s end
  local ok, path = pcall(fig.show, fig)
  print = old_print
  assert(ok, path)
  check_eq(printed, path)
  check_eq(path:match("%.png$") ~= nil, true)
  check_close(plot.read_image(path), fig:pixels(), 0)
  os.remove(path)
  local got
  plot.display = function(f) got = f; return "shown" end
  check_eq(fig:show(), "shown")
  plot.display = nil
  check_eq(got, fig)
end)
