-- bench.lua -- make bench: nnlua side by side with PyTorch on the machine at
-- hand, in one run, as one report (bench/README.md says what each row is).
--
--   nnlua bench/bench.lua [build dir]
--
-- Sections: training epochs (nnlua, PyTorch pre-loaded and textbook, the GEMM
-- floor, the installed build of make install, the ratios), start-up, the DataLoader epoch against memcpy
-- (bench_data.lua), the optimizers' updates against memcpy (optim_bw).
-- Settings from the environment: BENCH_ROUNDS (timed epochs per row, 5),
-- BENCH_EPOCH_LIMIT (seconds after which an epoch is cut and its time
-- extrapolated from the steps done, 6), BENCH_TEXTBOOK_LIMIT (the same for
-- the textbook epoch, 25),
-- BENCH_TRAIN_BUDGET (seconds after which no further round of epochs starts,
-- 150), BENCH_STARTUP_RUNS (20), BENCH_PYTHON (/usr/bin/python3; a python
-- without torch shows what the report looks like without PyTorch).
local BUILD = arg[1] or "build"
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 5
local LIMIT = tonumber(os.getenv("BENCH_EPOCH_LIMIT")) or 6
local TEXTBOOK_LIMIT = tonumber(os.getenv("BENCH_TEXTBOOK_LIMIT")) or 25
local BUDGET = tonumber(os.getenv("BENCH_TRAIN_BUDGET")) or 150
local STARTUP_RUNS = tonumber(os.getenv("BENCH_STARTUP_RUNS")) or 20
local PY = os.getenv("BENCH_PYTHON") or "/usr/bin/python3"   -- Debian's, which has torch
local STEPS = 782
local started = os.monotime()

-- ---------------------------------------------------------------- helpers

local U = require "util"
local q, sh, median, minmax = U.q, U.sh, U.median, U.minmax

local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end

local tmp = sh("mktemp -d /tmp/nnlua-bench.XXXXXX"):gsub("%s+$", "")
assert(tmp ~= "", "mktemp failed")
local raw = assert(io.open(BUILD .. "/bench/bench-raw.txt", "w"))   -- every epoch, for a closer look

local has_torch = select(2, sh(PY .. " -c 'import torch, torchvision' 2>/dev/null"))
local has_lua = select(2, sh("command -v lua5.4 >/dev/null 2>&1"))
local NO_TORCH = "PyTorch not installed (make deps-bench)"

-- ---------------------------------------------------------------- header

local cpu = sh("lscpu 2>/dev/null"):match("Model name:%s*([^\n]+)") or "unknown CPU"
local ncpu = sh("nproc"):match("%d+") or "?"
local torch_info = has_torch and sh(PY .. " -c 'import torch; print(torch.__version__, torch.get_num_threads())'")
local torch_version, torch_threads = (torch_info or ""):match("(%S+) (%d+)")
print(string.format("make bench: %s, %s CPUs; load average at start %s", cpu, ncpu, loadavg()))
print(string.format("nnlua default threads: auto, %d now; %s", tensor.get_num_threads(),
  has_torch and string.format("PyTorch %s (Debian), default threads %s", torch_version, torch_threads) or NO_TORCH))

-- ---------------------------------------------------------------- workers

-- A worker is a process that sets itself up, prints "ready", then answers one
-- line per command read from its standard input (a FIFO we write to).
local workers = {}
local function spawn(name, cmd)
  local id = #workers + 1
  local fifo, err = tmp .. "/in" .. id, tmp .. "/err" .. id
  assert(os.execute("mkfifo " .. q(fifo)))
  local w = {name = name, err = err}
  w.out = assert(io.popen("exec " .. cmd .. " <" .. q(fifo) .. " 2>" .. q(err), "r"))
  w.inp = assert(io.open(fifo, "w"))      -- returns once the worker's shell opened the FIFO
  w.inp:setvbuf("line")
  workers[id] = w
  return w
end

local function fail(w, what)
  if w.dead then return end
  w.dead = true
  local f = io.open(w.err)
  local msg = f and f:read("a") or ""
  if f then f:close() end
  io.stderr:write(string.format("bench: %s %s:\n%s\n", w.name, what, msg))
end

local function ask(w, cmd)               -- the worker's answer, or nil if it died
  if w.dead then return nil end
  w.inp:write(cmd, "\n")
  local line = w.out:read("l")
  if not line then fail(w, "stopped answering '" .. cmd .. "'") end
  return line
end

local function ready(w)
  local line = w.out:read("l")
  if line ~= "ready" then fail(w, "did not start") end
end

local nnlua = "./nnlua"
local passive = "env OMP_WAIT_POLICY=passive "
local opts = {"adam", "sgd"}
local configs = {                        -- rows of the training table, in order
  {key = "nn1", label = "nnlua, 1 thread", kind = "nnlua", threads = 1},
  {key = "nn2", label = "nnlua, 2 threads", kind = "nnlua", threads = 2},
  {key = "nnA", label = "nnlua, threads auto (its default)", kind = "nnlua", threads = "auto"},
  {key = "pt1", label = "PyTorch pre-loaded, 1 thread", kind = "torch", threads = 1},
  {key = "pt2", label = "PyTorch pre-loaded, 2 threads", kind = "torch", threads = 2},
  {key = "tb", label = "PyTorch textbook, default threads", kind = "textbook"},
  {key = "fd1", label = "GEMM floor, oneDNN direct, 1 thread", kind = "floor", threads = 1, cmd = "direct"},
  {key = "fn1", label = "GEMM floor, nn_gemm, 1 thread", kind = "floor", threads = 1, cmd = "nn_gemm"},
  {key = "fd2", label = "GEMM floor, oneDNN direct, 2 threads", kind = "floor", threads = 2, cmd = "direct"},
  {key = "fn2", label = "GEMM floor, nn_gemm, 2 threads", kind = "floor", threads = 2, cmd = "nn_gemm"},
  {key = "in1", label = "installed build (x86-64-v2), 1 thread", kind = "installed", threads = 1},
  {key = "inA", label = "installed build (x86-64-v2), auto", kind = "installed", threads = "auto"},
}
if torch_threads then configs[6].label = "PyTorch textbook, " .. torch_threads .. " thread (default)" end

-- entries: what takes turns in a round, one (worker, command) each; results by key and optimizer
local entries, results = {}, {}
local floors = {}
for _, c in ipairs(configs) do
  results[c.key] = {}
  for _, o in ipairs(opts) do results[c.key][o] = {times = {}, losses = {}, cut = false} end
end

-- the installed build (make install: -march=x86-64-v2, kernels that dispatch at load
-- time) in a prefix of its own, against the native ./nnlua; built now if need be
local installed = tmp .. "/prefix/bin/nnlua"
local install_out, has_installed = sh("MAKEFLAGS= make -s --no-print-directory install PREFIX="
                                      .. q(tmp .. "/prefix") .. " 2>&1")
local NO_INSTALL = "not measured: make install failed (" .. (install_out:match("[^\n]+") or "?") .. ")"

print("\nstarting the workers...")
for _, c in ipairs(configs) do
  if c.kind == "nnlua" then
    for _, o in ipairs(opts) do
      local w = spawn(c.label .. " " .. o, nnlua .. " bench/train.lua " .. o .. " " .. c.threads)
      entries[#entries + 1] = {w = w, key = c.key, opt = o, cmd = "epoch " .. LIMIT}
    end
  elseif c.kind == "installed" and has_installed then
    for _, o in ipairs(opts) do
      local w = spawn(c.label .. " " .. o, q(installed) .. " bench/train.lua " .. o .. " " .. c.threads)
      entries[#entries + 1] = {w = w, key = c.key, opt = o, cmd = "epoch " .. LIMIT}
    end
  elseif c.kind == "torch" and has_torch then
    for _, o in ipairs(opts) do
      local w = spawn(c.label .. " " .. o, PY .. " bench/train.py preloaded " .. o .. " " .. c.threads)
      entries[#entries + 1] = {w = w, key = c.key, opt = o, cmd = "epoch " .. LIMIT}
    end
  elseif c.kind == "floor" then
    local fk = tostring(c.threads)
    if not floors[fk] then floors[fk] = spawn("GEMM floor " .. fk, BUILD .. "/bench/floor " .. c.threads) end
    for _, o in ipairs(opts) do results[c.key][o] = results[c.key].adam end   -- no optimizer: one row
    entries[#entries + 1] = {w = floors[fk], key = c.key, opt = "adam", cmd = c.cmd .. " " .. LIMIT}
  end
end
for _, w in ipairs(workers) do ready(w) end

-- the floor's products, checked against double precision before any timing
local checks = {}
for fk, w in pairs(floors) do
  local n, err, same = (ask(w, "check") or ""):match("^check (%d+) (%S+) (%d)")
  checks[#checks + 1] = {fk = fk, n = tonumber(n), err = tonumber(err), same = same == "1"}
end
table.sort(checks, function(a, b) return a.fk < b.fk end)

-- the products nnlua's own step runs, caught with gdb on nn_gemm (one step of
-- bench/train.lua), against the floor's list; skipped without gdb
local floor_shapes = (ask(floors["1"], "shapes") or ""):match("^shapes (.*)$")
local nnlua_shapes
if select(2, sh("command -v gdb >/dev/null 2>&1")) then
  local script = assert(io.open(tmp .. "/gemm.gdb", "w"))
  script:write("set pagination off\nbreak nn_gemm\ncommands\nsilent\n",
               'printf "gemm %ldx%ldx%ld%s\\n", M, N, K, bias ? "+b" : ""\n', "continue\nend\nrun\n")
  script:close()
  local out = sh("printf 'epoch 0\\nquit\\n' | gdb -q -batch -x " .. q(tmp .. "/gemm.gdb") .. " --args "
                 .. nnlua .. " bench/train.lua adam 1 2>/dev/null")
  local list = {}
  for shape in out:gmatch("gemm (%S+)") do list[#list + 1] = shape end
  nnlua_shapes = table.concat(list, " ")
end

-- rounds: round 0 warms every entry up; rounds 1..ROUNDS are timed. Entries
-- take turns, the starting one rotating, so drift hits all rows alike.
local t_train = os.monotime()
local rounds_done = 0
for round = 0, ROUNDS do
  if round > 1 and os.monotime() - t_train > BUDGET then break end
  for k = 0, #entries - 1 do
    local e = entries[(k + round) % #entries + 1]
    local line = ask(e.w, e.cmd)
    local sec, loss, steps = (line or ""):match("^epoch (%S+) (%S+) (%d+)")
    sec, steps = tonumber(sec), tonumber(steps)
    if sec then
      raw:write(string.format("round %d  %-44s %-10s %9.4f s %4d steps  loss %s\n", round,
                              e.w.name, e.cmd, sec, steps, loss))
      e.broken = e.broken or steps < STEPS    -- a cut epoch puts this run on another trajectory
      if round > 0 then
        local r = results[e.key][e.opt]
        r.times[round] = sec * STEPS / steps
        r.cut = r.cut or steps < STEPS
        if not e.broken then r.losses[round] = loss end
        r.last_loss = loss
      end
    end
  end
  rounds_done = round
end

-- PyTorch the textbook way: one epoch each, after the rounds (12 s or more each)
if has_torch then
  for _, o in ipairs(opts) do
    local w = spawn("PyTorch textbook " .. o, PY .. " bench/train.py textbook " .. o .. " default")
    ready(w)
    local sec, loss, steps = (ask(w, "epoch " .. TEXTBOOK_LIMIT) or ""):match("^epoch (%S+) (%S+) (%d+)")
    if sec then
      local r = results.tb[o]
      r.times[1] = tonumber(sec) * STEPS / tonumber(steps)
      r.cut, r.last_loss = tonumber(steps) < STEPS, loss
      raw:write(string.format("textbook %-5s %9.4f s %4d steps  loss %s\n", o, sec, steps, loss))
    end
  end
end

-- peak RSS: each worker's own VmHWM, asked at the end
local rss = {}
for _, w in ipairs(workers) do
  local kb = (ask(w, "quit") or ""):match("^rss (%d+)")
  rss[w] = tonumber(kb)
  w.inp:close()
  w.out:close()
end
raw:close()

-- nnlua's promise of the same bits at any thread count, on 100 steps of fresh
-- runs (passive waiting: the bits do not depend on it, and it is fast on a busy machine)
local bits = {}
for _, o in ipairs(opts) do
  local loss = {}
  for t = 1, 2 do
    local out = sh("printf 'steps 100\\nquit\\n' | " .. passive .. nnlua .. " bench/train.lua " .. o .. " " .. t)
    loss[t] = out:match("epoch %S+ (%S+) 100")
  end
  bits[o] = loss[1] and loss[1] == loss[2] and "yes (" .. loss[1] .. ")"
            or string.format("NO (%s at 1 thread, %s at 2)", tostring(loss[1]), tostring(loss[2]))
end

-- ---------------------------------------------------------------- the training table

local function rss_of(key, o)
  for _, e in ipairs(entries) do if e.key == key and (e.opt == o) then return rss[e.w] end end
  for _, w in ipairs(workers) do                 -- the textbook workers are not in entries
    if key == "tb" and w.name == "PyTorch textbook " .. o then return rss[w] end
  end
end

local function cell(r)
  local m = median(r.times)
  if not m then return string.format("%-21s", "-") end
  local lo, hi = minmax(r.times)
  local range = #r.times > 1 and string.format("%.2f-%.2f", lo, hi) or "one epoch"
  return string.format("%6.3f%s %-13s", m, r.cut and "*" or " ", range)
end

print(string.format("\n== Training: MLP 784-256-128-10 with ReLU, batch 64, CrossEntropyLoss, one epoch = %d steps"
  .. " over 50,000 FashionMNIST images", STEPS))
print(string.format("   Adam lr 1e-3, SGD lr 0.1 momentum 0.9; seconds per epoch, median of %d epochs after 1 warm-up,"
  .. " all rows taking turns", rounds_done))
print(string.format("%-40s %-21s %-21s %-12s %s", "", "Adam: s  (min-max)", "SGD: s  (min-max)",
                    "RSS MB A/S", "last loss A/S"))
for _, c in ipairs(configs) do
  local ra, rs = results[c.key].adam, results[c.key].sgd
  if (c.kind == "torch" or c.kind == "textbook") and not has_torch then
    print(string.format("%-40s %s", c.label, NO_TORCH))
  elseif c.kind == "installed" and not has_installed then
    print(string.format("%-40s %s", c.label, NO_INSTALL))
  else
    local floor = c.kind == "floor"
    local ma, ms = rss_of(c.key, "adam"), rss_of(c.key, "sgd")
    local mem = ma and (floor and string.format("%.0f", ma / 1024)
                        or string.format("%.0f/%.0f", ma / 1024, (ms or 0) / 1024)) or "-"
    local loss = floor and "" or string.format("%s/%s", ra.last_loss and string.format("%.4f", ra.last_loss) or "-",
                                                rs.last_loss and string.format("%.4f", rs.last_loss) or "-")
    print(string.format("%-40s %s %s %-12s %s", c.label, cell(ra), floor and cell(ra) or cell(rs), mem, loss))
  end
end

-- ratios, paired by round: each round's epochs ran one after another, so the
-- median of the per-round ratios cancels drift better than a ratio of medians
local function paired(num, den, o)
  local t = {}
  for round = 1, rounds_done do
    local a, b = num(round, o), den(round, o)
    if a and b then t[#t + 1] = a / b end
  end
  return median(t)
end
local function at(key) return function(round, o) return results[key][o].times[round] end end
local function floor_at(d, n)                    -- the faster of oneDNN direct and nn_gemm, that round
  return function(round)
    local a, b = results[d].adam.times[round], results[n].adam.times[round]
    if a and b then return math.min(a, b) end
    return a or b
  end
end

-- the faster of two rows' medians; the fastest epoch of rows
local function best(k1, k2) return function(o) return math.min(median(results[k1][o].times) or math.huge,
                                                                median(results[k2][o].times) or math.huge) end end
local function fastest(...)
  local keys = {...}
  return function(o)
    local m = math.huge
    for _, k in ipairs(keys) do m = math.min(m, (minmax(results[k][o].times))) end
    return m
  end
end
local nn_best = best("nn1", "nn2")
-- {label, numerator, denominator, fastest numerator, fastest denominator}
local ratios = {
  {"nnlua / GEMM floor, 1 thread", at("nn1"), floor_at("fd1", "fn1"), fastest("nn1"), fastest("fd1", "fn1")},
  {"nnlua / GEMM floor, 2 threads", at("nn2"), floor_at("fd2", "fn2"), fastest("nn2"), fastest("fd2", "fn2")},
  {"nnlua auto / GEMM floor, 2 threads", at("nnA"), floor_at("fd2", "fn2"), fastest("nnA"),
   fastest("fd2", "fn2")},
  {"PyTorch pre-loaded / nnlua, 1 thread", at("pt1"), at("nn1"), fastest("pt1"), fastest("nn1"), torch = true},
  {"PyTorch pre-loaded / nnlua, 2 threads", at("pt2"), at("nn2"), fastest("pt2"), fastest("nn2"), torch = true},
  {"PyTorch pre-loaded / nnlua, best of 1, 2", best("pt1", "pt2"), nn_best, fastest("pt1", "pt2"),
   fastest("nn1", "nn2"), torch = true, medians = true},
  {"PyTorch textbook / nnlua best of 1, 2", function(o) return results.tb[o].times[1] end, nn_best,
   function(o) return results.tb[o].times[1] end, fastest("nn1", "nn2"), torch = true, medians = true},
  {"installed / native, 1 thread", at("in1"), at("nn1"), fastest("in1"), fastest("nn1"), installed = true},
  {"installed / native, auto", at("inA"), at("nnA"), fastest("inA"), fastest("nnA"), installed = true},
}
local function div(x, y) return x and y and x < math.huge and y < math.huge and x / y or nil end
local function fmt(m, f)
  if not m then return string.format("%-21s", "-") end
  return string.format("%-21s", string.format("%5.2f  (fastest %.2f)", m, f or 0 / 0))
end
print(string.format("\n%-40s %-21s %-21s", "ratios (by round; \"best\": of medians)", "Adam", "SGD"))
for _, r in ipairs(ratios) do
  if r.torch and not has_torch then
    print(string.format("%-40s %s", r[1], NO_TORCH))
  elseif r.installed and not has_installed then
    print(string.format("%-40s %s", r[1], NO_INSTALL))
  else
    local cells = {}
    for i, o in ipairs(opts) do
      local m = r.medians and div(r[2](o), r[3](o)) or paired(r[2], r[3], o)
      cells[i] = fmt(m, div(r[4](o), r[5](o)))
    end
    print(string.format("%-40s %s %s", r[1], cells[1], cells[2]))
  end
end
print("goal: nnlua / GEMM floor <= 1.5 at nnlua's default thread count (auto: all CPUs while the machine"
  .. " is otherwise idle); \"fastest\": the ratio of the rows' fastest epochs")
print("goal: installed / native <= 1.10 (the installed build runs on any x86-64-v2 CPU; bench/README.md)")

-- checks
local function same_losses(k1, k2, o)
  local a, b, n = results[k1][o].losses, results[k2][o].losses, 0
  for round = 1, rounds_done do
    if a[round] and b[round] then
      if a[round] ~= b[round] then return "NO" end
      n = n + 1
    end
  end
  return n > 0 and "yes" or "not compared"
end
print("\nchecks:")
for _, c in ipairs(checks) do
  print(string.format("  GEMM floor, %s: %d products a step; largest error against double %.2g; "
    .. "nn_gemm and oneDNN direct same bits: %s", (c.fk == "1" and "1 thread" or c.fk .. " threads"), c.n or -1, c.err or -1,
    c.same and "yes" or "no"))
end
if nnlua_shapes then
  print(string.format("  products of one nnlua step (gdb on nn_gemm) %s the floor's: %s",
                      nnlua_shapes == floor_shapes and "equal" or "DIFFER from", nnlua_shapes))
  if nnlua_shapes ~= floor_shapes then print("  the floor's: " .. tostring(floor_shapes)) end
else
  print("  products of one nnlua step: not compared (no gdb); the floor's: " .. tostring(floor_shapes))
end
for _, o in ipairs(opts) do
  print(string.format("  nnlua %s, mean loss of the first 100 steps at 1 and 2 threads the same: %s", o, bits[o]))
  print(string.format("  nnlua %s, mean loss of every timed uncut epoch the same at 1 and 2 threads: %s"
    .. " (auto: %s)", o, same_losses("nn1", "nn2", o), same_losses("nn1", "nnA", o)))
  if has_installed then
    print(string.format("  installed build %s, mean loss of every timed uncut epoch the same as native: %s"
      .. " (auto: %s)", o, same_losses("nn1", "in1", o), same_losses("nnA", "inA", o)))
  end
end
local any_cut = false
for _, c in ipairs(configs) do
  for _, o in ipairs(opts) do any_cut = any_cut or results[c.key][o].cut end
end
if any_cut then
  print(string.format("  *: some epochs of the row ran past %g s (textbook %g s) and were cut; their time is"
    .. " extrapolated from the steps done", LIMIT, TEXTBOOK_LIMIT))
end
print(string.format("  each epoch in %s", BUILD .. "/bench/bench-raw.txt"))

-- ---------------------------------------------------------------- start-up

print(string.format("\n== Start-up: median of %d runs taking turns, ms (min-max), peak RSS", STARTUP_RUNS))
local cmds = {{'nnlua -e ""', nnlua .. " -e ''"}}
if has_torch then cmds[#cmds + 1] = {'python3 -c "import torch"', PY .. " -c 'import torch'"} end
if has_lua then cmds[#cmds + 1] = {'lua5.4 -e ""', "lua5.4 -e ''"} end
local argv = {}
for _, c in ipairs(cmds) do argv[#argv + 1] = "-- " .. c[2] end
local out, ok = sh(BUILD .. "/bench/startup " .. STARTUP_RUNS .. " " .. table.concat(argv, " "))
local i = 0
for med, lo, hi, kb in out:gmatch("startup (%S+) (%S+) (%S+) (%S+)") do
  i = i + 1
  print(string.format("%-40s %8.1f ms  (%.1f-%.1f)  %6.1f MB", cmds[i][1], med, lo, hi, kb / 1024))
end
if not ok then print("start-up timing failed") end
if not has_torch then print(string.format("%-40s %s", 'python3 -c "import torch"', NO_TORCH)) end
if not has_lua then print(string.format("%-40s %s", 'lua5.4 -e ""', "lua5.4 not installed (make deps-bench)")) end
print("goal: nnlua -e \"\" within 10 ms")

-- ---------------------------------------------------------------- data and optimizers

print("\n== DataLoader: one epoch of FashionMNIST batches (bench_data.lua, as make bench-data)")
io.write((sh(nnlua .. " bench/bench_data.lua " .. BUILD .. "/bench/bench_memcpy")))

print("\n== Optimizer updates on a 1M-element parameter, 1 thread, against memcpy of the same bytes (optim_bw)")
io.write((sh(BUILD .. "/bench/optim_bw")))

os.execute("rm -rf " .. q(tmp))
print(string.format("\nmake bench took %.0f s; load average at the end %s", os.monotime() - started, loadavg()))
