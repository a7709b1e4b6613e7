-- bench_data.lua -- make bench-data: one epoch of FashionMNIST training
-- batches (60,000 images, batches of 64, shuffled, ToTensor + Normalize) in
-- nnlua, in PyTorch (bench/bench_data.py) and at memcpy speed, in one run.
--
--   nnlua bench/bench_data.lua <bench_memcpy binary> [epochs]
--
-- Prints samples/s for each and the ratios (see bench/README.md). nnlua runs
-- at its default thread count and at 1 thread, epochs taking turns; the
-- ratios are those of the default.
local C = require "data._C"
local memcpy_bin = assert(arg[1], "usage: nnlua bench/bench_data.lua <bench_memcpy> [epochs]")
local EPOCHS = tonumber(arg[2]) or 7

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local function run(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  assert(p:close(), "failed: " .. cmd .. "\n" .. out)
  return out
end

-- nnlua
local tf = transforms.Compose{transforms.ToTensor(), transforms.Normalize({0.286}, {0.353})}
local t0 = C.clock()
local ds = datasets.FashionMNIST{train = true, transform = tf}
local load_s = C.clock() - t0
local loader = data.DataLoader(ds, {batch_size = 64, shuffle = true, progress = false})
-- at nnlua's default thread count and at 1 thread, epochs taking turns
local default = "auto"                     -- nnlua's default: follows how busy the machine is
local counts = {default, 1}
local times = {}
for _, th in ipairs(counts) do times[th] = {} end
for e = 0, EPOCHS do
  for _, th in ipairs(counts) do
    tensor.set_num_threads(th)
    local t = C.clock()
    local n = 0
    for x in loader:iter() do n = n + x:size(1) end
    assert(n == 60000)
    if e > 0 then table.insert(times[th], C.clock() - t) end      -- epoch 0 warms up
  end
end
tensor.set_num_threads("auto")
local epoch_s = median(times[default])
local nn_rate = 60000 / epoch_s

-- memcpy: the bytes one epoch reads (uint8 images) and writes (float32 batches and labels)
local bytes = 60000 * 784 + 60000 * 784 * 4 + 60000 * 4
local g1, g2 = run(memcpy_bin):match("memcpy (%S+) (%S+)")
local gbps = math.max(tonumber(g1), tonumber(g2))
local bound_s = bytes / (gbps * 1e9)

-- PyTorch, if installed
local torch_rate
local py = os.getenv("BENCH_PYTHON") or "/usr/bin/python3"
if os.execute(py .. " -c 'import torch, torchvision' 2>/dev/null") then
  local torch_out = run(py .. " bench/bench_data.py 1")
  torch_rate = tonumber(torch_out:match("torch (%S+)"))
end

print(string.format("FashionMNIST training set loaded in %.0f ms", load_s * 1e3))
print(string.format("%-38s %12s %10s", "one epoch, batches of 64", "samples/s", "epoch ms"))
print(string.format("%-38s %12.0f %10.1f", "nnlua DataLoader, threads auto (default)", nn_rate, epoch_s * 1e3))
local one = median(times[1])
print(string.format("%-38s %12.0f %10.1f", "nnlua DataLoader, 1 thread", 60000 / one, one * 1e3))
if torch_rate then
  print(string.format("%-38s %12.0f %10.1f", "PyTorch DataLoader + torchvision", torch_rate, 60000 / torch_rate * 1e3))
else
  print(string.format("%-38s %s", "PyTorch DataLoader + torchvision", "PyTorch not installed (make deps-bench)"))
end
print(string.format("%-38s %12.0f %10.1f", string.format("memcpy bound (%.0f MB at %.1f GB/s)",
      bytes / 1e6, gbps), 60000 / bound_s, bound_s * 1e3))
if torch_rate then print(string.format("nnlua / PyTorch: %.0fx (goal >= 50x)", nn_rate / torch_rate)) end
print(string.format("nnlua epoch / memcpy bound: %.2fx (goal <= 3x)", epoch_s / bound_s))
