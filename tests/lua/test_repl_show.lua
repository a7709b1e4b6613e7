-- nnlua.repl without a terminal: the rewriting of top-level locals, how
-- values print, and what Tab completes (tests/c/test_repl.c drives the same
-- through a real terminal). Also tensor printouts with autograd suffixes.
local repl = require "nnlua.repl"

test("repl.rewrite turns top-level locals into assignments, line by line", function()
  local function rw(code) local s, names = repl.rewrite(code); return s, table.concat(names, ",") end
  check_eq(select(1, rw("local y = 5")), "      y = 5")
  check_eq(select(2, rw("local y = 5")), "y")
  check_eq(rw("local a, b <const> = 1, 2"), "      a, b         = 1, 2")
  check_eq(select(2, rw("local a, b <const> = 1, 2")), "a,b")
  check_eq(rw("local x"), "      x = nil")
  check_eq(rw("local function f() local z = 1 end"), "      function f() local z = 1 end")
  check_eq(rw("do local q = 1 end local r = 2"), "do local q = 1 end       r = 2")
  check_eq(rw("if x then local a = 1 elseif y then local b = 2 else local c end"),
           "if x then local a = 1 elseif y then local b = 2 else local c end")
  check_eq(rw("repeat local u = 1 until u local v = 1"), "repeat local u = 1 until u       v = 1")
  check_eq(rw("local s = 'local t = 1' -- local c\nlocal w = [[\nlocal k]]"),
           "      s = 'local t = 1' -- local c\n      w = [[\nlocal k]]")
  check_eq(select(2, rw("local s = 'local t = 1' -- local c\nlocal w = [[\nlocal k]]")), "s,w")
  check_eq(rw("local f <close> = nil"), "local f <close> = nil")       -- closes at its line's end
  check_eq(rw("for i = 1, 2 do local w = i end"), "for i = 1, 2 do local w = i end")
  check_eq(rw("local t = {1e-5, 0x1p4, 'a\\'b'}"), "      t = {1e-5, 0x1p4, 'a\\'b'}")
  check_eq(rw("local a = 1\nlocal b\nerror('x')"), "      a = 1\n      b = nil\nerror('x')")
end)

test("a session keeps its locals and reports errors at their line", function()
  local s = repl.new()
  assert(s:load("local y = 5", "=stdin"))()
  check_eq(assert(s:load("return y * 2", "=stdin"))(), 10)
  assert(s:load("local print = 7", "=stdin"))()
  check_eq(assert(s:load("return print", "=stdin"))(), 7)
  check_eq(rawget(_G, "y"), nil)                       -- REPL locals are not globals
  assert(s:load("zz_global = 1", "=stdin"))()
  check_eq(rawget(_G, "zz_global"), 1)                 -- globals still are
  zz_global = nil
  assert(s:load("local u", "=stdin"))()
  check_eq(assert(s:load("return u", "=stdin"))(), nil)
  local f = assert(s:load("local a = 1\n\nlocal b = a + nil", "=stdin"))
  local ok, err = pcall(f)
  check_eq(ok, false)
  assert(tostring(err):find("stdin:3:", 1, true), err)
  local g, msg = s:load("local = 1", "=stdin")
  check_eq(g, nil)
  assert(msg:find("stdin:1:", 1, true), msg)
  s:keep({acc = 0.5})
  check_eq(assert(s:load("return acc", "=stdin"))(), 0.5)
end)

test("repl.show prints tables as constructors, sorted and limited", function()
  check_eq(repl.show({1, 2, 3}), "{1, 2, 3}")
  check_eq(repl.show({b = 1, a = "x", [10] = true, 5}), "{5, [10] = true, a = \"x\", b = 1}")
  check_eq(repl.show({["not id"] = 1, ["end"] = 2}), "{[\"end\"] = 2, [\"not id\"] = 1}")
  check_eq(repl.show({}), "{}")
  check_eq(repl.show("top"), "top")
  check_eq(repl.show({"in\n"}), "{\"in\\n\"}")
  local t = {}
  t.self = t
  check_eq(repl.show(t), "{self = <cycle>}")
  check_eq(repl.show({{{{{1}}}}}), "{{{{{...}}}}}")
  local big = {}
  for i = 1, 150 do big[i] = i end
  local s = repl.show(big)
  assert(s:find("100,\n  ... (50 more)\n}", 1, true), s)
  check_eq(repl.show(tensor.zeros(64, 1, 28, 28).shape), "{64, 1, 28, 28}")
  check_eq(repl.show(optim.SGD), "<class optim.SGD>")
  check_eq(repl.show(nn.Linear), "<class nn.Linear>")
  check_eq(repl.show(tensor.randn), "<function tensor.randn>")
  local m = nn.Linear(3, 2)
  local p = repl.show(m:parameters())
  assert(p:find("tensor(shape=[2, 3], requires_grad=true)", 1, true), p)
  assert(p:find("shape=[2], requires_grad=true)", 1, true), p)
  local groups = repl.show(optim.SGD(m:parameters(), {lr = 0.1}).param_groups)
  assert(groups:find("lr = 0.1", 1, true) and groups:find("momentum = 0", 1, true), groups)
  check_eq(repl.show(nn.ReLU()), tostring(nn.ReLU()))       -- modules print as they like
end)

test("completion of globals, fields, children and methods", function()
  local s = repl.new()
  local function has(list, x)
    for _, v in ipairs(list) do if v == x then return true end end
    return false
  end
  local c = s:complete("tensor.ra")
  assert(has(c, "tensor.rand") and has(c, "tensor.randn") and has(c, "tensor.randperm"), table.concat(c, " "))
  for _, name in ipairs(c) do assert(name:sub(1, 9) == "tensor.ra", name) end
  check_eq(table.concat(s:complete("tensor.randp"), " "), "tensor.randperm")
  assert(s:load("local x = tensor.zeros(2)", "=stdin"))()
  c = s:complete("x:su")
  check_eq(table.concat(c, " "), "x:sub x:sub_ x:sum")
  assert(has(s:complete("x."), "x.shape") and has(s:complete("x."), "x.grad_fn"))
  assert(not has(s:complete("x:"), "x:shape"))          -- only methods after a colon
  assert(s:load("local model = nn.Sequential(nn.Linear(2, 3))", "=stdin"))()
  check_eq(table.concat(s:complete("model[1].out_f"), " "), "model[1].out_features")
  assert(has(s:complete("model:"), "model:parameters"))
  local Net = nn.Module:extend("Net")
  function Net:init() self.fc1 = nn.Linear(2, 2) end
  s:keep({m = Net()})
  check_eq(table.concat(s:complete("m.fc"), " "), "m.fc1")
  check_eq(table.concat(s:complete("m.fc1.wei"), " "), "m.fc1.weight")
  assert(has(s:complete("pri"), "print"))
  assert(has(s:complete("mod"), "model"))               -- REPL locals
  assert(has(s:complete("op"), "optim"))                -- modules not loaded yet too
  check_eq(#s:complete("nothing_here."), 0)
  check_eq(#s:complete("x + y"), 0)
  -- never runs a user's __index function or __pairs
  local called = false
  local trap = setmetatable({}, {__index = function() called = true end,
                                 __pairs = function() called = true end})
  s:keep({trap = trap, chain = setmetatable({}, {__index = {inherited = 1}})})
  s:complete("trap.")
  s:complete("trap.a.")
  check_eq(called, false)
  check_eq(table.concat(s:complete("chain.inh"), " "), "chain.inherited")
end)

test("tensor printouts show requires_grad and grad_fn as PyTorch's do", function()
  local w = tensor.new{1, 2}
  check_eq(tostring(w), "tensor([1., 2.], shape=[2])")
  w.requires_grad = true
  check_eq(tostring(w), "tensor([1., 2.], shape=[2], requires_grad=true)")
  check_eq(tostring((w * 2):sum()), "tensor(6., grad_fn=<SumBackward0>)")
  check_eq(tostring(w * 2), "tensor([2., 4.], shape=[2], grad_fn=<MulBackward0>)")
  check_eq(tostring(w:detach()), "tensor([1., 2.], shape=[2])")
  tensor.no_grad(function() check_eq(tostring(w * 2), "tensor([2., 4.], shape=[2])") end)
  local l = nn.Linear(2, 3)
  assert(tostring(l(tensor.zeros(1, 2))):find("grad_fn=<AddmmBackward0>)", 1, true))
end)
