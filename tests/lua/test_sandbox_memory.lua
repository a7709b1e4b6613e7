-- tests/lua/test_sandbox_memory.lua -- nnlua --sandbox --max-memory counts what nnlua
-- allocates for a script beside tensors and Lua values (nn/mem.c): the images of a dataset
-- (IDX and PNG folders), CSV text, the pixels of a figure being saved, the bytes of an image
-- being written, a GIF being encoded. Past the limit each is an error naming the limit and
-- what asked, which the script catches and then goes on; under a generous limit the same
-- scripts run; and the process's peak memory stays within the limit + 64 MiB while a script
-- loads datasets and makes figures until it reaches the limit.
-- Every run is a fresh nnlua process in a temporary tree this test makes:
--   root/proj/s.lua    the script (its folder, with the inputs below, is readable)
--   root/proj/out/     its output folder
local NNLUA = os.getenv("NNLUA") or "./nnlua"
if NNLUA:sub(1, 1) ~= "/" then NNLUA = os.getenv("PWD") .. "/" .. NNLUA end
local FMNIST = "/usr/share/datasets/fashion-mnist"   -- Debian's dataset-fashion-mnist (make deps)

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- the output of cmd and its exit status (0 when it succeeded)
local function sh(cmd)
  local out, ok, code = run_command(cmd)
  return out, ok and 0 or code
end

-- the tree, with the inputs: an image folder of 7 RGB PNGs of 1500 x 1500 (45 MiB decoded)
-- and a CSV file of 48 MB (2000 rows of a 24,000-byte field); made once for every test here
local ROOT
local function tree()
  if ROOT then return ROOT end
  local root = tmpdir()
  ROOT = root
  assert(os.execute("mkdir -p " .. q(root .. "/proj/out")))
  for k = 1, 7 do
    local class = k <= 3 and "a" or "b"
    plot.save_image(tensor.full({3, 1500, 1500}, k / 10), root .. "/proj/imgs/" .. class .. "/" .. k .. ".png")
  end
  local f = assert(io.open(root .. "/proj/big.csv", "wb"))
  f:write("id,text\n")
  local field = ("t"):rep(24000)
  for i = 1, 2000 do f:write(i, ",", field, "\n") end
  f:close()
  return root
end

-- the script's start: try(name, fn) prints "ok NAME" or "no NAME: message", then collects the
-- garbage the attempt left (a refused attempt's half-made values)
local PRELUDE = [[
local DIR, FMNIST = %q, %q
local function try(name, f, ...)
  local ok, err = pcall(f, ...)
  print((ok and "ok " or "no ") .. name .. (ok and "" or (": " .. tostring(err))))
  collectgarbage()
end
]]

-- runs the script text as root/proj/s.lua under --max-memory limit; returns its output and
-- exit code
local function run(root, text, limit, prefix)
  write_file(root .. "/proj/s.lua", PRELUDE:format(root .. "/proj", FMNIST) .. text)
  return sh((prefix or "") .. NNLUA .. " --sandbox --max-memory " .. limit .. " --out "
            .. q(root .. "/proj/out") .. " " .. q(root .. "/proj/s.lua"))
end

local function line_of(out, name)
  return out:match("\n([on][ko] " .. name:gsub("%p", "%%%0") .. "[^\n]*)")
      or out:match("^([on][ko] " .. name:gsub("%p", "%%%0") .. "[^\n]*)")
end

-- asserts that attempt name was refused with a message holding each of wants
local function refused(out, name, ...)
  local line = line_of(out, name)
  assert(line and line:sub(1, 3) == "no ", name .. " was not refused:\n" .. out)
  for _, want in ipairs{...} do
    assert(line:find(want, 1, true), name .. ": expected '" .. want .. "' in: " .. line)
  end
end

local function allowed(out, name)
  local line = line_of(out, name)
  assert(line and line:sub(1, 3) == "ok ", name .. " failed:\n" .. out)
end

-- The scenarios: each is refused under its own limit and runs under a generous one.
local DATASETS = [[
try("FashionMNIST train", function() assert(#datasets.FashionMNIST{train = true} == 60000) end)
try("FashionMNIST test", function() assert(#datasets.FashionMNIST{train = false} == 10000) end)
try("ImageFolder", function() assert(#datasets.ImageFolder(DIR .. "/imgs") == 7) end)
try("read_csv", function() assert(#data.read_csv(DIR .. "/big.csv") == 2000) end)
]]
local FIGURE = [[
try("big figure", function() plot.lines{width = 5000, height = 4000, series = {{y = {1, 2}}}}:save("big.png") end)
]]
local IMAGE = [[
try("save_image", function() plot.save_image(tensor.full({1, 5200, 5200}, 0.5), "img.png") end)
]]
local GIF = [[
try("animate", function()
  local fig = plot.image_grid{images = tensor.rand(1, 3, 400, 400, tensor.Generator(1))}
  local frames = {}
  for k = 1, 100 do frames[k] = fig end
  plot.animate{frames = frames}:save("noise.gif")
end)
]]
local ALIVE = [[
try("alive", function() assert(tensor.ones(1000):sum():item() == 1000) end)
]]

test("--sandbox --max-memory: datasets and CSV files past the limit are errors naming what asked; "
     .. "the script catches them and goes on", function()
  local root = tree()
  local out, code = run(root, DATASETS .. ALIVE, "40M")
  check_eq(code, 0, out)
  refused(out, "FashionMNIST train", "memory limit of 40 MiB reached (44.9 MiB asked for the data of "
          .. FMNIST .. "/train-images-idx3-ubyte.gz")
  allowed(out, "FashionMNIST test")
  refused(out, "ImageFolder", "memory limit of 40 MiB reached (45.1 MiB asked for the images of 7 PNG files")
  refused(out, "read_csv", "memory limit of 40 MiB reached", "asked for the text of " .. root .. "/proj/big.csv")
  allowed(out, "alive")
  -- not caught: the run ends with the message, status 1
  out, code = run(root, "datasets.FashionMNIST{train = true}\nprint('after')\n", "40M")
  check_eq(code, 1, out)
  assert(out:find("memory limit of 40 MiB reached", 1, true) and not out:find("after", 1, true), out)
end)

test("--sandbox --max-memory: a figure too big to render, an image too big to write and a GIF too "
     .. "big to encode are errors naming what asked; nothing is written", function()
  local root = tree()
  os.execute("rm -f " .. q(root .. "/proj/out") .. "/*")
  local out, code = run(root, FIGURE .. ALIVE, "64M")
  check_eq(code, 0, out)
  refused(out, "big figure", "memory limit of 64 MiB reached", "a figure of 5000 x 4000")
  allowed(out, "alive")
  out, code = run(root, IMAGE .. ALIVE, "128M")
  check_eq(code, 0, out)
  refused(out, "save_image", "memory limit of 128 MiB reached (25.8 MiB asked for plot.save_image: "
          .. "the bytes of an image of 5200 x 5200")
  allowed(out, "alive")
  out, code = run(root, GIF .. ALIVE, "32M")
  check_eq(code, 0, out)
  refused(out, "animate", "plot.animate: memory limit of 32 MiB reached", "asked for an animated GIF")
  allowed(out, "alive")
  for _, name in ipairs{"big.png", "img.png", "noise.gif"} do
    assert(not io.open(root .. "/proj/out/" .. name), name .. " was written")
  end
end)

test("--sandbox --max-memory: under a generous limit the same datasets, CSV file and figures load "
     .. "and save", function()
  local root = tree()
  local out, code = run(root, DATASETS .. FIGURE .. IMAGE .. GIF .. ALIVE, "1G")
  check_eq(code, 0, out)
  for _, name in ipairs{"FashionMNIST train", "FashionMNIST test", "ImageFolder", "read_csv",
                        "big figure", "save_image", "animate", "alive"} do
    allowed(out, name)
  end
  for _, name in ipairs{"big.png", "img.png", "noise.gif"} do
    assert(io.open(root .. "/proj/out/" .. name), name .. " is missing")
  end
end)

test("--sandbox --max-memory 256M: a script that loads datasets and makes figures until the limit "
     .. "stops there, goes on, and its peak memory stays within the limit + 64 MiB", function()
  local root = tree()
  local script = [[
assert(#data.read_csv(DIR .. "/big.csv") == 2000)
local keep, n, err = {}, 0, nil
while not err do
  local ok, e = pcall(function()
    keep[#keep + 1] = datasets.FashionMNIST{train = n % 2 == 0}
    local images = tensor.rand(4, 3, 300, 300)
    local fig = plot.image_grid{images = images}
    fig:save("grid.png")
    keep[#keep + 1] = fig
    keep[#keep + 1] = images
    plot.lines{width = 1500, height = 1500, series = {{y = {1, n}}}}:save("lines.png")
  end)
  if ok then n = n + 1 else err = e end
end
print("rounds " .. n)
print("stopped: " .. err)
keep = nil
collectgarbage()
try("again", function()
  assert(#datasets.FashionMNIST{train = true} == 60000)
  plot.lines{width = 3000, height = 3000, series = {{y = {1, 2}}}}:save("lines.png")
end)
]]
  local asan = os.getenv("NNLUA_ASAN") ~= nil  -- ASan's shadow memory and quarantine are not the script's
  local out, code = run(root, script .. ALIVE, "256M", not asan and "/usr/bin/time -f 'maxrss %M' " or nil)
  check_eq(code, 0, out)
  local rounds = tonumber(out:match("rounds (%d+)"))
  assert(rounds and rounds >= 3, out)
  assert(out:find("stopped: [^\n]*memory limit of 256 MiB reached"), out)
  allowed(out, "again")
  allowed(out, "alive")
  if not asan then
    local rss = tonumber(out:match("maxrss (%d+)%s*$")) * 1024
    assert(rss <= (256 + 64) * 2^20, string.format("peak RSS %.0f MiB", rss / 2^20))
  end
end)

test("--sandbox --max-memory: what the script dropped is collected before a refusal stands", function()
  -- each 114 MiB tensor is dropped before the next is made, but the collector has
  -- not freed it yet: without a collection first, every attempt after the first
  -- was refused under 200M while the script held nothing
  local root = tree()
  local out, code = run(root, [[
local made = 0
for i = 1, 10 do
  local ok, err = pcall(function() local t = tensor.zeros(30, 1000, 1000); return t:sum() end)
  if ok then made = made + 1 else print(err) end
end
print("made " .. made)
]], "200M")
  check_eq(code, 0, out)
  assert(out:find("made 10", 1, true), out)
end)

test("(the temporary tree is removed)", function() os.execute("rm -rf " .. q(tree())) end)
