-- train.lua -- nnlua's side of make bench: epochs of the issue's MLP on demand.
--
--   nnlua bench/train.lua <adam|sgd> <threads|auto>
--
-- Loads FashionMNIST (ToTensor + Normalize, the 50,000 / 10,000 split of
-- scripts/reference.lua), builds the MLP 784-256-128-10 with ReLU, then reads
-- commands from standard input, one a line (bench/bench.lua sends them, so
-- that the runs it compares take turns):
--   epoch [limit]  one epoch of 782 steps of 64 (batch, forward, loss,
--                  zero_grad, backward, step, loss:item()); with a limit in
--                  seconds, stops early once the epoch has run that long;
--                  answers "epoch <seconds> <mean loss> <steps done>"
--   steps <n>      the first n steps of an epoch, answered the same way (a
--                  check: bench.lua compares the loss at 1 and 2 threads)
--   quit           answers "rss <peak resident kB> <threads>" and exits
-- Any other line is an error. Seconds are wall-clock (os.monotime). The
-- PyTorch side (bench/train.py) speaks the same protocol.
local which, threads = arg[1], arg[2] == "auto" and "auto" or tonumber(arg[2])
assert((which == "adam" or which == "sgd") and threads, "usage: nnlua bench/train.lua <adam|sgd> <threads|auto>")
if threads ~= "auto" then tensor.set_num_threads(threads) end   -- auto: nnlua's default

local loader, model, loss_fn, opt = require("workload")(which)

local function epoch(t0, limit, max_steps)
  local total, steps = 0, 0
  for x, y in loader:iter() do
    local loss = loss_fn(model(x), y)
    opt:zero_grad()
    loss:backward()
    opt:step()
    total, steps = total + loss:item(), steps + 1
    if os.monotime() - t0 > limit or steps == max_steps then break end
  end
  return total / steps, steps
end

local function peak_rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local kb = f:read("a"):match("VmHWM:%s*(%d+)")
  f:close()
  return tonumber(kb) or -1
end

io.stdout:setvbuf("line")
print("ready")
for line in io.lines() do
  local limit = line:match("^epoch ?(%S*)$")
  local nsteps = tonumber(line:match("^steps (%d+)$"))
  if nsteps then
    local t0 = os.monotime()
    local mean, steps = epoch(t0, math.huge, nsteps)
    print(string.format("epoch %.6f %.9g %d", os.monotime() - t0, mean, steps))
  elseif limit then
    local t0 = os.monotime()
    local mean, steps = epoch(t0, tonumber(limit) or math.huge)
    local elapsed = os.monotime() - t0
    assert(steps == 782 or limit ~= "", "expected 782 steps, got " .. steps)
    print(string.format("epoch %.6f %.9g %d", elapsed, mean, steps))
  elseif line == "quit" then
    print(string.format("rss %d %d", peak_rss_kb(), tensor.get_num_threads()))
    break
  else
    error("train.lua: unknown command " .. string.format("%q", line))
  end
end
