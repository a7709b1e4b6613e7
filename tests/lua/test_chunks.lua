-- The host loads Lua source only: a binary chunk (string.dump, luac) is
-- trusted by Lua's VM as it is, and a crafted one can read and write memory
-- at will. load, loadfile, dofile and require refuse them (vm/guard.c); text
-- chunks load as in stock Lua, environments included.
local dumped = string.dump(function() return 42 end)

test("load refuses a binary chunk, and a mode that asks for one", function()
  local f, err = load(dumped)
  check_eq(f, nil)
  assert(err:find("attempt to load a binary chunk", 1, true), err)
  f, err = load(dumped, "x", "bt")
  check_eq(f, nil)
  expect_error(function() load(dumped, "x", "b") end, "load: nnlua loads Lua source only (mode \"b\"")
  local parts, i = {dumped:sub(1, 3), dumped:sub(4)}, 0   -- through a reader function too
  f = load(function() i = i + 1; return parts[i] end)
  check_eq(f, nil)
end)

test("text chunks load as in stock Lua: names, modes, environments", function()
  check_eq(load("return 5")(), 5)
  check_eq(load("return x", "=n", "t", {x = 7})(), 7)
  check_eq(load("return x", "=n", nil, {x = 8})(), 8)
  check_eq(load("return tensor ~= nil")(), true, "no env argument: the globals")
  local f, err = load("return +", "=chunk")
  check_eq(f, nil)
  assert(err:find("chunk:1:", 1, true), err)
end)

test("loadfile, dofile and require refuse binary files and load text ones", function()
  local dir = tmpdir()
  write_file(dir .. "/bin.lua", dumped)
  write_file(dir .. "/txt.lua", "return ... or 'text'")
  local f, err = loadfile(dir .. "/bin.lua")
  check_eq(f, nil)
  assert(err:find("binary chunk", 1, true), err)
  expect_error(function() loadfile(dir .. "/bin.lua", "b") end, "loadfile: nnlua loads Lua source only")
  expect_error(function() dofile(dir .. "/bin.lua") end, "attempt to load a binary chunk")
  check_eq(loadfile(dir .. "/txt.lua")(), "text")
  check_eq(loadfile(dir .. "/txt.lua", "t", {})(), "text")
  check_eq(dofile(dir .. "/txt.lua"), "text")
  local saved = package.path
  package.path = dir .. "/?.lua;" .. saved
  local ok, msg = pcall(require, "bin")
  package.path = saved
  assert(not ok and msg:find("error loading module 'bin'", 1, true) and msg:find("binary chunk", 1, true), msg)
  package.path = dir .. "/?.lua;" .. saved
  local v = require "txt"
  package.path = saved
  check_eq(v, "txt", "require passes the module name")
  package.loaded.txt = nil
  os.execute("rm -rf '" .. dir .. "'")
end)
