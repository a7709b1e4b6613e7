-- transforms: the built-in kernels against torchvision (tests/fixtures/transforms.lua,
-- made by tests/fixtures/gen_transforms.py), their random draws, Compose, Lambda,
-- printing, and every bad argument.

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local fx = assert(loadfile(here .. "/../fixtures/transforms.lua"))()
local T = transforms

local function F(name)
  local e = assert(fx[name], "fixture has no " .. name)
  return tensor.new(e.data):view(table.unpack(e.shape))
end

test("ToTensor: uint8 H x W x C -> C x H x W in [0, 1], as torchvision", function()
  local y = T.ToTensor()(F("raw"))
  check_eq(table.concat(y.shape, ","), "3,4,3")
  check_close(y, F("totensor"), 0, "totensor")
  local g = T.ToTensor()(tensor.full({2, 3}, 255))
  check_eq(table.concat(g.shape, ","), "1,2,3")
  check_close(g, tensor.ones(1, 2, 3), 0)
end)

test("ToTensor gives x / 255 to the last bit", function()
  local x = tensor.arange(0, 256):view(16, 16)
  check_close(T.ToTensor()(x):view(16, 16), x / 255, 0)
end)

test("Normalize: per channel, as torchvision; one value for all channels", function()
  check_close(T.Normalize({0.5, -1}, {2, 0.25})(F("img")), F("norm"), 0, "norm")
  local x = F("img")
  check_close(T.Normalize({0.5}, {2})(x), (x - 0.5) / 2, 0)
  check_close(T.Normalize(0.5, 2)(F("img2")), (F("img2") - 0.5) / 2, 0)
end)

test("RandomCrop padding modes match torchvision's F.pad", function()
  for _, mode in ipairs {"constant", "edge", "reflect", "symmetric"} do
    -- a crop as large as the padded image takes no random draw: it is the padded image
    local crop = T.RandomCrop({5 + 2 + 1, 6 + 1 + 3}, {padding = {1, 2, 3, 1}, padding_mode = mode, fill = 0.5})
    check_close(crop(F("img")), F("pad." .. mode), 0, mode)
    check_close(crop(F("img2")), F("pad." .. mode .. ".2d"), 0, mode .. " 2-d")
  end
end)

-- whether y equals some window of the image p (last two dims)
local function is_window(y, p)
  local h, w = y:size(-2), y:size(-1)
  for i = 1, p:size(-2) - h + 1 do
    for j = 1, p:size(-1) - w + 1 do
      if tensor.allclose(p:narrow(-2, i, h):narrow(-1, j, w), y, 0, 0) then return i, j end
    end
  end
  return nil
end

test("RandomCrop: pad_if_needed pads as torchvision, then crops a random window", function()
  for _, mode in ipairs {"constant", "edge", "reflect", "symmetric"} do
    local crop = T.RandomCrop({8, 9}, {padding = 1, pad_if_needed = true, padding_mode = mode, fill = 0.5})
    local seen = {}
    tensor.manual_seed(3)
    for _ = 1, 40 do
      local y = crop(F("img"))
      check_eq(table.concat(y.shape, ","), "2,8,9")
      local i, j = is_window(y, F("padif." .. mode))
      assert(i, mode .. ": the crop is not a window of the padded image")
      seen[i .. "," .. j] = true
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    check_eq(n, 4, mode .. ": distinct windows of a 9 x 10 image cropped to 8 x 9")
  end
end)

test("RandomCrop of an H x W x C image crops rows and columns, keeps channels", function()
  local raw = F("raw")                              -- [4, 3, 3] is read as [C, H, W]: first size <= 4
  local x = tensor.arange(0, 6 * 7 * 3):view(6, 7, 3)   -- [H, W, C]
  tensor.manual_seed(1)
  local y = T.RandomCrop({4, 5})(x)
  check_eq(table.concat(y.shape, ","), "4,5,3")
  local found = false
  for i = 1, 3 do for j = 1, 3 do
    if tensor.allclose(x:narrow(1, i, 4):narrow(2, j, 5), y, 0, 0) then found = true end
  end end
  assert(found, "not a window of x")
  check_eq(table.concat(T.RandomCrop(2)(raw).shape, ","), "4,2,2")
end)

test("RandomHorizontalFlip: p = 1 flips as torchvision, p = 0 never, p = 0.5 about half", function()
  check_close(T.RandomHorizontalFlip(1)(F("img")), F("hflip"), 0)
  check_close(T.RandomHorizontalFlip(1)(F("img2")), F("hflip.2d"), 0)
  check_close(T.RandomHorizontalFlip(0)(F("img")), F("img"), 0)
  local x = tensor.arange(0, 12):view(2, 2, 3)       -- H x W x C: whole pixels swap
  local hwc = tensor.arange(0, 5 * 6 * 3):view(5, 6, 3)
  check_close(T.RandomHorizontalFlip(1)(hwc):narrow(2, 1, 1), hwc:narrow(2, 6, 1), 0)
  check_close(T.RandomHorizontalFlip(1)(x):narrow(3, 1, 1), x:narrow(3, 3, 1), 0)   -- [C, H, W] rule
  tensor.manual_seed(0)
  local flips, f = 0, T.RandomHorizontalFlip()
  for _ = 1, 400 do
    if f(F("img2"))[1][1] ~= F("img2")[1][1] then flips = flips + 1 end
  end
  assert(flips > 150 and flips < 250, "flipped " .. flips .. " of 400")
end)

test("random transforms follow tensor.manual_seed, or their own generator", function()
  local crop = T.RandomCrop(3, {padding = 2})
  tensor.manual_seed(5)
  local a = crop(F("img"))
  tensor.manual_seed(5)
  check_close(crop(F("img")), a, 0)
  local g1, g2 = tensor.Generator(9), tensor.Generator(9)
  local c1 = T.RandomCrop(3, {padding = 2, generator = g1})
  local c2 = T.RandomCrop(3, {padding = 2, generator = g2})
  tensor.manual_seed(1)
  local y1 = c1(F("img"))
  tensor.manual_seed(2)
  check_close(c2(F("img")), y1, 0)
end)

test("Flatten, Compose, Lambda", function()
  local tf = T.Compose{T.ToTensor(), T.Normalize({0.5}, {0.5}), T.Flatten()}
  local y = tf(tensor.full({2, 3}, 255))
  check_eq(table.concat(y.shape, ","), "6")
  check_close(y, tensor.ones(6), 0)
  local twice = T.Compose{T.Lambda(function(x) return x * 2 end), function(x) return x + 1 end}
  check_close(twice(tensor.ones(2)), tensor.full({2}, 3), 0)
  check_eq(#tf:_steps(), 3)
  check_eq(twice:_steps(), nil)
  check_eq(T.Compose{T.ToTensor(), T.Compose{T.Flatten()}}:_steps()[2].kind, "flatten")
end)

test("transforms print like torchvision's", function()
  local tf = T.Compose{T.RandomCrop(28, {padding = 4}), T.RandomHorizontalFlip(), T.ToTensor(),
                       T.Normalize({0.286}, {0.353})}
  check_eq(tostring(tf), "Compose(\n    RandomCrop(size=[28, 28], padding={4, 4, 4, 4})\n"
           .. "    RandomHorizontalFlip(p=0.5)\n    ToTensor()\n    Normalize({0.286}, {0.353})\n)")
end)

test("bad arguments are clear errors", function()
  expect_error(function() T.Normalize({0.5, 0.5}, {1}) end, "Normalize: 2 means but 1 stds")
  expect_error(function() T.Normalize({0.5}, {0}) end, "Normalize: std[1] is 0")
  expect_error(function() T.Normalize("a", {1}) end, "Normalize: mean must be a table")
  expect_error(function() T.Normalize({0.5}, {1}, {inplac = true}) end, "Normalize: unknown option 'inplac'")
  expect_error(function() T.Normalize({0.5, 0.5}, {1, 1})(tensor.zeros(3, 4, 4)) end,
               "Normalize: 2 means and stds for 3 channels")
  expect_error(function() T.Normalize({0.5}, {1})(tensor.zeros(4)) end, "Normalize: expected [C, H, W] or [H, W]")
  expect_error(function() T.ToTensor()(tensor.zeros(4)) end, "ToTensor: expected an image [H, W] or [H, W, C], got a sample of shape [4]")
  expect_error(function() T.ToTensor()("x") end, "ToTensor: expected a tensor, got string")
  expect_error(function() T.RandomCrop(0) end, "RandomCrop: size [0, 0] must be positive")
  expect_error(function() T.RandomCrop(2.5) end, "RandomCrop: size must be whole numbers")
  expect_error(function() T.RandomCrop("a") end, "RandomCrop: size must be a number or {height, width}")
  expect_error(function() T.RandomCrop(3, {padding = -1}) end, "RandomCrop: padding must be >= 0")
  expect_error(function() T.RandomCrop(3, {padding = {1, 2, 3}}) end, "padding must be a number or a table of 2 or 4")
  expect_error(function() T.RandomCrop(3, {padding_mode = "wrap"}) end, "padding_mode must be")
  expect_error(function() T.RandomCrop(3, {paddin = 1}) end, "RandomCrop: unknown option 'paddin'")
  expect_error(function() T.RandomCrop(3, {generator = 5}) end, "generator must be a tensor.Generator")
  expect_error(function() T.RandomCrop(9)(tensor.zeros(5, 6)) end,
               "RandomCrop: crop size [9, 9] is larger than the padded image [5, 6]")
  expect_error(function() T.RandomCrop(3, {padding = 5, padding_mode = "reflect"})(tensor.zeros(5, 6)) end,
               "RandomCrop: padding 5 is too large for 'reflect' mode on an image height of 5")
  expect_error(function() T.RandomCrop(3)(tensor.zeros(2, 2, 2, 2)) end, "expected a sample of 1 to 3 dimensions")
  expect_error(function() T.RandomHorizontalFlip(2) end, "p must be a number in [0, 1]")
  expect_error(function() T.RandomHorizontalFlip{q = 1} end, "unknown option 'q'")
  expect_error(function() T.Lambda(3) end, "Lambda: lambd must be a function, got number")
  expect_error(function() T.Compose{T.ToTensor(), 3} end, "Compose: item 2 is a number")
  expect_error(function() T.Compose(T.ToTensor()) end, "Compose: transforms must be a table of transforms, got one transform (put it in a table: Compose{t})")
  expect_error(function() T.Compose(3) end, "Compose: transforms must be a table of transforms, got number")
end)

test("a transform's error points at the script line", function()
  local err = expect_error(function() T.ToTensor()(tensor.zeros(4)) end, "ToTensor")
  assert(err:find("test_transforms.lua:%d+:"), err)
end)

test("ToTensor refuses what is not a raw image of bytes: it would come out 255 times too dark", function()
  local once = T.ToTensor()(tensor.new{{0, 51}, {102, 255}})
  check_close(once, {{{0, 0.2}, {0.4, 1}}}, 1e-7, "bytes become [0, 1]")
  expect_error(function() T.ToTensor()(once[1]) end,
               "ToTensor: expected a raw image of whole numbers 0..255, got 0.2 at element 2")
  expect_error(function() T.ToTensor()(tensor.new{{0, 127.5}}) end, "got 127.5 at element 2")
  expect_error(function() T.ToTensor()(tensor.new{{0, 256}}) end, "got 256 at element 2")
  expect_error(function() T.ToTensor()(tensor.new{{-1, 0}}) end, "got -1 at element 1")
  expect_error(function() T.Compose{T.ToTensor(), T.Flatten(), T.Lambda(function(x) return x:view(2, 2) end),
                                     T.ToTensor()}(tensor.full({2, 2}, 7)) end,
               "an image already in [0, 1] needs no ToTensor")
end)
