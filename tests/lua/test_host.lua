-- tests/lua/test_host.lua -- what nnlua adds to Lua's own libraries (bindings/l_std.c):
-- os.monotime, and print / io.write / file:write stepping around the progress bar.
-- The real-terminal test of the bar is tests/c/test_host.c (tmux).
-- Also the module globals loaded on first use (bindings/init.c), each case in a
-- fresh nnlua process, since this one has loaded most modules already.
local NNLUA = os.getenv("NNLUA") or "./nnlua"

------------------------------------------------------------------ os.monotime

test("os.monotime returns float seconds that never go back, resolving well under a millisecond", function()
  check_eq(math.type(os.monotime()), "float")
  local prev = os.monotime()
  local deadline, changes, smallest = prev + 5, 0, math.huge
  while changes < 200 and prev < deadline do
    local t = os.monotime()
    assert(t >= prev, string.format("went back from %.9f to %.9f", prev, t))
    if t > prev then changes, smallest = changes + 1, math.min(smallest, t - prev) end
    prev = t
  end
  check_eq(changes, 200, "distinct readings")
  assert(smallest < 1e-3, "smallest step " .. smallest .. " s")
end)

test("os.monotime follows the wall clock across a sleep (os.clock would not)", function()
  local s = os.time()
  repeat until os.time() ~= s              -- the start of a second of os.time
  local s0, t0 = os.time(), os.monotime()
  assert(os.execute("sleep 0.5"))          -- no CPU time spent: os.clock would barely move
  local slept = os.monotime() - t0
  repeat until os.time() ~= s0             -- the start of the next second
  local second = os.monotime() - t0
  assert(slept >= 0.5, "sleep 0.5 measured as " .. slept .. " s")
  -- one second of os.time; loose bounds for a busy shared machine
  assert(second > 0.5 and second < 2.5, "one second of os.time measured as " .. second .. " s")
end)

test("os.monotime is in the nnlua binary for every script, -e included", function()
  local p = io.popen(NNLUA .. " -e 'print(math.type(os.monotime()))' 2>&1")
  local out = p:read("a")
  assert(p:close(), out)
  check_eq(out, "float\n")
end)

----------------------------------------------------- print and writes by the bar

-- Writes the same output and runs the same failing calls while a bar is shown
-- (first batch of a loader) and after the loop; prints the probe results.
local SCRIPT = [[
local named = setmetatable({}, {__name = "My.Type"})
local function emit()
  print("print", 1, 2.5, nil, true)
  print(setmetatable({}, {__tostring = function() return "custom tostring" end}), named)
  io.write("io.write ", 1, " ", 2.5, "\n")
  io.stdout:write("stdout:write", "\n")
  io.write("partial ")
  io.write(3, " ")
  io.stdout:write("", "line\n")
  io.stderr:write("stderr:write\n")
  print()
end
local function probes()
  local r = {}
  local function try(f) local ok, e = pcall(f); r[#r + 1] = tostring(ok) .. " " .. tostring(e) end
  try(function() io.write({}) end)
  try(function() io.stdout:write({}) end)
  try(function() local w = io.stdout.write; w(io.stdout, true) end)
  try(function() io.stdout.write(nil, "x") end)
  try(function() print(setmetatable({}, {__tostring = function() return {} end})) end)
  try(function() print(setmetatable({}, {__tostring = function() error("from tostring") end})) end)
  try(function() local f = io.tmpfile(); f:close(); f:write("x") end)
  local obj = {}
  local ok, e = pcall(print, setmetatable({}, {__tostring = function() error(obj) end}))
  r[#r + 1] = tostring(ok) .. " " .. tostring(e == obj)
  r[#r + 1] = tostring(io.write("") == io.output()) .. " " .. select("#", io.stdout:write(""))
  local f = io.tmpfile()
  r[#r + 1] = tostring(f:write("a", 1) == f) .. " " .. (f:seek("set") and f:read("a"))
  f:close()
  return table.concat(r, "\n")
end
local inside
print("<<")
for x in data.DataLoader(data.TensorDataset(tensor.zeros(4, 1)), {batch_size = 1}):iter() do
  if not inside then emit(); inside = probes() end
end
print(">>")
emit()
local outside = probes()
print("probes: " .. (inside == outside and "same" or "differ:\n" .. inside .. "\n--"))
print(outside)
]]

local function run(env, redirect)
  local dir = tmpdir()
  write_file(dir .. "/bar.lua", SCRIPT)
  local p = io.popen(string.format("%s %s '%s/bar.lua' %s", env, NNLUA, dir, redirect))
  local out = p:read("a")
  local ok = p:close()
  os.execute("rm -rf '" .. dir .. "'")
  assert(ok, out)
  return out
end

local EMITTED = "print\t1\t2.5\tnil\ttrue\ncustom tostring\tMy.Type: 0x%x+\n" ..
                "io.write 1 2.5\nstdout:write\npartial 3 line\nstderr:write\n\n"

-- what a bare Lua 5.4 says for each probe (the line numbers are in SCRIPT)
local PROBES = {
  "false [^\n]*:16: bad argument #1 to 'write' %(string expected, got table%)",
  "false [^\n]*:17: bad argument #1 to 'write' %(string expected, got table%)",
  "false [^\n]*:18: bad argument #2 to 'w' %(string expected, got boolean%)",
  "false [^\n]*:19: bad argument #1 to 'write' %(FILE%* expected, got nil%)",
  "false [^\n]*:20: '__tostring' must return a string",
  "false [^\n]*:21: from tostring",
  "false [^\n]*:22: attempt to use a closed file",
  "false true", "true 1", "true a1",
}

test("print and writes under a progress bar: same output and errors as without, each line alone", function()
  local out = run("NNLUA_PROGRESS=1", "2>&1")   -- stdout and stderr the same pipe: the bar's line
  local clean = out:gsub("\r[^\r\n]-\027%[K", "")   -- every drawing and clearing of the bar
  local inside, after = clean:match("^<<\n(.-)>>\n(.*)$")
  assert(inside, out)
  assert(inside:match("^" .. EMITTED .. "\n$"), inside)   -- + the "\n" ending the final bar
  -- after the loop, unbuffered stderr overtakes what io.write left in stdout's buffer
  local unordered = EMITTED:gsub("stderr:write\n", "")
  assert(after:gsub("stderr:write\n", ""):match("^" .. unordered .. "probes: same\n"), after)
  local i = 0
  for line in after:match("probes: same\n(.*)$"):gmatch("[^\n]+") do
    i = i + 1
    assert(PROBES[i] and line:match("^" .. PROBES[i] .. "$"), "probe " .. i .. ": " .. line)
  end
  check_eq(i, #PROBES, "probes")
  -- the bar is cleared right before each line and drawn again right after it
  for _, line in ipairs{"print\t1\t2.5\tnil\ttrue\n", "io.write 1 2.5\n", "stdout:write\n", "stderr:write\n"} do
    assert(out:find("\r\027[K" .. line .. "\r1/4 [", 1, true), "around " .. line .. ": " .. out)
  end
  -- a partial line keeps the bar away until it ends
  assert(out:find("\r\027[Kpartial 3 line\n\r1/4 [", 1, true), out)
end)

test("print and writes without a bar, or with stdout away from the bar, are untouched", function()
  local plain = run("NNLUA_PROGRESS=0", "2>&1")
  assert(not plain:find("[\r\027]"), plain)
  -- unbuffered stderr overtakes what io.write left in stdout's buffer (a pipe)
  plain = plain:gsub("stderr:write\n", "")
  local unordered = EMITTED:gsub("stderr:write\n", "")
  local inside, after = plain:match("^<<\n(.-)>>\n(.*)$")
  assert(inside and inside:match("^" .. unordered .. "$") and after:match("^" .. unordered .. "probes: same\n"), plain)
  -- the bar on stderr, stdout a file of its own: stdout is byte for byte the same
  local apart = run("NNLUA_PROGRESS=1", "2>/dev/null")
  local alone = run("NNLUA_PROGRESS=0", "2>/dev/null")
  local function fixed(out) return (out:gsub("0x%x+", "0x"):gsub("[^\n]*/bar%.lua:", "bar.lua:")) end
  check_eq(fixed(apart), fixed(alone))
end)

--------------------------------------------------- module globals, loaded on first use

local LAZY = {"nn", "optim", "data", "datasets", "transforms", "plot"}

-- runs the script in a fresh nnlua (from the folder dir when given); returns
-- stdout and stderr together, and whether it exited with 0
local function fresh(script, dir)
  local own = dir == nil
  dir = dir or tmpdir()
  write_file(dir .. "/main.lua", script)
  local nnlua = NNLUA
  if nnlua:sub(1, 1) ~= "/" then
    local p = io.popen("pwd")
    nnlua = p:read("l") .. "/" .. nnlua
    p:close()
  end
  local p = io.popen(string.format("cd '%s' && '%s' main.lua 2>&1", dir, nnlua))
  local out = p:read("a")
  local ok = p:close()
  if own then os.execute("rm -rf '" .. dir .. "'") end
  return out, ok
end

local function expect_output(script, want)
  local out, ok = fresh(script)
  assert(ok, out)
  check_eq(out, want)
end

test("the module globals (in-process): each is require of its name", function()
  for _, name in ipairs(LAZY) do
    check_eq(_G[name], require(name), name)
    check_eq(rawget(_G, name), require(name), name)
  end
end)

test("nnlua -e '' loads none of the six Lua modules", function()
  local p = io.popen(NNLUA .. [[ -e 'for _, n in ipairs{"nn", "optim", "data", "datasets", "transforms", "plot"} do
    io.write(tostring(package.loaded[n]), " ", tostring(rawget(_G, n)), " ") end' 2>&1]])
  local out = p:read("a")
  assert(p:close(), out)
  check_eq(out, ("nil nil "):rep(6))
end)

test("a global loads its module on first read, as the table require returns", function()
  expect_output([[
print(rawget(_G, "nn") == nil, package.loaded.nn == nil)
local n = nn
print(type(n), type(n.Linear), n == require "nn", rawget(_G, "nn") == n, package.loaded.nn == n)
print(rawget(_G, "optim") == nil, undeclared_name, _G[1], _G[true])
for _, name in ipairs{"nn", "optim", "data", "datasets", "transforms", "plot"} do
  assert(_G[name] == require(name) and rawget(_G, name) == require(name), name)
end
]], "true\ttrue\ntable\ttable\ttrue\ttrue\ttrue\ntrue\tnil\tnil\tnil\n")
end)

test("require before the global: the global is the same table", function()
  expect_output([[
local o = require "optim"
print(rawget(_G, "optim") == nil, optim == o, rawget(_G, "optim") == o, type(optim.SGD))
]], "true\ttrue\ttrue\ttable\n")
end)

test("a global assigned before its first read wins, and its module is not loaded", function()
  expect_output([[
data = 5
nn = nil
print(data, nn, package.loaded.data, package.loaded.nn)
data = nil
print(data, nn, package.loaded.data)
]], "5\tnil\tnil\tnil\nnil\tnil\tnil\n")
end)

test("strict.lua's idiom keeps every module and errors on undeclared globals", function()
  expect_output([[
local mt = getmetatable(_G)
if mt == nil then mt = {}; setmetatable(_G, mt) end
mt.__declared = {}
mt.__newindex = function(t, n, v)
  if not mt.__declared[n] then error("assign to undeclared variable '" .. n .. "'", 2) end
  rawset(t, n, v)
end
mt.__index = function(_, n) error("variable '" .. n .. "' is not declared", 2) end
print(getmetatable(_G) == mt, type(nn.Linear), type(data.DataLoader), type(optim.SGD))
print(type(datasets), type(transforms), type(plot), tensor ~= nil)
print(pcall(function() return undeclared_x end))
print(pcall(function() undeclared_y = 1 end))
]], "true\ttable\ttable\ttable\ntable\ttable\ttable\ttrue\n" ..
    "false\tmain.lua:11: variable 'undeclared_x' is not declared\n" ..
    "false\tmain.lua:12: assign to undeclared variable 'undeclared_y'\n")
end)

test("getmetatable and setmetatable, base and debug, on _G load every module first", function()
  expect_output([[
print(getmetatable(_G), package.loaded.plot ~= nil, rawget(_G, "plot") == require "plot")
]], "nil\ttrue\ttrue\n")
  expect_output([[
print(debug.getmetatable(_G), rawget(_G, "transforms") == require "transforms")
]], "nil\ttrue\n")
  expect_output([[
local mt = {}
print(setmetatable(_G, mt) == _G, getmetatable(_G) == mt, type(nn.Linear))
]], "true\ttrue\ttable\n")
  expect_output([[
print(debug.setmetatable(_G, nil) == _G, getmetatable(_G), type(optim.SGD), rawget(_G, "datasets") ~= nil)
]], "true\tnil\ttable\ttrue\n")
  -- an assigned name stays the script's
  expect_output([[
data = 5
setmetatable(_G, nil)
print(data, type(nn), type(datasets))
]], "5\ttable\ttable\n")
  -- and they stay Lua's own for everything else
  expect_output([[
print(getmetatable("").__index == string, getmetatable({}), debug.getmetatable(1))
print(pcall(getmetatable))
print(pcall(setmetatable, _G, 5))
print(pcall(setmetatable, setmetatable({}, {__metatable = "no"}), {}))
print(pcall(debug.setmetatable, io.stdout, nil))
]], "true\tnil\tnil\n" ..
    "false\tbad argument #1 to 'getmetatable' (value expected)\n" ..
    "false\tbad argument #2 to 'setmetatable' (nil or table expected, got number)\n" ..
    "false\tcannot change a protected metatable\n" ..
    "false\tdebug.setmetatable: the metatable of a userdata belongs to the C code that made it\n")
end)

test("a module that fails to load raises at the global's read, every time", function()
  expect_output([[
package.preload.plot = function() error("plot is broken", 0) end
print(pcall(function() return plot end))
print(pcall(function() return plot.figure end))
print(rawget(_G, "plot"), type(nn))
]], "false\tplot is broken\nfalse\tplot is broken\nnil\ttable\n")
end)

test("a failing call that loads nn on first use reports the script's line", function()
  local out, ok = fresh("local function build()\n  local m = nn.Linear(3, 'x')\n  return m\nend\nbuild()\n")
  assert(not ok, out)
  assert(out:find("main.lua:2: nn.Linear: out_features must be a whole number", 1, true), out)
  assert(not out:find("stdlib/", 1, true) and not out:find("[C]", 1, true), out)
  assert(out:find("main.lua:5: in main chunk", 1, true), out)
end)

test("a script's data.lua first in package.path does not replace the global data", function()
  local dir = tmpdir()
  write_file(dir .. "/data.lua", "return {mine = true}\n")
  local out, ok = fresh([[
package.path = "./?.lua;" .. package.path
print(data.mine, type(data.DataLoader), require "data" == data)
]], dir)
  os.execute("rm -rf '" .. dir .. "'")
  assert(ok, out)
  assert(out:find("nil\ttable\ttrue\n", 1, true), out)
  assert(out:find("warning: require \"data\" loads nnlua's own data", 1, true), out)
end)
