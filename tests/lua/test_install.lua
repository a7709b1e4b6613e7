-- tests/lua/test_install.lua -- make install into a temporary prefix, then what a
-- user does with it: run a script with the installed nnlua from another folder (with
-- the prefix read-only), the same script with stock lua5.4 and require "nnlua",
-- examples/embed.c built with pkg-config against the installed library; and
-- make uninstall, which must leave no file behind. Never touches a system path.

local sh = run_command

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local ROOT = sh("pwd"):gsub("\n$", "")
local BASE = tmpdir()
local PREFIX = BASE .. "/prefix"
local WORK = BASE .. "/elsewhere"
assert(os.execute("mkdir -p " .. q(WORK)))

-- one install for the file; make finds build/dist built already under make test
local install_out, install_ok = sh("make -s --no-print-directory -C " .. q(ROOT) .. " install PREFIX=" .. q(PREFIX))

local function files_under(dir)
  local out = sh("cd " .. q(dir) .. " && find . ! -type d | sort")
  local t = {}
  for line in out:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

local SCRIPT = [[
require "nnlua"
tensor.manual_seed(7)
local model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
local opt = optim.SGD(model:parameters(), {lr = 0.05})
local x, y = tensor.randn(16, 3), tensor.randn(16, 1)
local loss
for _ = 1, 20 do
  opt:zero_grad()
  loss = nn.functional.mse_loss(model(x), y)
  loss:backward()
  opt:step()
end
print(string.format("loss %.6f", loss:item()))
print(type(data), type(datasets), type(transforms), type(plot))
print((package.path:match("^[^;]+")))
]]

local BAD = [[
require "nnlua"
local function build() return nn.Linear(3, 2)(tensor.ones(4, 5)) end
build()
]]

test("make install puts the binary, stdlib, libraries, header, pkg-config file, man page, docs, completion", function()
  assert(install_ok, install_out)
  local want = {"./bin/nnlua", "./lib/libnnlua.a", "./lib/libnnlua.so.0", "./lib/libnnlua.so",
                "./lib/lua/5.4/nnlua.so", "./include/nnlua.h", "./lib/pkgconfig/nnlua.pc",
                "./share/man/man1/nnlua.1", "./share/doc/nnlua/README.md", "./share/doc/nnlua/install.md",
                "./share/bash-completion/completions/nnlua", "./share/nnlua/stdlib/nnlua/errors.lua",
                "./share/nnlua/stdlib/nn/init.lua"}
  local have = {}
  for _, f in ipairs(files_under(PREFIX)) do have[f] = true end
  for _, f in ipairs(want) do assert(have[f], "missing " .. f) end
  local soname = sh("objdump -p " .. q(PREFIX .. "/lib/libnnlua.so.0") .. " | grep SONAME")
  assert(soname:find("libnnlua.so.0", 1, true), soname)
  -- the library exports the embedding API only, not the core
  local syms = sh("nm -D --defined-only " .. q(PREFIX .. "/lib/libnnlua.so.0"))
  assert(syms:find(" nnlua_newstate\n", 1, true), syms)
  assert(not syms:find(" nn_tensor_empty\n", 1, true), "the core's symbols are exported")
  local pc = read_file(PREFIX .. "/lib/pkgconfig/nnlua.pc")
  assert(pc:find("prefix=" .. PREFIX, 1, true), pc)
end)

local function run_installed(script_text, extra_env)
  write_file(WORK .. "/main.lua", script_text)
  return sh("cd " .. q(WORK) .. " && " .. (extra_env or "") .. " " .. q(PREFIX .. "/bin/nnlua") .. " main.lua")
end

-- script_text run by the installed nnlua and by the one under test, whose
-- outputs must be the same (each must succeed)
local function same_in_both_builds(script_text)
  local installed, ok = run_installed(script_text)
  assert(ok, installed)
  local bin = (os.getenv("NNLUA") or "./nnlua"):gsub("^%./", "")
  if bin:sub(1, 1) ~= "/" then bin = ROOT .. "/" .. bin end
  local native, ok2 = sh("cd " .. q(WORK) .. " && " .. q(bin) .. " main.lua")
  assert(ok2, native)
  check_eq(installed, native)
  return installed
end

test("the installed nnlua runs a script from another folder, from a read-only prefix, stdlib from its prefix", function()
  assert(os.execute("chmod -R a-w " .. q(PREFIX)))
  local out, ok = run_installed(SCRIPT)
  assert(os.execute("chmod -R u+w " .. q(PREFIX)))
  assert(ok, out)
  assert(out:match("^loss %d+%.%d+\ntable\ttable\ttable\ttable\n"), out)
  check_eq(out:match("\n([^\n]*)\n$"), PREFIX .. "/share/nnlua/stdlib/?.lua", "first package.path entry")
end)

test("the installed nnlua ignores a stdlib folder in the current directory", function()
  assert(os.execute("mkdir -p " .. q(WORK .. "/stdlib/nnlua")))
  write_file(WORK .. "/stdlib/nnlua/errors.lua", "error('the wrong stdlib')")
  local out, ok = run_installed(SCRIPT)
  assert(os.execute("rm -rf " .. q(WORK .. "/stdlib")))
  assert(ok, out)
end)

test("the installed (portable, x86-64-v2) build computes the same bits as the -march=native one", function()
  local probe = [[
tensor.manual_seed(3)
local model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 3))
local x, y = tensor.randn(128, 20), tensor.randint(1, 4, {128})
for _, mk in ipairs{function(p) return optim.Adam(p, {lr = 1e-3, weight_decay = 0.01}) end,
                    function(p) return optim.SGD(p, {lr = 0.1, momentum = 0.9, nesterov = true}) end,
                    function(p) return optim.RMSprop(p, {lr = 1e-3, centered = true}) end,
                    function(p) return optim.Adagrad(p, {lr = 0.01}) end} do
  local opt = mk(model:parameters())
  for _ = 1, 5 do
    opt:zero_grad()
    local loss = nn.functional.cross_entropy(model(x), y)
    loss:backward()
    opt:step()
  end
end
local s = 0
for _, p in ipairs(model:parameters()) do s = s + p:sum():item() end
print(string.format("%a %a", s, model(x):sum():item()))
]]
  same_in_both_builds(probe)
end)

-- The loops that dispatch at load time (nn/dispatch.h), each run by both builds: the
-- batch's ToTensor + Normalize on FashionMNIST, ReLU, LeakyReLU and their gradients, the bias
-- gradient's column sums, the contiguous unary and binary ops (odd lengths, so the
-- vector loops' tails run too), every optimizer's update. A 32-bit FNV-1a hash of
-- every float's bytes, so one ulp anywhere shows.
local DISPATCHED = [[
local function hash(h, t)
  for _, v in ipairs(t:contiguous():view(-1):totable()) do
    for _, b in ipairs{string.byte(string.pack("<f", v), 1, 4)} do h = ((h ~ b) * 16777619) & 0xffffffff end
  end
  return h
end
local T = transforms
local ds = datasets.FashionMNIST{train = false, transform = T.Compose{T.ToTensor(), T.Normalize({0.286}, {0.353})}}
local loader = data.DataLoader(ds, {batch_size = 61, shuffle = true, generator = tensor.Generator(2), progress = false})
local makers = {
  function(p) return optim.SGD(p, {lr = 0.05, momentum = 0.9, weight_decay = 1e-4}) end,
  function(p) return optim.Adam(p, {lr = 1e-3, amsgrad = true}) end,
  function(p) return optim.AdamW(p, {lr = 1e-3}) end,
  function(p) return optim.RMSprop(p, {lr = 1e-3, momentum = 0.5}) end,
  function(p) return optim.Adagrad(p, {lr = 0.01}) end,
  function(p) return optim.Adadelta(p, {}) end,
  function(p) return optim.Adamax(p, {}) end,
  function(p) return optim.NAdam(p, {}) end,
}
for k, mk in ipairs(makers) do
  tensor.manual_seed(k)
  local model = nn.Sequential(nn.Flatten(), nn.Linear(784, 67), nn.ReLU(), nn.Linear(67, 33), nn.LeakyReLU(0.1),
                              nn.Linear(33, 10))
  local opt, h, steps = mk(model:parameters()), 2166136261, 0
  for x, y in loader:iter() do
    h = hash(h, x)
    local loss = nn.functional.cross_entropy(model(x), y)
    opt:zero_grad()
    loss:backward()
    opt:step()
    steps = steps + 1
    if steps == 4 then break end
  end
  for _, p in ipairs(model:parameters()) do h = hash(h, p) end
  print(string.format("optimizer %d: %d steps, %08x", k, steps, h))
end
tensor.manual_seed(9)
local a, b = tensor.randn(301, 67), tensor.rand(301, 67) + 0.5
local h = 2166136261
for _, t in ipairs{a + b, a - b, a * b, a / b, a:max(b), a:min(b), a:gt(b), a * 3, a / 7, 2 - a,
                   a:exp(), a:abs(), b:sqrt(), a:relu(), -a, a:tanh(), a:sum(1), a:mean(1), a:var(1)} do
  h = hash(h, t)
end
print(string.format("ops: %08x", h))
]]

test("the installed build and the native one give the same bits on every loop that dispatches", function()
  local installed = same_in_both_builds(DISPATCHED)
  local _, n = installed:gsub("optimizer %d: 4 steps, %x+\n", "")
  assert(n == 8 and installed:find("\nops: %x+\n$"), installed)
end)

test("the installed build carries x86-64-v3 and v4 copies of its hot loops (target_clones)", function()
  if sh("command -v nm") == "" then print("  (skipped: no nm)") return end
  local syms = sh("nm " .. q(PREFIX .. "/bin/nnlua"))
  for _, f in ipairs{"relu_grad", "leaky_bwd_run", "sample_pointwise", "unary_contig", "binary_contig",
                     "reduce_cols", "adam_run", "sgd_loop"} do
    for _, level in ipairs{"v3", "v4"} do
      assert(syms:find(" " .. f .. ".arch_x86_64_" .. level .. "\n", 1, true), f .. " has no x86-64-" .. level .. " copy")
    end
  end
end)

local HAVE_LUA = sh("command -v lua5.4") ~= ""
local LUA_ENV = "LUA_CPATH=" .. q(PREFIX .. "/lib/lua/5.4/?.so") .. " LUA_PATH=';;'"

test("stock lua5.4 runs the same script with require \"nnlua\", same output", function()
  if not HAVE_LUA then print("  (skipped: no lua5.4; make deps installs it)") return end
  local ref = run_installed(SCRIPT)
  write_file(WORK .. "/main.lua", SCRIPT)
  local out, ok = sh("cd " .. q(WORK) .. " && " .. LUA_ENV .. " lua5.4 main.lua")
  assert(ok, out)
  check_eq(out, ref)
end)

test("require \"nnlua\" returns the seven modules, the same as the globals, under nnlua and lua5.4", function()
  local probe = [[
local m = require "nnlua"
local names = {"tensor", "nn", "optim", "data", "datasets", "transforms", "plot"}
for _, k in ipairs(names) do assert(type(m[k]) == "table" and m[k] == _G[k], k) end
assert(require "nnlua" == m)
print("ok", m.version)
]]
  local out, ok = run_installed(probe)
  assert(ok, out)
  assert(out:match("^ok\t%d+%.%d+%.%d+\n$"), out)
  if not HAVE_LUA then print("  (skipped for lua5.4: not installed)") return end
  local out2, ok2 = sh("cd " .. q(WORK) .. " && " .. LUA_ENV .. " lua5.4 main.lua")
  assert(ok2, out2)
  check_eq(out2, out)
end)

test("an error under lua5.4 reads as under nnlua: the user's line, the user's traceback", function()
  local ref, ok = run_installed(BAD)
  assert(not ok, ref)
  assert(ref:match("^nnlua: main%.lua:3: Linear%(3, 2%): input of shape %[4, 5%]"), ref)
  if not HAVE_LUA then print("  (skipped for lua5.4: not installed)") return end
  local out, ok2 = sh("cd " .. q(WORK) .. " && " .. LUA_ENV .. " lua5.4 main.lua")
  assert(not ok2, out)
  check_eq(out:gsub("^lua5%.4: ", ""), (ref:gsub("^nnlua: ", "")))
end)

test("examples/embed.c builds with pkg-config against the installed library and learns its weights", function()
  local env = "PKG_CONFIG_PATH=" .. q(PREFIX .. "/lib/pkgconfig")
  local flags, ok = sh(env .. " pkg-config --cflags --libs nnlua")
  assert(ok, flags)
  flags = flags:gsub("\n", " ")
  local exe = BASE .. "/embed"
  local out, built = sh("cc -std=c11 -Wall -Wextra -Werror -o " .. q(exe) .. " " .. q(ROOT .. "/examples/embed.c") .. " " .. flags)
  assert(built, out)
  local run, ran = sh("cd " .. q(WORK) .. " && LD_LIBRARY_PATH=" .. q(PREFIX .. "/lib") .. " " .. q(exe))
  assert(ran, run)
  assert(run:find("weights 2.0", 1, true) or run:find("weights 1.99", 1, true), run)
  assert(run:find("bad:2: matmul: shapes [2, 3] and [2, 3] do not match", 1, true), run)
  assert(run:find("stack traceback:\n\tbad:2: in main chunk", 1, true), run)
end)

test("the embedding API refuses bad input with clear messages (tests/install/embed_errors.c)", function()
  local env = "PKG_CONFIG_PATH=" .. q(PREFIX .. "/lib/pkgconfig")
  local flags, ok = sh(env .. " pkg-config --cflags --libs nnlua")
  assert(ok, flags)
  local exe = BASE .. "/embed_errors"
  local out, built = sh("cc -std=c11 -Wall -Wextra -Werror -o " .. q(exe) .. " " ..
                        q(ROOT .. "/tests/install/embed_errors.c") .. " " .. flags:gsub("\n", " "))
  assert(built, out)
  local run, ran = sh("cd " .. q(WORK) .. " && LD_LIBRARY_PATH=" .. q(PREFIX .. "/lib") .. " " .. q(exe))
  assert(ran, run)
  check_eq(select(2, run:gsub("\nok: ", "")) + 1, 24, "cases passed")
end)

test("make install with DESTDIR stages under it; the staged binary runs from there", function()
  local dest = BASE .. "/dest"
  local out, ok = sh("make -s --no-print-directory -C " .. q(ROOT) .. " install PREFIX=/usr DESTDIR=" .. q(dest))
  assert(ok, out)
  write_file(WORK .. "/main.lua", SCRIPT)
  local run, ran = sh("cd " .. q(WORK) .. " && " .. q(dest .. "/usr/bin/nnlua") .. " main.lua")
  assert(ran, run)
  local pc = read_file(dest .. "/usr/lib/pkgconfig/nnlua.pc")
  assert(pc:find("prefix=/usr\n", 1, true), pc)
  out, ok = sh("make -s --no-print-directory -C " .. q(ROOT) .. " uninstall PREFIX=/usr DESTDIR=" .. q(dest))
  assert(ok, out)
  check_eq(#files_under(dest), 0, "files left after uninstall")
end)

test("luarocks make installs the rockspec into a tree; lua5.4 requires nnlua from it", function()
  if sh("command -v luarocks") == "" or not HAVE_LUA then
    print("  (skipped: luarocks or lua5.4 is not installed; apt-get install luarocks lua5.4)") return
  end
  local tree = BASE .. "/rocks"
  local out, ok = sh("cd " .. q(ROOT) .. " && luarocks --lua-version=5.4 make --tree=" .. q(tree) ..
                     " nnlua-0.1.0-1.rockspec")
  assert(ok, out)
  local probe = 'local m = require "nnlua"; print(m.version, nn.Linear(2, 3)(tensor.ones(1, 2)):size(2))'
  local run, ran = sh("cd " .. q(WORK) .. ' && eval "$(luarocks --lua-version=5.4 --tree=' .. q(tree) ..
                      ' path)" && lua5.4 -e ' .. q(probe))
  assert(ran, run)
  assert(run:match("^%d+%.%d+%.%d+\t3\n$"), run)
end)

test("dpkg-buildpackage builds a .deb with its dependencies declared; its nnlua and lua5.4 module run", function()
  if os.getenv("NNLUA_ASAN") then print("  (skipped under make test-asan: make test builds the .deb)") return end
  local missing = sh("command -v dpkg-buildpackage >/dev/null || echo dpkg-dev; command -v dh >/dev/null || echo debhelper; " ..
                     "cd " .. q(ROOT) .. " && dpkg-checkbuilddeps 2>&1 || true")
  if missing ~= "" then print("  (skipped: " .. missing:gsub("\n", " ") .. ")") return end
  local src = BASE .. "/deb/nnlua-0.1.0"
  assert(os.execute("mkdir -p " .. q(src)))
  local out, ok = sh("cd " .. q(ROOT) .. " && git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C " .. q(src))
  assert(ok, out)
  out, ok = sh("cd " .. q(src) .. " && dpkg-buildpackage -b -us -uc")
  assert(ok, out:sub(-3000))
  local deb = BASE .. "/deb/nnlua_0.1.0_amd64.deb"
  local info = sh("dpkg-deb -I " .. q(deb))
  for _, dep in ipairs{"libdnnl2", "liblua5.4-0", "libpng16-16", "libcairo2", "libgomp1", "fonts-dejavu-core"} do
    assert(info:match("Depends:[^\n]*" .. dep:gsub("%-", "%%-")), "Depends lacks " .. dep .. ":\n" .. info)
  end
  local root = BASE .. "/deb/root"
  assert(os.execute("dpkg-deb -x " .. q(deb) .. " " .. q(root)))
  write_file(WORK .. "/main.lua", SCRIPT)
  local ref = run_installed(SCRIPT)
  local run, ran = sh("cd " .. q(WORK) .. " && " .. q(root .. "/usr/bin/nnlua") .. " main.lua")
  assert(ran, run)
  check_eq(run:gsub("\n[^\n]*\n$", "\n"), (ref:gsub("\n[^\n]*\n$", "\n")), "output but the stdlib path")
  if HAVE_LUA then
    local cpath = "LUA_CPATH=" .. q(root .. "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so")
    local lrun, lran = sh("cd " .. q(WORK) .. " && " .. cpath .. " lua5.4 main.lua")
    assert(lran, lrun)
    check_eq(lrun, run)
  end
end)

test("make uninstall leaves no file in the prefix", function()
  local out, ok = sh("make -s --no-print-directory -C " .. q(ROOT) .. " uninstall PREFIX=" .. q(PREFIX))
  assert(ok, out)
  local left = files_under(PREFIX)
  check_eq(#left, 0, "files left: " .. table.concat(left, " "))
end)
