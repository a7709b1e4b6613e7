-- The garbage collector sees tensor storage: loops stay flat without collectgarbage().


local asan = os.getenv("NNLUA_ASAN") == "1"

test("1000 dropped 100 MB tensors keep the peak low", function()
  local n = 25 * 1024 * 1024                       -- 100 MB of float32
  local peak0 = status_kb("VmPeak")
  for _ = 1, 1000 do
    local t = tensor.empty(n)
    t[1] = 1
  end
  local grown = (status_kb("VmPeak") - peak0) / 1024
  if not asan then                                 -- ASan reserves its own address space
    assert(grown < 1024, string.format("virtual peak grew by %.0f MB over 1000 x 100 MB", grown))
  end
end)

test("touched 100 MB tensors keep RSS under a few hundred MB", function()
  local n = 25 * 1024 * 1024
  local rss0 = status_kb("VmRSS")
  local worst = 0
  for _ = 1, 30 do
    local t = tensor.ones(n)
    local grown = status_kb("VmRSS") - rss0
    if grown > worst then worst = grown end
  end
  local limit = asan and 1536 or 600
  assert(worst / 1024 < limit, string.format("RSS grew by %.0f MB", worst / 1024))
end)

test("10,000 small steps stay flat", function()
  local x = tensor.randn(64, 256)
  local w = tensor.randn(256, 10)
  local function step() return (x:matmul(w):relu() * 2 + 1):softmax(2):sum():item() end
  for _ = 1, 1000 do step() end
  local rss0 = status_kb("VmRSS")
  for _ = 1, 10000 do step() end
  local grown = (status_kb("VmRSS") - rss0) / 1024
  local limit = asan and 320 or 64                  -- ASan keeps freed memory in quarantine
  assert(grown < limit, string.format("RSS grew by %.1f MB over 10,000 steps", grown))
end)
