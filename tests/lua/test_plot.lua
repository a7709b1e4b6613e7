-- plot: figures read back as pixels and PNG files (size, colour type, lines
-- where the data says, text, metadata, determinism), SVG, save_image /
-- read_image, and every bad input.

local function listdir(dir)
  local p = io.popen("ls -A '" .. dir .. "'")
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  return names
end

local pixels = dofile("tests/lua/pixels.lua")
local shape, rgb, near, has_color, to_px = pixels.shape, pixels.rgb, pixels.near, pixels.has_color, pixels.to_px

-- the error e points at the line of this file just above the call (the
-- script's own line, not one inside stdlib/)
local function check_points_here(e)
  local line = debug.getinfo(2, "l").currentline - 1
  if e:match("^[^\n]-test_plot%.lua:(%d+):") ~= tostring(line) then
    error(string.format("the error should point at test_plot.lua:%d (the script's line), got %q", line, e), 2)
  end
end

local BLUE = {0x00 / 255, 0x72 / 255, 0xB2 / 255}     -- palette 1 (Okabe-Ito blue)
local ORANGE = {0xE6 / 255, 0x9F / 255, 0x00 / 255}   -- palette 2

-- the plotting area's frame: first and last columns and rows that are dark
-- over a third of the figure (1-based pixels)
local function frame(px)
  local dark = px[1]:lt(0.1):mul(px[2]:lt(0.1)):mul(px[3]:lt(0.1))
  local h, w = px:size(2), px:size(3)
  local cols, rows = dark:sum(1), dark:sum(2)
  local f = {}
  for x = 1, w do if cols[x] > h / 3 then f.left = f.left or x; f.right = x end end
  for y = 1, h do if rows[y] > w / 3 then f.top = f.top or y; f.bottom = y end end
  assert(f.left and f.top, "no frame found")
  return f
end

-- dark pixels (text) in the rows y0..y1 of px
local function dark_count(px, y0, y1)
  return px[1]:narrow(1, y0, y1 - y0 + 1):lt(0.5):sum():item()
end

------------------------------------------------------------------ lines

test("lines: the data is drawn where it says, in the palette's colours", function()
  local fig = plot.lines{xlim = {0, 10}, ylim = {0, 10}, series = {
    {label = "rising", x = {0, 10}, y = {0, 10}},
    {label = "flat", x = {0, 10}, y = {5, 5}}}, legend = false}
  local px = fig:pixels()
  check_eq(shape(px), "3,600,800")
  local f = frame(px)
  check_eq(f.right - f.left > 500, true, "area width")
  for _, t in ipairs {0.2, 0.35, 0.65, 0.8} do
    local x, y = to_px(f, 10 * t, 10 * t, {0, 10}, {0, 10})
    check_eq(has_color(px, x, y, BLUE), true, "rising line at " .. t)
    x, y = to_px(f, 10 * t, 5, {0, 10}, {0, 10})
    check_eq(has_color(px, x, y, ORANGE), true, "flat line at " .. t)
    -- and not elsewhere: the mirror point of the rising line is white
    x, y = to_px(f, 10 * t, 10 - 10 * t, {0, 10}, {0, 10})
    if math.abs(t - 0.5) > 0.1 then check_eq(near(rgb(px, math.floor(x), math.floor(y)), {1, 1, 1}, 0.01), true) end
  end
end)

test("lines: NaN values leave gaps; a lone point still shows", function()
  local nan = 0 / 0
  local px = plot.lines{xlim = {1, 7}, ylim = {0, 2}, legend = false,
                        series = {{y = {1, 1, nan, nan, 1, nan, 1}}}}:pixels()
  local f = frame(px)
  local function at(x) local a, b = to_px(f, x, 1, {1, 7}, {0, 2}) return has_color(px, a, b, BLUE) end
  check_eq(at(1.5), true, "first stretch")
  check_eq(at(3.5), false, "the gap")
  check_eq(at(5), true, "a lone point between gaps")
  check_eq(at(6), false, "the second gap")
end)

test("lines: default x is 1..n; log-scale y puts 10 halfway between 1 and 100", function()
  local px = plot.lines{logy = true, ylim = {1, 100}, xlim = {1, 3}, legend = false,
                        series = {{y = {1, 10, 100}}}}:pixels()
  local f = frame(px)
  check_eq(has_color(px, f.left + (f.right - f.left) / 2, (f.top + f.bottom) / 2, BLUE), true)
  local lin = plot.lines{ylim = {1, 100}, xlim = {1, 3}, legend = false,
                         series = {{y = {1, 10, 100}}}}:pixels()
  local g = frame(lin)
  check_eq(has_color(lin, g.left + (g.right - g.left) / 2, (g.top + g.bottom) / 2, BLUE), false)
end)

test("lines: title, labels and legend put text on the figure", function()
  local y = {3, 2, 1.5, 1.2, 1.1}
  local bare = plot.lines{series = {{y = y}}}:pixels()
  local full = plot.lines{title = "Loss", xlabel = "epoch", ylabel = "loss",
                          series = {{label = "train", y = y}}}:pixels()
  local fb, ff = frame(bare), frame(full)
  check_eq(ff.top > fb.top + 10, true, "room made for the title")
  check_eq(dark_count(full, 1, ff.top - 3) > 50, true, "title text above the area")
  check_eq(dark_count(bare, 1, fb.top - 3), 0, "nothing above the area without a title")
  check_eq(ff.left > fb.left, true, "room made for the y label")
  -- the legend (upper right is free: the data falls) has text inside the area
  local inner = full:narrow(2, ff.top + 3, 60):narrow(3, ff.right - 200, 195)
  check_eq(inner[1]:lt(0.3):sum():item() > 20, true, "legend text")
end)

test("lines: the legend goes where the data is not", function()
  local up = {}
  for k = 1, 20 do up[k] = k end        -- rising: upper right is taken, upper left is free
  local px = plot.lines{legend = "best", series = {{label = "a long legend entry", y = up}}}:pixels()
  local f = frame(px)
  local function text(x0)   -- grey text pixels (the line is blue: its red is 0 but blue is not)
    local function ch(c) return px[c]:narrow(1, f.top + 3, 40):narrow(2, x0, 200):lt(0.3) end
    return ch(1):mul(ch(2)):mul(ch(3)):sum():item()
  end
  local box_left, box_right = text(f.left + 3), text(f.right - 203)
  check_eq(box_left > 20, true, "legend text at upper left")
  check_eq(box_right, 0, "no text at upper right")
end)

test("lines: a tensor as y, series colours and styles, markers", function()
  local fig = plot.lines{xlim = {0, 4}, ylim = {0, 4}, markers = true, legend = false, series = {
    {y = tensor.new{2, 2, 2}, color = "#ff0000", linestyle = "--"},
    {y = {1, 1, 1}, color = {0, 1, 0}, marker = "s"}}}
  local px = fig:pixels()
  local f = frame(px)
  local x, y = to_px(f, 2, 2, {0, 4}, {0, 4})
  check_eq(has_color(px, x, y, {1, 0, 0}, 3), true, "red marker at (2, 2)")
  x, y = to_px(f, 2, 1, {0, 4}, {0, 4})
  check_eq(has_color(px, x, y, {0, 1, 0}, 3), true, "green square at (2, 1)")
end)

test("lines: size options, tostring, fields", function()
  local fig = plot.lines{width = 400, height = 300, title = "T", series = {{y = {1, 2}}}}
  check_eq(tostring(fig), "Figure(lines, 400x300, 'T')")
  check_eq(fig.width, 400)
  check_eq(shape(fig:pixels()), "3,300,400")
  fig:close()
  expect_error(function() fig:pixels() end, "closed")
end)

------------------------------------------------------------------- files

test("save: a PNG of the right size and colour type, with metadata, same bytes each time", function()
  local dir = tmpdir()
  local fig = plot.lines{title = "Loss curve", series = {{label = "train", y = {3, 2, 1}}}}
  fig:save(dir .. "/a.png")
  fig:save(dir .. "/b.png")
  plot.lines{title = "Loss curve", series = {{label = "train", y = {3, 2, 1}}}}:save(dir .. "/c.png")
  local a = read_file(dir .. "/a.png")
  check_eq(a:sub(1, 8), "\137PNG\r\n\26\n", "signature")
  local w, h, depth, ctype = string.unpack(">I4I4BB", a, 17)
  check_eq(w, 800); check_eq(h, 600); check_eq(depth, 8); check_eq(ctype, 2, "RGB")
  check_eq(a:find("tEXtSoftware\0nnlua ", 1, true) ~= nil, true, "Software chunk")
  check_eq(a:find("tEXtTitle\0Loss curve", 1, true) ~= nil, true, "Title chunk")
  check_eq(a:find("tEXtScript\0", 1, true) ~= nil, true, "Script chunk")
  check_eq(a:find("tIME", 1, true), nil, "no time stamp")
  check_eq(read_file(dir .. "/b.png") == a, true, "same figure, same bytes")
  check_eq(read_file(dir .. "/c.png") == a, true, "same input, same bytes")
  local back = plot.read_image(dir .. "/a.png")
  check_eq(shape(back), "3,600,800")
  check_close(back, fig:pixels(), 0, "read back = pixels")
  check_eq(#listdir(dir), 3, "no temporary files left")
  os.execute("rm -rf '" .. dir .. "'")
end)

test("save: .svg gives an SVG document of the figure's size, the same bytes each time", function()
  local dir = tmpdir()
  plot.lines{title = "x", series = {{y = {1, 2}}}}:save(dir .. "/f.SVG")
  local s = read_file(dir .. "/f.SVG")
  check_eq(s:find("<svg", 1, true) ~= nil, true)
  check_eq(s:find('width="800', 1, true) ~= nil, true)
  plot.lines{title = "x", series = {{y = {1, 2}}}}:save(dir .. "/g.svg")
  check_eq(read_file(dir .. "/g.svg") == s, true, "same figure, same SVG")
  local grid = plot.image_grid{images = tensor.rand(2, 4, 4, tensor.Generator(1))}
  grid:save(dir .. "/a.svg")
  grid:save(dir .. "/b.svg")
  check_eq(read_file(dir .. "/a.svg") == read_file(dir .. "/b.svg"), true, "images keep their ids")
  os.execute("rm -rf '" .. dir .. "'")
end)

test("save: unwritable paths are errors that leave nothing behind", function()
  local fig = plot.lines{series = {{y = {1, 2}}}}
  local nodir = ("n"):rep(300) .. "/x"           -- a folder name too long to be made
  local e = expect_error(function() fig:save(nodir .. ".png") end, "cannot write")
  check_points_here(e)
  expect_error(function() fig:save(nodir .. ".svg") end, "cannot write")
  expect_error(function() fig:save("x.jpg") end, "must end in .png or .svg")
  expect_error(function() fig:save(42) end, "path must be a string")
  expect_error(function() fig.save(42, "x.png") end, "save: call it as fig:save(...) with a colon")
  local dir = tmpdir()
  os.execute("chmod 555 '" .. dir .. "'")
  if not io.open(dir .. "/probe", "w") then      -- not root: the folder is read-only
    expect_error(function() fig:save(dir .. "/x.png") end, "cannot write")
    check_eq(#listdir(dir), 0)
  end
  os.execute("chmod 755 '" .. dir .. "'; rm -rf '" .. dir .. "'")
end)

test("save_image and read_image: grey and RGB round trips, clamped, rounded as torchvision", function()
  local dir = tmpdir()
  local g = tensor.new{{0, 0.5, 1}, {-1, 2, 0.25}}
  plot.save_image(g, dir .. "/g.png")
  local a = read_file(dir .. "/g.png")
  check_eq(select(4, string.unpack(">I4I4BB", a, 17)), 0, "grey colour type")
  local back = plot.read_image(dir .. "/g.png")
  check_eq(shape(back), "1,2,3")
  -- torchvision: floor(v * 255 + 0.5) clamped to 0..255
  check_close(back, tensor.new{{{0, 128, 255}, {0, 255, 64}}} / 255, 1e-7)
  local rgb_img = tensor.rand(3, 5, 4)
  plot.save_image(rgb_img, dir .. "/c.png")
  check_eq(select(4, string.unpack(">I4I4BB", read_file(dir .. "/c.png"), 17)), 2, "RGB colour type")
  check_close(plot.read_image(dir .. "/c.png"), rgb_img, 0.5 / 255 + 1e-6)
  -- a transposed (non-contiguous) view is written as what it shows
  plot.save_image(g:t(), dir .. "/t.png")
  check_eq(shape(plot.read_image(dir .. "/t.png")), "1,3,2")
  os.execute("rm -rf '" .. dir .. "'")
end)

test("save_image and read_image: bad input", function()
  expect_error(function() plot.save_image({1, 2}, "x.png") end, "expected a tensor")
  expect_error(function() plot.save_image(tensor.zeros(2, 4, 4), "x.png") end, "C 1 or 3")
  expect_error(function() plot.save_image(tensor.zeros(2, 1, 4, 4), "x.png") end, "plot.image_grid")
  expect_error(function() plot.save_image(tensor.zeros(4, 4), "x.jpg") end, "must end in .png")
  expect_error(function() plot.save_image(tensor.full({2, 2}, 0 / 0), "/tmp/nan.png") end, "NaN")
  expect_error(function() plot.save_image(tensor.zeros(4, 4), ("n"):rep(300) .. "/x.png") end, "cannot write")
  expect_error(function() plot.read_image("/nonexistent-dir/x.png") end, "x.png")
  expect_error(function() plot.read_image(7) end, "path must be a string")
end)

------------------------------------------------------------- image_grid

test("image_grid: each image in its cell, scaled with nearest neighbour, labels below", function()
  -- 6 images 4 x 4: image k is all (k - 1) / 5, so their grey levels rise left to right
  local imgs = tensor.zeros(6, 4, 4)
  for k = 1, 6 do imgs[k]:fill_((k - 1) / 5) end
  imgs[1][1][1] = 1                       -- one white pixel at image 1's top left
  local fig = plot.image_grid{images = imgs, rows = 2, cols = 3, labels = {"a", "b", "c", "d", "e", "f"}}
  local px = fig:pixels()
  -- find the cells: columns holding non-white pixels in the middle of row 1
  local grey = px[1]
  local found = {}
  local h, w = px:size(2), px:size(3)
  for y = 1, h do
    for x = 1, w, 2 do
      local v = grey[y][x]
      for k = 1, 6 do
        if not found[k] and math.abs(v - (k - 1) / 5) < 0.003 and v < 0.99 and
           math.abs(grey[y][x + 1] - v) < 0.003 and math.abs(grey[y + 1][x] - v) < 0.003 then
          found[k] = {x = x, y = y}
        end
      end
    end
  end
  for k = 2, 5 do check_eq(found[k] ~= nil, true, "image " .. k .. " found") end
  check_eq(found[2].x < found[3].x and found[3].y == found[2].y, true, "2 left of 3, same row")
  check_eq(found[4].y > found[2].y, true, "image 4 starts row 2")
  -- image 1's white pixel: a square of whole pixels (nearest neighbour), not a blur
  local x0, y0 = found[2].x, found[2].y    -- image 2's top left; image 1 is one cell left
  local cell = found[3].x - found[2].x
  local white = 0
  for y = y0, y0 + 40 do for x = x0 - cell, x0 - cell + 40 do
    local v = grey[y][x]
    if v > 0.999 then white = white + 1 end
    check_eq(v < 0.01 or v > 0.999, true, "no in-between values")
  end end
  check_eq(white > 100, true, "the white pixel is a big square")
  -- labels: dark text under row 1
  check_eq(grey:narrow(1, found[2].y + 130, 50):lt(0.4):sum():item() > 10, true, "labels")
end)

test("image_grid: [N, 1, H, W], [N, 3, H, W], [N, H, W, 3], tables of tensors; mean/std un-normalise", function()
  local function centre(fig)
    local px = fig:pixels()
    return rgb(px, px:size(3) // 2, px:size(2) // 2)
  end
  -- one image fills the centre of the figure
  local red = tensor.zeros(1, 3, 8, 8)
  red[1][1]:fill_(1)
  check_eq(near(centre(plot.image_grid{images = red}), {1, 0, 0}, 0.01), true, "CHW red")
  check_eq(near(centre(plot.image_grid{images = red:permute(1, 3, 4, 2):contiguous()}), {1, 0, 0}, 0.01),
           true, "HWC red")
  check_eq(near(centre(plot.image_grid{images = {red[1]}}), {1, 0, 0}, 0.01), true, "table of one")
  -- zeros normalised with mean 0.5, std 0.25: shown as 0 * 0.25 + 0.5 = mid grey
  local z = tensor.zeros(1, 1, 8, 8)
  local c = centre(plot.image_grid{images = z, mean = {0.5}, std = {0.25}})
  check_close(c[1], 128 / 255, 1e-6)
  -- raw 0..255 values are detected
  c = centre(plot.image_grid{images = tensor.full({1, 8, 8}, 255)})
  check_close(c[1], 1, 1e-6)
  c = centre(plot.image_grid{images = tensor.full({1, 8, 8}, 51), range = {0, 255}})
  check_close(c[1], 0.2, 1e-6)
end)

-- the ink spans (first, last column) of dark text in the rows y0..y1 of px;
-- runs closer than 10 columns are one span (the words of one label)
local function ink_spans(px, y0, y1)
  local cols = px[1]:narrow(1, y0, y1 - y0 + 1):lt(0.8):sum(1):totable()
  local spans, cur = {}, nil
  for x = 1, #cols do
    if cols[x] > 0 then
      if cur and x - cur[2] < 10 then cur[2] = x else cur = {x, x}; spans[#spans + 1] = cur end
    end
  end
  return spans
end

-- the bands of rows holding dark text
local function ink_bands(px)
  local rows = px[1]:lt(0.8):sum(2):totable()
  local bands, cur = {}, nil
  for y = 1, #rows do
    if rows[y] > 0 then
      if cur and y - cur[2] <= 3 then cur[2] = y else cur = {y, y}; bands[#bands + 1] = cur end
    end
  end
  return bands
end

test("image_grid: the default size follows the grid; FashionMNIST's labels are never cut", function()
  local names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"}
  local imgs = tensor.zeros(10, 3, 28, 28)       -- red: only the text is dark in channel 1
  imgs:narrow(2, 1, 1):fill_(1)
  -- each label's ink width drawn alone in a roomy figure (the same font size: scale 1)
  local alone = {}
  for i, name in ipairs(names) do
    local px = plot.image_grid{images = imgs:narrow(1, 1, 1), labels = {name}, width = 800,
                               height = 600}:pixels()
    local b = ink_bands(px)
    local sp = ink_spans(px, b[1][1], b[1][2])
    alone[i] = sp[#sp][2] - sp[1][1]
  end
  for _, shape_ in ipairs {{2, 5}, {5, 2}} do
    local rows, cols = shape_[1], shape_[2]
    local fig = plot.image_grid{images = imgs, labels = names, rows = rows, cols = cols,
                                title = "FashionMNIST"}
    local px = fig:pixels()
    -- 28 x 28 images are enlarged 5 times (140 pixels): read well, and the figure hugs the grid
    local red = px[1]:eq(1):mul(px[2]:eq(0))
    check_eq(red:sum():item(), 10 * 140 * 140, rows .. "x" .. cols .. ": ten images 140 pixels square")
    check_eq(fig.width < 140 * cols + 40 * cols and fig.height < 200 * rows + 60, true, "no wasted room")
    local bands = ink_bands(px)
    check_eq(#bands, rows + 1, "a title and one band of labels per row")
    for r = 1, rows do
      local spans = ink_spans(px, bands[r + 1][1], bands[r + 1][2])

      check_eq(#spans, cols, "row " .. r .. ": one label per column, none running into the next")
      for c = 1, cols do
        local i = (r - 1) * cols + c
        check_close(spans[c][2] - spans[c][1], alone[i], 1, names[i] .. " drawn whole")
      end
    end
  end
  -- given sizes win
  check_eq(shape(plot.image_grid{images = imgs, labels = names, rows = 2, cols = 5, width = 640}:pixels()):match("3,%d+,640") ~= nil, true)
  check_eq(shape(plot.image_grid{images = imgs, rows = 2, cols = 5, width = 640, height = 300}:pixels()), "3,300,640")
  -- many big images shrink so the figure stays a screen's size
  local big = plot.image_grid{images = tensor.zeros(64, 28, 28), labels = tensor.ones(64)}
  check_eq(big.width <= 1600 and big.height <= 1200, true, "8 x 8 grid fits a screen")
  expect_error(function() plot.image_grid{images = imgs, width = 0} end, "width must be a whole number")
end)

test("image_grid: labels may be numbers or a tensor of class indices", function()
  local a = plot.image_grid{images = tensor.zeros(3, 4, 4), labels = tensor.new{1, 2, 3}}:pixels()
  local b = plot.image_grid{images = tensor.zeros(3, 4, 4), labels = {"1", "2", "3"}}:pixels()
  local c = plot.image_grid{images = tensor.zeros(3, 4, 4), labels = {1, 2.0, 3}}:pixels()
  check_eq(a:equal(b) and c:equal(b), true, "1.0 is written 1")
end)

test("image_grid: bad input", function()
  local mixed = {tensor.zeros(28, 28), tensor.zeros(32, 32)}
  local e = expect_error(function() plot.image_grid{images = mixed} end, "image 2 is 1x32x32 but image 1 is 1x28x28")
  check_points_here(e)
  expect_error(function() plot.image_grid{images = {}} end, "must not be empty")
  expect_error(function() plot.image_grid{images = tensor.zeros(12, 4, 4), rows = 2, cols = 5} end,
               "hold 10 images, not 12")
  expect_error(function() plot.image_grid{images = tensor.zeros(2, 4, 4), labels = {"a"}} end,
               "labels has 1 entries for 2 images")
  expect_error(function() plot.image_grid{images = tensor.zeros(2, 2, 4, 4)} end, "C 1 or 3")
  expect_error(function() plot.image_grid{images = tensor.zeros(2, 4, 4), colour = 1} end,
               "unknown option 'colour'")
  expect_error(function() plot.image_grid{images = tensor.zeros(2, 4, 4), mean = {0.5}} end,
               "both mean and std")
  expect_error(function() plot.image_grid{images = tensor.full({1, 4, 4}, 0 / 0)} end, "NaN")
  expect_error(function() plot.image_grid{images = "x"} end, "images must be")
  expect_error(function() plot.image_grid{images = tensor.zeros(1, 4, 4), width = 50} end,
               "width and height must be")
end)

---------------------------------------------------------------- heatmap

test("heatmap: cells coloured low to high with viridis, counts written in them", function()
  local fig = plot.heatmap{matrix = {{0, 1}, {2, 3}}, xlabels = {"a", "b"}, ylabels = {"c", "d"},
                           title = "Confusion"}
  local px = fig:pixels()
  local low, high = {0x44 / 255, 0x01 / 255, 0x54 / 255}, {0xFD / 255, 0xE7 / 255, 0x25 / 255}
  -- find the darkest-purple cell (value 0) and the yellow cell (value 3): 0 is up-left of 3
  local lx, ly, hx, hy
  -- (the colour bar has them too, low at its bottom and high at its top: scanning
  -- from the top left for low and from the bottom right for high finds the cells)
  for y = 1, 600, 4 do for x = 1, 800, 4 do
    if not lx and near(rgb(px, x, y), low, 0.02) then lx, ly = x, y end
    if not hx and near(rgb(px, 801 - x, 601 - y), high, 0.02) then hx, hy = 801 - x, 601 - y end
  end end
  check_eq(lx ~= nil and hx ~= nil, true, "both ends of the colour map appear")
  check_eq(lx < hx and ly < hy, true, "0 at top left, 3 at bottom right")
  -- with annotate = false the cells are plain: fewer distinct light pixels in the yellow cell
  local plain = plot.heatmap{matrix = {{0, 1}, {2, 3}}, annotate = false}:pixels()
  local annotated = plot.heatmap{matrix = {{0, 1}, {2, 3}}}:pixels()
  check_eq(plain:equal(annotated), false, "counts drawn")
end)

test("heatmap: bad input", function()
  expect_error(function() plot.heatmap{matrix = tensor.zeros(3)} end, "2-d")
  expect_error(function() plot.heatmap{matrix = {{1, 2}, {3}}} end, "table of rows")
  expect_error(function() plot.heatmap{matrix = tensor.full({2, 2}, 0 / 0)} end, "no finite value")
  expect_error(function() plot.heatmap{matrix = tensor.zeros(2, 2), xlabels = {"a"}} end,
               "xlabels has 1 entries for 2 columns")
  expect_error(function() plot.heatmap{} end, "expected {matrix")
  expect_error(function() plot.heatmap{matrix = tensor.zeros(2, 2), cmap = "jet"} end, "unknown option 'cmap'")
end)

------------------------------------------------------------ lines errors

test("lines: bad input is a clear error at the script's line", function()
  local e = expect_error(function() plot.lines{series = {}} end, "series must not be empty")
  check_points_here(e)
  expect_error(function() plot.lines{} end, "series must be a table")
  expect_error(function() plot.lines() end, "expected a table")
  expect_error(function() plot.lines{series = {y = {1, 2}}} end, "series = {{y = ...}}")
  expect_error(function() plot.lines{series = {{label = "val", y = {}}}} end, "series 1 ('val') is empty")
  expect_error(function() plot.lines{series = {{y = {1}}, {label = "b", x = {1, 2}, y = {1, 2, 3}}}} end,
               "series 2 ('b') has 2 x values and 3 y values")
  expect_error(function() plot.lines{series = {{label = "v", y = {0 / 0, 0 / 0}}}} end,
               "series 1 ('v') has no finite value")
  expect_error(function() plot.lines{series = {{y = {1, "2"}}}} end, "y[2] must be a number")
  expect_error(function() plot.lines{series = {{y = {1, nil, 3}}}} end, "y[2] must be a number (NaN for a gap), got nil")
  expect_error(function() plot.lines{series = {{y = tensor.zeros(2, 2)}}} end, "must be 1-d")
  expect_error(function() plot.lines{series = {{y = {1, 2}, colour = "red"}}} end, "unknown option 'colour'")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}, titel = "x"} end, "unknown option 'titel'")
  expect_error(function() plot.lines{series = {{y = {1, 2}, color = "#12345"}}} end, "color must be")
  expect_error(function() plot.lines{series = {{y = {1, 2}, linestyle = "~"}}} end, "linestyle must be")
  expect_error(function() plot.lines{series = {{y = {1, 2}, marker = "?"}}} end, "marker must be")
  expect_error(function() plot.lines{series = {{y = {1, -2}}}, logy = true} end, "needs values > 0")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}, ylim = {2, 1}} end, "lo < hi")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}, legend = "middle"} end, "legend must be")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}, width = 10} end, "width and height must be")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}, width = 640.5} end, "whole number")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}, grid = 1} end, "grid must be true or false")
  expect_error(function() plot.lines{series = {{y = {1, 2}}}, title = {}} end, "title must be a string")
  expect_error(function() plot.lines{series = {{y = {-1e308, 1e308}}}} end, "too large to plot")
  -- extreme but plottable ranges draw (log decades at the edge of doubles, tiny relative spans)
  check_eq(plot.lines{logy = true, series = {{y = {1e-300, 1e300}}}}.kind, "lines")
  check_eq(shape(plot.lines{series = {{y = {1e10, 1e10 + 1e-3}}}}:pixels()), "3,600,800")
end)

test("lines: dense series keep every column's extremes (thinned per pixel column)", function()
  local y = tensor.zeros(20000)
  for k = 2, 20000, 2 do y[k] = 1 end          -- 0, 1, 0, 1, ...: a band from 0 to 1
  local px = plot.lines{ylim = {-1, 2}, xlim = {1, 20000}, legend = false,
                        series = {{y = y}}}:pixels()
  local f = frame(px)
  local _, y0 = to_px(f, 1, 0, {1, 20000}, {-1, 2})
  local _, y1 = to_px(f, 1, 1, {1, 20000}, {-1, 2})
  local _, ymid = to_px(f, 1, 0.5, {1, 20000}, {-1, 2})
  for x = f.left + 5, f.right - 5, 7 do
    check_eq(has_color(px, x, y0, BLUE, 1), true, "bottom of the band at column " .. x)
    check_eq(has_color(px, x, y1, BLUE, 1), true, "top of the band at column " .. x)
    check_eq(has_color(px, x, ymid, BLUE, 0), true, "inside the band at column " .. x)
  end
  expect_error(function() plot.lines{series = {{y = tensor.zeros(2000001)}}} end, "more than 2000000 points")
end)

test("lines: labels that are not UTF-8 are drawn, not refused", function()
  local px = plot.lines{title = "caf\xE9 \xFF", series = {{label = "\xC3", y = {1, 2}}}}:pixels()
  check_eq(shape(px), "3,600,800")
end)

test("lines: many points and many series stay distinct", function()
  local series = {}
  for i = 1, 12 do
    local y = {}
    for k = 1, 2000 do y[k] = math.sin(k / 100 + i) + i end
    series[i] = {label = "s" .. i, y = y}
  end
  local fig = plot.lines{series = series, grid = true}
  check_eq(shape(fig:pixels()), "3,600,800")
  local many = {}
  for i = 1, 5000 do many[i] = {y = {i, i + 1}} end     -- more series than Lua's stack starts with
  check_eq(plot.lines{series = many, legend = false}.kind, "lines")
end)
