-- tests/lua/test_host.lua -- what nnlua adds to Lua's own libraries (bindings/l_std.c):
-- os.monotime, and print / io.write / file:write stepping around the progress bar.
-- The real-terminal test of the bar is tests/c/test_host.c (tmux).
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
