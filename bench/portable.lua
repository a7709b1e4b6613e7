-- portable.lua -- the installed build (portable: -march=x86-64-v2, kernels that
-- dispatch at load time) against the native one (make's -march=native), on make
-- bench's training epoch (bench/train.lua).
--
--   nnlua bench/portable.lua [rounds] [installed nnlua]
--
-- Without an installed nnlua, installs this checkout into a temporary prefix
-- first (make install PREFIX=...: builds build/dist if needed) and removes it
-- at the end. The native side is the nnlua running this script. For Adam and
-- SGD with momentum, at 1 thread and at nnlua's default thread count (auto),
-- one worker per binary runs epochs in turns: round 0 warms up, then each
-- round runs one epoch of the native worker and one of the installed one, the
-- order swapped every round, so that the machine's drift hits both alike.
-- Each epoch is measured twice: wall-clock seconds (the worker's answer) and
-- the worker's user CPU seconds (utime in /proc/<pid>/stat, all its threads,
-- before and after). At 1 thread user CPU is the steadier figure on a shared
-- machine: it leaves out the time the worker waited for a CPU. Printed: the
-- medians and the median of the per-round ratios installed / native, with
-- their range, and whether both builds trained to the same loss bits.
local ROUNDS = tonumber(arg[1] or 7)
local installed = arg[2]
assert(ROUNDS and ROUNDS >= 1, "usage: nnlua bench/portable.lua [rounds >= 1] [installed nnlua]")

local U = require "util"
local q, sh, median, minmax = U.q, U.sh, U.median, U.minmax

local tmp = sh("mktemp -d /tmp/nnlua-portable.XXXXXX"):gsub("%s+$", "")
assert(tmp ~= "", "mktemp failed")
if not installed then
  local out, ok = sh("make -s --no-print-directory install PREFIX=" .. q(tmp .. "/prefix") .. " 2>&1")
  if not ok then
    os.execute("rm -rf " .. q(tmp))
    error("portable.lua: make install failed:\n" .. out)
  end
  installed = tmp .. "/prefix/bin/nnlua"
end
local native = sh("readlink -f /proc/" .. sh("echo $PPID"):match("%d+") .. "/exe"):gsub("%s+$", "")
local TICK = tonumber((sh("getconf CLK_TCK"))) or 100

-- a worker: bench/train.lua under one binary; pid read first (the shell execs it)
local workers = {}
local function spawn(name, bin, opt, threads)
  local id = #workers + 1
  local fifo, err = tmp .. "/in" .. id, tmp .. "/err" .. id
  assert(os.execute("mkfifo " .. q(fifo)))
  local w = {name = name, err = err}
  w.out = assert(io.popen("echo $$; exec " .. q(bin) .. " bench/train.lua " .. opt .. " " .. threads
                          .. " <" .. q(fifo) .. " 2>" .. q(err), "r"))
  w.inp = assert(io.open(fifo, "w"))
  w.inp:setvbuf("line")
  w.pid = assert(tonumber(w.out:read("l")), "no pid")
  workers[id] = w
  return w
end

local function utime(w)                   -- user CPU seconds of the worker, all threads
  local f = assert(io.open("/proc/" .. w.pid .. "/stat"))
  local s = f:read("a")
  f:close()
  local fields = {}
  for x in s:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = x end
  return tonumber(fields[12]) / TICK     -- field 14 of the line, the 12th after "(comm)"
end

local function ask(w, cmd)
  w.inp:write(cmd, "\n")
  local line = w.out:read("l")
  if not line then
    local f = io.open(w.err)
    error(string.format("portable.lua: %s stopped: %s", w.name, f and f:read("a") or ""))
  end
  return line
end

local function epoch(w)                   -- wall seconds, user CPU seconds, mean loss
  local u0 = utime(w)
  local sec, loss, steps = ask(w, "epoch"):match("^epoch (%S+) (%S+) (%d+)")
  assert(tonumber(steps) == 782, "a cut epoch")
  return tonumber(sec), utime(w) - u0, loss
end

local cases = {}
for _, threads in ipairs{"1", "auto"} do
  for _, opt in ipairs{"adam", "sgd"} do
    local c = {opt = opt, threads = threads, runs = {}}
    for i, bin in ipairs{native, installed} do
      local w = spawn((i == 1 and "native " or "installed ") .. opt .. " " .. threads, bin, opt, threads)
      c.runs[i] = {w = w, wall = {}, cpu = {}, loss = {}}
    end
    cases[#cases + 1] = c
  end
end
for _, w in ipairs(workers) do assert(w.out:read("l") == "ready", w.name .. " did not start") end

local load0 = (sh("cat /proc/loadavg")):match("^(%S+ %S+ %S+)")
print(string.format("native %s\ninstalled %s\n%d timed rounds after 1 warm-up; load average at start %s",
                    native, installed, ROUNDS, load0))
for round = 0, ROUNDS do
  for _, c in ipairs(cases) do
    for k = 0, 1 do
      local r = c.runs[(k + round) % 2 + 1]
      local wall, cpu, loss = epoch(r.w)
      if round > 0 then
        r.wall[round], r.cpu[round], r.loss[round] = wall, cpu, loss
      end
    end
  end
end
for _, w in ipairs(workers) do
  ask(w, "quit")
  w.inp:close()
  w.out:close()
end

local function ratios(a, b)
  local t = {}
  for i = 1, #a do t[i] = b[i] / a[i] end
  local lo, hi = minmax(t)
  return string.format("%5.3f (%.3f-%.3f)", median(t), lo, hi)
end
print(string.format("\n%-14s %-9s %-9s %-21s %-9s %-9s %-21s %s", "", "wall s", "", "installed / native",
                    "user s", "", "installed / native", "same"))
print(string.format("%-14s %-9s %-9s %-21s %-9s %-9s %-21s %s", "", "native", "installed", "(by round, min-max)",
                    "native", "installed", "(by round, min-max)", "losses"))
for _, c in ipairs(cases) do
  local n, i = c.runs[1], c.runs[2]
  local same = true
  for round = 1, ROUNDS do same = same and n.loss[round] == i.loss[round] end
  print(string.format("%-14s %-9.3f %-9.3f %-21s %-9.3f %-9.3f %-21s %s",
                      c.opt .. ", " .. (c.threads == "1" and "1 thread" or "auto"),
                      median(n.wall), median(i.wall), ratios(n.wall, i.wall),
                      median(n.cpu), median(i.cpu), ratios(n.cpu, i.cpu), same and "yes" or "NO"))
end
print(string.format("load average at the end %s; user CPU in steps of %g s",
                    (sh("cat /proc/loadavg")):match("^(%S+ %S+ %S+)"), 1 / TICK))
os.execute("rm -rf " .. q(tmp))
