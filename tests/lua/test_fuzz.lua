-- The three Lua fuzzers of tests/fuzz/ (README.md there), each a short fixed
-- run as a child process: random calls into the whole API under --sandbox
-- (api.lua), ops on strided views against contiguous copies (views.lua), and
-- tensors changed between forward and backward (saved.lua). make fuzz-lua runs
-- many seeds of each under the ASan build.

local NNLUA = os.getenv("NNLUA") or "./nnlua"

local sh = run_command

test("fuzz: random calls into the API, sandboxed, end with a summary and no crash", function()
  local dir = tmpdir()
  local out, ok = sh(string.format("%s --sandbox --out %s --max-memory 2G --max-time 300 tests/fuzz/api.lua 7 3000 log.txt",
                                   NNLUA, dir))
  assert(ok, out)
  local calls, returned, raised, targets = out:match("api fuzz seed 7: (%d+) calls, (%d+) returned, (%d+) raised errors, (%d+) targets")
  assert(calls, out)
  check_eq(tonumber(calls) == tonumber(returned) + tonumber(raised), true, "calls = returned + raised")
  -- most calls are nonsense and must be refused, but some must go through
  check_eq(tonumber(returned) > 100, true, "calls that returned: " .. returned)
  check_eq(tonumber(targets) > 300, true, "targets found: " .. targets)
  -- the log names each call before it runs: as many lines as calls
  local n = 0
  for _ in io.lines(dir .. "/log.txt") do n = n + 1 end
  check_eq(n, tonumber(calls), "lines in the call log")
end)

test("fuzz: ops on strided views give what they give on contiguous copies", function()
  for _, seed in ipairs{1, 2} do
    local out, ok = sh(string.format("%s tests/fuzz/views.lua %d 250", NNLUA, seed))
    assert(ok, out)
    local n = out:match("views fuzz seed %d+: (%d+) comparisons, 0 mismatches")
    assert(n and tonumber(n) > 300, out)
  end
end)

test("fuzz: a tensor changed before backward is refused or does not matter", function()
  local out, ok = sh(NNLUA .. " tests/fuzz/saved.lua 1 300")
  assert(ok, out)
  local compared, refused = out:match("saved fuzz seed 1: (%d+) gradients compared, (%d+) refused by backward, 0 mismatches")
  assert(compared and tonumber(compared) > 50 and tonumber(refused) > 50, out)
end)

test("fuzz: the view fuzzer fails on a wrong number", function()
  -- the checker itself: a copy of views.lua whose view side is off by 1e-3
  local dir = tmpdir()
  local src = read_file("tests/fuzz/views.lua")
  local bad, n = src:gsub("local ok1, r1 = pcall%(f, v%)",
    "local ok1, r1 = pcall(function(x) local r = f(x); if tensor.is_tensor(r) then return r:clone():add_(1e-3) end return r end, v)")
  check_eq(n, 1, "the line to change")
  write_file(dir .. "/views_bad.lua", bad)
  write_file(dir .. "/util.lua", read_file("tests/fuzz/util.lua"))
  local out, ok = sh(string.format("%s %s/views_bad.lua 1 50", NNLUA, dir))
  check_eq(not ok, true, "the broken copy must fail:\n" .. out)
  assert(out:find("on the view and", 1, true), out)
end)
