-- test_hostile_life.lua -- issue 13, lifetimes: a script that frees, closes or
-- swaps what a running C function uses gets errors, never a crash (run under
-- make test-asan); internals in the registry and in C upvalues validate; the
-- generator refuses the state it cannot leave; the host keeps nothing alive.

local dataC = require "data._C"
local plotC = require "plot._C"

local function tensor_gc(x) return debug.getmetatable(x).__gc end

-- a table whose every field read (and #) runs f first
local function trap(f, len, value)
  return setmetatable({}, {
    __len = function() f(); return len end,
    __index = function(_, k) f(); return value(k) end,
  })
end

-- ---------------------------------------------------------------- tensors

test("__gc called from a proxy while tensor.cat holds the tensor: no crash", function()
  local x = tensor.ones(1000)
  local gc = tensor_gc(x)
  local list = trap(function() gc(x); collectgarbage() end, 3, function() return x end)
  -- x is closed by the first read, so element 1 is no longer a tensor
  expect_error(function() tensor.cat(list) end, "element 1")
  expect_error(function() return x + 1 end, "tensor has been freed")
end)

test("a proxy list of fresh tensors survives collections inside cat and stack", function()
  for _, f in ipairs{tensor.cat, tensor.stack} do
    local list = setmetatable({}, {
      __len = function() return 3 end,
      __index = function(_, i) collectgarbage(); return tensor.full({50}, i) end,
    })
    local r = f(list)
    collectgarbage()
    check_eq(r:sum():item(), 50 * (1 + 2 + 3))
  end
end)

test("backward's option table frees the loss and the leaf: no crash", function()
  local y = tensor.ones(3):requires_grad_()
  local l = (y * 2):sum()
  local opts = setmetatable({}, {__index = function()
    tensor_gc(l)(l); tensor_gc(y)(y); collectgarbage(); collectgarbage()
    return false
  end})
  l:backward(opts)        -- both were in use: they stay valid until backward returns
  expect_error(function() return l + 1 end, "tensor has been freed")
  expect_error(function() return y:sum() end, "tensor has been freed")
end)

test("x:sum's option table and a hook free x; <close> and __close by hand", function()
  local x = tensor.ones(4, 4)
  local opts = setmetatable({}, {__index = function() tensor_gc(x)(x); collectgarbage() end})
  check_eq(x:sum(opts):item(), 16)
  local z = tensor.ones(5)
  debug.sethook(function() debug.sethook(); getmetatable(z).__close(z); collectgarbage() end, "c")
  expect_error(function() return z:sum() end, "tensor has been freed")  -- closed as sum begins
  debug.sethook()
  local w = tensor.ones(2)
  local gotit = setmetatable({}, {__index = function() do local c <close> = w end collectgarbage() end})
  check_eq(w:mean(gotit):item(), 1)
  expect_error(function() return w:mean() end, "tensor has been freed")
  expect_error(function() tensor_gc(w)(42) end, "nn.Tensor expected")
end)

test("closing twice, closing in a coroutine, closing an unfinished tensor", function()
  local x = tensor.ones(3)
  local gc = tensor_gc(x)
  gc(x); gc(x)
  check_eq(tostring(x), "tensor(<freed>)")
  local y = tensor.ones(3)
  coroutine.wrap(function() local c <close> = y end)()   -- deferred to the collector
  expect_error(function() return y * 2 end, "tensor has been freed")
  collectgarbage()
  -- a fresh tensor closed while its constructor fills it (a proxy nested table)
  local made
  local rows = setmetatable({}, {__len = function() return 2 end, __index = function(_, i)
    collectgarbage(); return {i, i}
  end})
  made = tensor.new(rows)
  check_eq(made:sum():item(), 6)
end)

test("a closed tensor still frees its memory (at once when nothing uses it)", function()
  collectgarbage(); collectgarbage()
  local before = collectgarbage("count")
  for _ = 1, 200 do
    local t <close> = tensor.zeros(1000)
  end
  collectgarbage(); collectgarbage()
  check_eq(collectgarbage("count") - before < 8, true, "Lua heap growth in KB")
end)

-- ------------------------------------------------ image sets and the loader

local function tiny_set()
  local dir = tmpdir()
  local paths, labels = {}, {}
  for i = 1, 4 do
    paths[i] = dir .. "/" .. i .. ".png"
    dataC.write_png(paths[i], tensor.full({3, 3}, 10 * i))
    labels[i] = i % 2 + 1
  end
  local set = dataC.imageset_png(paths, labels)
  os.execute("rm -rf '" .. dir .. "'")
  return set
end

test("imageset_png reads its lists raw: a proxy's metamethods never run inside the call", function()
  local dir = tmpdir()
  dataC.write_png(dir .. "/a.png", tensor.full({2, 2}, 7))
  local ran = false
  local paths = setmetatable({}, {__len = function() ran = true; return 3 end, __index = function()
    ran = true; collectgarbage(); return dir .. "/" .. "a" .. ".png"
  end})
  expect_error(function() dataC.imageset_png(paths, {1, 1, 1}) end, "no image files")
  check_eq(ran, false)
  local set = dataC.imageset_png({dir .. "/a.png", dir .. "/a.png"}, {1, 2})
  check_eq(#set, 2)
  os.execute("rm -rf '" .. dir .. "'")
end)

test("the DataLoader's batch call: steps read raw; a closed set, index tensor and generator", function()
  local set = tiny_set()
  local ix = tensor.arange(4)
  local gc = debug.getmetatable(set).__gc
  local ran = false
  local step = setmetatable({}, {__index = function() ran = true; gc(set); return "totensor" end})
  expect_error(function() set:batch(ix, 1, 4, {step}) end, "transform step")
  check_eq(ran, false, "the step's __index did not run")
  local x, y = set:batch(ix, 1, 4, {{kind = "totensor", generator = tensor.Generator(3)}})
  check_eq(x.shape[1], 4)
  check_eq(y:numel(), 4)
  gc(set)                                         -- by hand: closed, freed when nothing holds it
  expect_error(function() set:batch(tensor.arange(4), 1, 4, {}) end, "freed")
  tensor_gc(ix)(ix)
  expect_error(function() return ix:sum() end, "tensor has been freed")
  local again = tiny_set()
  gc(again); gc(again)
  check_eq(tostring(again), "ImageSet (freed)")
end)

-- ----------------------------------------------------------------- figures

test("a figure closed from inside save's and pixels' arguments", function()
  local fig = plotC.lines{series = {{y = {1, 2, 3}}}, width = 200, height = 150}
  local dir = tmpdir()
  local path = setmetatable({}, {__tostring = function() return "x" end})
  expect_error(function() plotC.save(fig, path) end, "string expected")
  plotC.close(fig); plotC.close(fig)
  expect_error(function() plotC.pixels(fig) end, "the figure is closed")
  local fig2 = plotC.lines{series = {{y = {1, 2}}}, width = 200, height = 150}
  do local c <close> = fig2 end
  expect_error(function() plotC.size(fig2) end, "closed")
  os.execute("rm -rf '" .. dir .. "'")
end)

test("plot option strings from a spec proxy survive collections", function()
  local spec = setmetatable({}, {__index = function(_, k)
    collectgarbage()
    if k == "title" then return ("t"):rep(3) .. "itle" end
    if k == "xlabel" then return "x" .. ("l"):rep(2) end
    if k == "series" then return {{y = {1, 2, 3}, label = "a" .. "b"}} end
    if k == "width" then return 220 end
    if k == "height" then return 190 end
  end})
  local fig = plotC.lines(spec)
  check_eq(select(2, plotC.size(fig)), 220)
  local imgs = tensor.rand(2, 1, 4, 4)
  local g = plotC.image_grid{images = imgs, rows = 1, cols = 2, width = 200, height = 160,
                             labels = {"one" .. "1", 2}, mean = {0.5}, std = {0.25}}
  check_eq(plotC.size(g), "image_grid")
end)

-- --------------------------------------------------------------- internals

test("the context cannot be freed from a script, nor replaced under the bindings", function()
  local reg = debug.getregistry()
  local c = reg["nnlua.context"]
  expect_error(function() debug.getmetatable(c).__gc(c) end, "freed only when the state closes")
  expect_error(function() debug.getmetatable(c).__gc(tensor.ones(1)) end, "nn.Context expected")
  check_eq((tensor.ones(2) + 1):sum():item(), 4)
  expect_error(function() debug.setupvalue(tensor.zeros, 1, "no context") end,
               "cannot change an upvalue of a C function")
  expect_error(function() debug.setupvalue(print, 2, function() end) end, "C function")
  local name, v = debug.getupvalue(tensor.zeros, 1)   -- reading is harmless
  check_eq(name, "")
  check_eq(v, c)
end)

test("registry metatables swapped or replaced: errors, never one type for another", function()
  local reg = debug.getregistry()
  local tmt, cmt, smt = reg["nn.Tensor"], reg["nn.Context"], reg["nn.ImageSet"]
  local x = tensor.ones(2)
  reg["nn.Tensor"] = smt
  local ok, err = pcall(function() return x + 1 end)
  check_eq(ok, false)
  reg["nn.Tensor"] = cmt
  expect_error(function() return tensor.cat{reg["nnlua.context"]} end, "expected a tensor")
  reg["nn.Tensor"] = 42
  expect_error(function() return tensor.zeros(2) end, "metatable 'nn.Tensor' was replaced")
  reg["nn.Tensor"] = tmt
  check_eq((x + 1):sum():item(), 4)
  reg["nn.ImageSet"] = tmt
  expect_error(function() return dataC.imageset_png({"/nonexistent.png"}, {1}) end, "")
  reg["nn.ImageSet"] = smt
  reg["nn.SaveState"] = 7
  expect_error(function() tensor.save(tensor.ones(1), os.tmpname()) end, "")
  reg["nn.SaveState"] = nil
  local p = os.tmpname()
  tensor.save({a = tensor.ones(2)}, p)
  check_eq(tensor.load(p).a:sum():item(), 2)
  os.remove(p)
  reg["nnlua.context"] = tensor.ones(1)
  expect_error(function() package.preload["nn._C"]() end, "'nnlua.context' was replaced")
end)

test("a changed nnlua.methods entry does not crash a misuse message", function()
  local reg = debug.getregistry()
  local x = tensor.ones(2)
  local m = reg["nnlua.methods"]
  local sum = x.sum
  local keep = m[sum]
  m[sum] = "nocolon"
  expect_error(function() x.sum() end, "bad argument #1")
  m[sum] = keep
  reg["nnlua.methods"] = 5
  expect_error(function() x.sum() end, "bad argument #1")
  reg["nnlua.methods"] = m
  expect_error(function() x.sum() end, "with a colon")
end)

test("debug: no metatables on userdata, no writes to C frames, no reads of C temporaries", function()
  local x = tensor.ones(2)
  expect_error(function() debug.setmetatable(io.stdout, debug.getmetatable(x)) end,
               "belongs to the C code")
  expect_error(function() debug.setmetatable(x, nil) end, "belongs to the C code")
  check_eq(debug.setmetatable(10, nil), 10)
  check_eq(select(2, debug.getlocal(1, 1)) ~= nil, true)            -- Lua frames as before
  local seen = {}
  table.sort({3, 2, 1}, function(a, b)
    seen[#seen + 1] = debug.getlocal(2, 1)                         -- sort's own frame
    return a < b
  end)
  check_eq(#seen, 0)
  local tbl = setmetatable({}, {__index = function()
    local ok, e = pcall(debug.setlocal, 3, 1, nil)   -- 1 pcall, 2 this function, 3 sum
    check_eq(ok, false)
    check_eq(tostring(e):find("stack of a C function", 1, true) ~= nil, true, e)
    return nil
  end})
  x:sum(tbl)
  local co = coroutine.create(function(a) local b = a + 1; coroutine.yield(b) end)
  coroutine.resume(co, 1)
  check_eq(select(2, debug.getlocal(co, 1, 2)), 2)
  check_eq(debug.setlocal(co, 1, 2, 9), "b")
  check_eq(select(2, debug.getlocal(co, 1, 2)), 9)
  check_eq(debug.getlocal(function(p, q) end, 2), "q")
  -- save's private box: its __gc by hand does nothing
  local box
  local key = setmetatable({}, {__tostring = function()
    box = debug.getregistry()["nn.SaveState"]
    return "k"
  end})
  expect_error(function() tensor.save({[key] = 1}, os.tmpname()) end, "keys must be strings")
  check_eq(type(box), "table")
end)

test("tensor.save over a table whose keys go away while it is walked", function()
  local p = os.tmpname()
  local t = {}
  for i = 1, 50 do t["key" .. i] = i end
  local junk = setmetatable({}, {__gc = function() for k in pairs(t) do t[k] = nil end end})
  junk = nil
  tensor.save(t, p)          -- a finalizer may clear t during the walk
  local back = tensor.load(p)
  check_eq(type(back), "table")
  os.remove(p)
end)

-- --------------------------------------------------------------- generators

test("a generator refuses the all-zero state it could never leave", function()
  local g = tensor.Generator(1)
  local zeros = string.rep("\0", 32)
  expect_error(function() g:set_state(zeros) end, "all 32 bytes are zero")
  check_eq(tensor.randperm(5, g):numel(), 5)
  expect_error(function() tensor.set_rng_state(zeros) end, "all 32 bytes are zero")
  expect_error(function() tensor.set_rng_state("short") end, "expected 32 bytes")
  local s = tensor.get_rng_state()
  local a = tensor.rand(3)
  tensor.set_rng_state(s)
  check_close(tensor.rand(3), a, 0)
  check_eq(#s, 32)
  for _, seed in ipairs{0, 1, -1, math.mininteger, math.maxinteger, 0x9e3779b97f4a7c15} do
    g:manual_seed(seed)
    check_eq(g:get_state() ~= zeros, true, "seed " .. seed)
    tensor.manual_seed(seed)
    check_eq(tensor.get_rng_state() ~= zeros, true, "global seed " .. seed)
  end
  g:set_state(string.rep("\0", 31) .. "\1")       -- one bit is a valid state
  check_eq(tensor.randperm(20, g):numel(), 20)
end)

-- ----------------------------------------------------------------- the host

-- Lua 5.4.4's test suite (gc.lua, the weak-table block) requires that after a
-- full collection everything a block made is gone: within 1 KB. nnlua's own
-- per-call machinery (print's wrapper, the message handler, the bindings'
-- boxes) must not keep anything either.
test("the host keeps nothing alive across a full collection", function()
  collectgarbage(); collectgarbage()
  local m = collectgarbage("count")
  do
    local a = setmetatable({}, {__mode = "kv"})
    a[string.rep("a", 2^16)] = 25
    a[{}] = 14
    local x = tensor.ones(10)
    local _ = (x * 2):sum():item()
    pcall(function() return x + {} end)
    expect_error(function() error("boom") end, "boom")
    io.stdout:write("")
    print(string.rep("-", 0))
    local p = os.tmpname()
    tensor.save({w = x}, p)
    tensor.load(p)
    os.remove(p)
    a[next(a)] = nil
  end
  collectgarbage(); collectgarbage()
  local grew = collectgarbage("count") - m
  check_eq(grew <= 1, true, string.format("kept %.2f KB", grew))
end)
