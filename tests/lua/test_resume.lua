-- Checkpoints and resuming: Debian's argparse in scripts, what tensor.save
-- keeps of a run's state, a checkpoint of another optimizer refused, and runs
-- stopped and continued in fresh processes that end bit for bit where an
-- uninterrupted run ends (the docs/checkpoints.md pattern, with dropout, a
-- shuffling loader, Adam and a schedule; and scripts/reference.lua's
-- --save / --resume).

local NNLUA = os.getenv("NNLUA") or "./nnlua"

-- NNLUA as a path that works from any current directory
local function nnlua_abs()
  if NNLUA:sub(1, 1) == "/" then return NNLUA end
  local p = assert(io.popen("pwd"))
  local cwd = p:read("l")
  p:close()
  return cwd .. "/" .. NNLUA
end

local sh = run_command

-- the first ```lua block of a markdown file
local function first_block(path)
  return assert(read_file(path):match("```lua\n(.-)```"), "no lua block in " .. path)
end

-- every float of a (nested) table, compared by value with ==, which for
-- finite floats is equality of their bits
local function check_same_numbers(a, b, what)
  check_eq(type(a), type(b), what)
  if type(a) == "table" then
    for k, v in pairs(a) do check_same_numbers(v, b[k], what .. "." .. tostring(k)) end
    for k in pairs(b) do check_eq(a[k] ~= nil, true, what .. "." .. tostring(k)) end
  elseif tensor.is_tensor(a) then
    check_eq(a:equal(b), true, what)
  else
    check_eq(a, b, what)
  end
end

------------------------------------------------------------------ argparse

test("require 'argparse' loads Debian's lua-argparse, after nnlua's own modules, and parses", function()
  local argparse = require "argparse"
  local file = package.searchpath("argparse", package.path)
  check_eq(file, "/usr/share/lua/5.4/argparse.lua")
  local first = package.path:match("^[^;]+")
  assert(first:find("/stdlib/?.lua", 1, true), "nnlua's stdlib must come first: " .. package.path)
  local p = argparse("train.lua", "a test")
  p:argument("epochs"):args("?"):convert(tonumber)
  p:option("--save"):argname("PATH")
  p:flag("-v --verbose")
  local o = p:parse{"3", "--save", "ck.safetensors", "-v"}
  check_eq(o.epochs, 3)
  check_eq(o.save, "ck.safetensors")
  check_eq(o.verbose, true)
  local ok, err = p:pparse{"1", "2"}
  check_eq(ok, false)
  assert(err:find("too many arguments", 1, true), err)
end)

------------------------------------------------------ what tensor.save keeps

test("tensor.save keeps random states (strings), nested histories and numbers exactly", function()
  local dir = tmpdir()
  tensor.manual_seed(11)
  tensor.rand(3)
  local g = tensor.Generator(5)
  tensor.randperm(7, g)
  local history = {loss = {2.302585092994046, 1 / 3, 0.1, 1e-300, -0.0, 7}, best = {epoch = 2, acc = 0.8125},
                   note = "a\0b\255", done = false}
  local w = tensor.randn(2, 3)
  local value = {rng = tensor.get_rng_state(), loader_rng = g:get_state(), history = history, epoch = 4, w = w}
  tensor.save(value, dir .. "/ck.safetensors")
  local back = tensor.load(dir .. "/ck.safetensors")
  check_same_numbers(back, value, "checkpoint")
  check_eq(math.type(back.epoch), "integer")
  check_eq(math.type(back.history.loss[6]), "integer")
  check_eq(1 / back.history.loss[5], -math.huge, "-0.0 keeps its sign")
  -- the restored streams go on with the same numbers
  local after, gafter = tensor.rand(4), tensor.randperm(7, g)
  tensor.set_rng_state(back.rng)
  local g2 = tensor.Generator(0):set_state(back.loader_rng)
  check_eq(tensor.rand(4):equal(after), true, "global stream")
  check_eq(tensor.randperm(7, g2):equal(gafter), true, "generator stream")
  os.execute("rm -rf '" .. dir .. "'")
end)

test("a checkpoint of another optimizer or scheduler is refused and changes nothing", function()
  local dir = tmpdir()
  local m = nn.Linear(3, 2)
  local adam = optim.Adam(m:parameters())
  local step = optim.lr_scheduler.StepLR(adam, {step_size = 2})
  m(tensor.ones(4, 3)):sum():backward()
  adam:step()
  step:step()
  tensor.save({optimizer = adam:state_dict(), scheduler = step:state_dict()}, dir .. "/ck.safetensors")
  local ck = tensor.load(dir .. "/ck.safetensors")
  local sgd = optim.SGD(m:parameters(), {lr = 0.1, momentum = 0.9})
  expect_error(function() sgd:load_state_dict(ck.optimizer) end,
               "the state dict is from optim.Adam, not optim.SGD")
  check_eq(sgd.param_groups[1].lr, 0.1)
  check_eq(next(sgd.state), nil)
  local adamw = optim.AdamW(m:parameters())
  expect_error(function() adamw:load_state_dict(ck.optimizer) end, "not optim.AdamW")
  local cos = optim.lr_scheduler.CosineAnnealingLR(sgd, {T_max = 5})
  expect_error(function() cos:load_state_dict(ck.scheduler) end, "a state of another scheduler?")
  check_eq(cos.last_epoch, 0)
  local adam2 = optim.Adam(m:parameters())       -- the right type loads
  adam2:load_state_dict(ck.optimizer)
  check_eq(adam2.state[m.weight].exp_avg:equal(adam.state[m.weight].exp_avg), true)
  os.execute("rm -rf '" .. dir .. "'")
end)

------------------------------------------ resuming in a fresh process, exactly

-- the mean losses of the epochs and the final weights must be the same bits
local function check_same_run(a, b)
  check_same_numbers(a.history, b.history, "history")
  check_same_numbers(a.model, b.model, "weights")
  check_same_numbers(a.optimizer, b.optimizer, "optimizer")
  check_same_numbers(a.scheduler, b.scheduler, "scheduler")
  check_eq(a.rng, b.rng, "global random state")
  check_eq(a.loader_rng, b.loader_rng, "loader's random state")
end

test("docs/checkpoints.md: 1 epoch, then 2 more in a fresh process = 3 straight, bit for bit "
     .. "(Dropout, shuffle, Adam, StepLR)", function()
  local dir = tmpdir()
  write_file(dir .. "/train.lua", first_block("docs/checkpoints.md"))
  assert(os.execute("mkdir '" .. dir .. "/straight' '" .. dir .. "/resumed'"))
  local bin = nnlua_abs()
  local function train(sub, epochs)
    local out, ok = sh(string.format("cd '%s/%s' && '%s' ../train.lua %d", dir, sub, bin, epochs))
    assert(ok, out)
    return out
  end
  local straight = train("straight", 3)
  local first = train("resumed", 1)
  local rest = train("resumed", 3)
  check_eq(first .. rest, straight, "the epochs' printed losses")
  check_eq(select(2, rest:gsub("\n", "")), 2, "the fresh process trains epochs 2 and 3 only")
  local a = tensor.load(dir .. "/straight/checkpoint.safetensors")
  local b = tensor.load(dir .. "/resumed/checkpoint.safetensors")
  check_eq(a.epoch, 3)
  check_eq(#a.history, 3)
  check_same_run(b, a)
  check_eq(read_file(dir .. "/resumed/checkpoint.safetensors"),
           read_file(dir .. "/straight/checkpoint.safetensors"), "the checkpoint files")
  os.execute("rm -rf '" .. dir .. "'")
end)

------------------------------------------------------- the reference experiment

-- runs scripts/reference.lua with the arguments s; returns its output, asserting success
local function reference(s)
  local out, ok = sh(NNLUA .. " scripts/reference.lua " .. s)
  assert(ok, out)
  return out
end

-- adds to set the lines of a reference run's output that hold numbers,
-- without times: each epoch's, each run's best and test accuracy, the last
local function results(out, set)
  for line in out:gmatch("[^\n]+") do
    if line:find("^epoch") then
      set[(line:gsub("%s+time .*$", ""):gsub("%s+%(from the checkpoint%)$", ""))] = true
    elseif line:find("best validation accuracy", 1, true) or line:find("^test accuracy") then
      set[line] = true
    end
  end
  return set
end

-- a reference checkpoint without the epochs' times (history.seconds, in the
-- runs' histories), which differ from run to run
local function without_seconds(t)
  if type(t) ~= "table" then return t end
  local copy = {}
  for k, v in pairs(t) do
    if k ~= "seconds" then copy[k] = without_seconds(v) end
  end
  return copy
end

local function sorted_keys(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return table.concat(t, "\n")
end

test("scripts/reference.lua --help lists its options; bad arguments are refused", function()
  local out = reference("--help")
  for _, word in ipairs{"epochs", "train_samples", "figures_dir", "--save PATH", "--resume PATH", "--help"} do
    assert(out:find(word, 1, true), word .. " missing in:\n" .. out)
  end
  assert(not out:find("stop-after", 1, true), "--stop-after is for tests only:\n" .. out)
  local err, ok = sh(NNLUA .. " scripts/reference.lua many")
  check_eq(not ok, true)
  assert(err:find("epochs must be a whole number >= 1, got 'many'", 1, true), err)
end)

test("scripts/reference.lua --save, stopped twice and resumed in fresh processes, ends bit for bit "
     .. "like a run never stopped", function()
  local dir = tmpdir()
  local full = reference(string.format("2 300 '%s/f1' --save '%s/full.safetensors'", dir, dir))
  local ck = dir .. "/ck.safetensors"
  local run1 = reference(string.format("2 300 '%s/f2' --save '%s' --stop-after 1", dir, ck))
  local c = tensor.load(ck)
  check_eq(c.run, 1)
  check_eq(c.optimizer_name, "SGD")
  check_eq(c.epoch, 1)
  check_eq(c.optimizer.optimizer, "SGD")
  check_eq(table.concat(c.hidden, ","), "256,128")
  check_eq(math.type(c.batch_size), "integer")
  check_eq(c.adam_lr, 1e-3)
  -- the checkpoint continues only its own run
  local err, ok = sh(string.format("%s scripts/reference.lua 3 --resume '%s'", NNLUA, ck))
  check_eq(not ok, true)
  assert(err:find("the checkpoint is of a run with epochs = 2, not 3", 1, true), err)
  err, ok = sh(string.format("%s scripts/reference.lua --hidden 64 --resume '%s'", NNLUA, ck))
  check_eq(not ok, true)
  assert(err:find("the checkpoint is of a run with hidden = 256,128, not 64", 1, true), err)
  -- nor a run whose configuration the script's constants no longer name
  local other = dir .. "/other.safetensors"
  c.sgd_lr = 0.123
  tensor.save(c, other)
  err, ok = sh(string.format("%s scripts/reference.lua --resume '%s'", NNLUA, other))
  check_eq(not ok, true)
  assert(err:find("the checkpoint is of a run with SGD lr 0.123, batch size", 1, true), err)
  -- and a checkpoint of the older layout says so
  tensor.save({kind = "nnlua reference checkpoint", version = 1, epochs = 2, train_samples = 300}, other)
  err, ok = sh(string.format("%s scripts/reference.lua --resume '%s'", NNLUA, other))
  check_eq(not ok, true)
  assert(err:find("a checkpoint of layout version 1, written by an older scripts/reference.lua; "
                  .. "this one reads version 2 only", 1, true), err)
  c = nil
  -- into the Adam run, stopped after its first epoch
  local run2 = reference(string.format("2 300 '%s/f2' --resume '%s' --save '%s' --stop-after 2", dir, ck, ck))
  c = tensor.load(ck)
  check_eq(c.run, 2)
  check_eq(c.optimizer_name, "Adam")
  check_eq(c.epoch, 1)
  local run3 = reference(string.format("2 300 '%s/f2' --resume '%s' --save '%s'", dir, ck, ck))
  -- the last checkpoints are the same but for the epochs' wall-clock seconds
  local last, straight = tensor.load(ck), tensor.load(dir .. "/full.safetensors")
  check_eq(#last.history.seconds, 2)
  check_eq(#last.finished[1].history.seconds, 2)
  check_same_numbers(without_seconds(last), without_seconds(straight), "the last checkpoints")
  check_same_run(without_seconds(last), without_seconds(straight))
  local stopped = results(run3, results(run2, results(run1, {})))
  check_eq(sorted_keys(stopped), sorted_keys(results(full, {})), "printed results")
  assert(run1:find("stopped (--stop-after 1)", 1, true), run1)
  assert(run2:find("resumed from " .. ck .. " after epoch 1 of 2", 1, true), run2)
  for _, name in ipairs{"loss", "accuracy", "lr", "confusion"} do
    check_eq(read_file(dir .. "/f2/" .. name .. ".png"), read_file(dir .. "/f1/" .. name .. ".png"), name)
  end
  os.execute("rm -rf '" .. dir .. "'")
end)
