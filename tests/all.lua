-- tests/all.lua -- the Lua test runner: nnlua tests/all.lua tests/lua/test_*.lua [-k filter]
--
-- Each test file calls the globals defined here:
--   test(name, fn)                 a test; any error fails it
--   expect_error(fn, substring)    fn must raise an error whose message contains substring;
--                                  returns the message as nnlua's error handler shows it
--   check_close(a, b, tol, what)   numbers or tensors equal within tol (max abs difference)
--   check_eq(a, b, what)           a == b
--   status_kb(field)               a field of /proc/self/status in kB ("VmRSS", "VmPeak")
--   read_file(path), write_file(path, s)   whole files as strings
--   tmpdir()                       a new empty folder; the test removes it
--   check_has(text, s, what)       text contains s (no patterns)
--   command_stdout(cmd)            its standard output, trailing newline removed
--   run_command(cmd)               its output (stdout and stderr), whether it succeeded, its exit code
--   copy_param_groups(from, to)    an optimizer's group numbers into another's
-- Prints "lua: N passed, N failed" at the end; exits 1 on any failure.
local passed, failed = 0, 0
local filter

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function check_eq(a, b, what)
  if a ~= b then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", fmt(b), fmt(a)), 2)
  end
end

local function maxdiff(a, b)
  if type(a) == "number" and type(b) == "number" then
    if a == b then return 0 end
    return math.abs(a - b)
  end
  if type(a) == "table" then a = tensor.new(a) end
  if type(b) == "table" then b = tensor.new(b) end
  if type(a) == "number" then a = tensor.new(a) end
  if type(b) == "number" then b = tensor.new(b) end
  local sa, sb = table.concat(a.shape, ", "), table.concat(b.shape, ", ")
  if sa ~= sb then error(string.format("shapes [%s] and [%s] differ", sa, sb), 3) end
  if a:numel() == 0 then return 0 end
  local d = (a - b):abs():max():item()
  -- equal infinities subtract to NaN: count them as equal
  if d ~= d then
    local same = a:eq(b):sum():item() + ((a:ne(a)):mul(b:ne(b))):sum():item()
    local bad = a:numel() - same
    local finite = (a - b):abs():masked_fill(a:eq(b), 0)
    d = finite:max():item()
    if bad == 0 then return 0 end
  end
  return d
end

function check_close(a, b, tol, what)
  tol = tol or 1e-6
  local d = maxdiff(a, b)
  if not (d <= tol) then
    error(string.format("%slargest difference %.9g exceeds %g", what and (what .. ": ") or "", d, tol), 2)
  end
end

-- errors pass through nnlua's message handler (as under the host), so their
-- locations are the test's lines, not stdlib's
local errmessage = require("nnlua.errors").message
function expect_error(fn, substring)
  local ok, err = xpcall(fn, errmessage)
  if ok then error("expected an error containing " .. fmt(substring) .. ", got none", 2) end
  err = tostring(err)
  if substring and not err:find(substring, 1, true) then
    error("expected an error containing " .. fmt(substring) .. ", got " .. fmt(err), 2)
  end
  return err
end

function status_kb(field)
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end

function read_file(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function write_file(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

-- copies the numbers (and betas) of from's param groups into to's: an
-- optimizer put in the state of another run, as a checkpoint would
function copy_param_groups(from, to)
  for i, g in ipairs(from.param_groups) do
    for k, v in pairs(g) do
      if type(v) == "number" then to.param_groups[i][k] = v
      elseif k == "betas" then to.param_groups[i][k] = {table.unpack(v)} end
    end
  end
end

-- check_has(text, s, what) -- text must contain s (plainly); the error shows the text
function check_has(text, s, what)
  if not text:find(s, 1, true) then
    error(string.format("%s: %q not found in:\n%s", what or "text", s, text), 2)
  end
end

-- run_command(cmd) -> its output (standard output and error together), whether
-- it succeeded, and its exit code
function run_command(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok == true, code
end

-- command_stdout(cmd) -> its standard output, the trailing newline removed
function command_stdout(cmd)
  local f = assert(io.popen(cmd))
  local s = f:read("a")
  f:close()
  return (s:gsub("\n$", ""))
end

function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p '" .. p .. "'"))
  return p
end

local current_file
function test(name, fn)
  local full = current_file .. ": " .. name
  if filter and not full:find(filter, 1, true) then return end
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAIL ", full, "\n  ", tostring(err):gsub("\n", "\n  "), "\n")
  end
end

local files = {}
local i = 1
while arg[i] do
  if arg[i] == "-k" then filter = arg[i + 1]; i = i + 1 else files[#files + 1] = arg[i] end
  i = i + 1
end
for _, f in ipairs(files) do
  current_file = f:match("([^/]+)%.lua$") or f
  local chunk, err = loadfile(f)
  if not chunk then
    failed = failed + 1
    io.stderr:write("FAIL ", f, ": ", err, "\n")
  else
    local ok, e = xpcall(chunk, debug.traceback)
    if not ok then
      failed = failed + 1
      io.stderr:write("FAIL ", f, " (top level): ", tostring(e), "\n")
    end
  end
end
print(string.format("lua: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
