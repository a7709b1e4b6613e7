-- tests/lua/test_sandbox.lua -- nnlua --sandbox (vm/sandbox.c, nn/io/gate.c): escape attempts
-- from inside a script, each a clear error, with nothing outside the output folder changed
-- (the whole temporary tree is listed before and after); and what a script may still do.
-- Every run is a fresh nnlua process in a tree this test makes:
--   root/proj/s.lua       the script (its folder is readable)
--   root/proj/out/        the default output folder (the only writable one)
--   root/outside/         files the script must not read, change or list
local NNLUA = os.getenv("NNLUA") or "./nnlua"
if NNLUA:sub(1, 1) ~= "/" then NNLUA = os.getenv("PWD") .. "/" .. NNLUA end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- the output of cmd and its exit status (0 when it succeeded)
local function sh(cmd)
  local out, ok, code = run_command(cmd)
  return out, ok and 0 or code
end

-- every path under root with its type, size, mode, modification time (files) and link
-- target, sorted
local function snapshot(root, skip)
  local out = sh("cd " .. q(root) .. " && find . -printf '%p %y %s %m %T@ %l\\n' | sort")
  if skip then out = out:gsub("[^\n]*" .. skip:gsub("%p", "%%%0") .. "[^\n]*\n", "") end
  -- a folder's time changes with its entries, which are listed anyway (out/ being made)
  return (out:gsub("([^\n]* d %d+ %d+) %S+", "%1"))
end

local function tree()
  local root = tmpdir()
  assert(os.execute("mkdir -p " .. q(root .. "/proj") .. " " .. q(root .. "/outside/sub")))
  write_file(root .. "/outside/secret.txt", "secret\n")
  write_file(root .. "/outside/sub/x.lua", "return 1\n")
  write_file(root .. "/proj/data.txt", "mine\n")
  write_file(root .. "/proj/helper.lua", "local M = {}\nfunction M.twice(x) return 2 * x end\n"
             .. "M.exec = os.execute\nreturn M\n")
  return root
end

local function cleanup(root) os.execute("rm -rf " .. q(root)) end

-- runs script text as root/proj/s.lua from cwd (default root/proj) with extra options;
-- returns output, exit code, and the snapshots of root (without what matches skip) taken
-- just before and after the run
local function run(root, text, opts, cwd, skip)
  write_file(root .. "/proj/s.lua", text)
  local before = snapshot(root, skip)
  local out, code = sh("cd " .. q(cwd or (root .. "/proj")) .. " && " .. NNLUA .. " --sandbox "
                       .. (opts or "") .. " " .. q(root .. "/proj/s.lua"))
  return out, code, before, snapshot(root, skip)
end

-- A script of attempts: each line of the output is "ok NAME" or "no NAME: message".
local PRELUDE = [[
local OUT = ...
local function try(name, f, ...)
  local ok, err = pcall(f, ...)
  print((ok and "ok " or "no ") .. name .. (ok and "" or (": " .. tostring(err))))
end
]]

-- asserts that the attempt name was refused with a message containing want
local function refused(out, name, want)
  local line = out:match("\n(no " .. name:gsub("%p", "%%%0") .. ": [^\n]*)")
            or out:match("^(no " .. name:gsub("%p", "%%%0") .. ": [^\n]*)")
  assert(line, name .. " was not refused:\n" .. out)
  assert(line:find(want, 1, true), name .. ": expected '" .. want .. "' in: " .. line)
end

local function allowed(out, name)
  assert(out:find("\nok " .. name:gsub("%p", "%%%0") .. "\n") or out:find("^ok " .. name:gsub("%p", "%%%0") .. "\n"),
         name .. " failed:\n" .. out)
end

test("--sandbox: commands, C code, debug, bytecode and the host's exit are gone, each a clear error", function()
  local root = tree()
  local out, code, before, after = run(root, PRELUDE .. [[
try("os.execute", os.execute, "id -un")
try("io.popen", io.popen, "id")
try("io.tmpfile", io.tmpfile)
try("os.exit", os.exit, 0)
try("package.loadlib", package.loadlib, "libc.so.6", "*")
try("cpath", function() assert(package.cpath == "", package.cpath) end)
try("require cjson", require, "cjson")
try("require data._C", require, "data._C")
try("require nn._C", require, "nn._C")
try("require nnlua._C", require, "nnlua._C")
try("loaded data._C", function() data.DataLoader = data.DataLoader; assert(package.loaded["data._C"] == nil and data._C == nil) end)
try("debug.getregistry", debug.getregistry)
try("debug.getupvalue", debug.getupvalue, print, 1)
try("debug.sethook", debug.sethook, print, "l")
try("debug.traceback", function() assert(debug.traceback("x"):find("stack traceback")) end)
try("string.dump", string.dump, print)
try("method dump", function() return ("x").dump(print) end)
try("load binary", function() local f, e = load("\27LuaT\0", "x") assert(f, e) end)
try("load mode b", load, "\27LuaT", "x", "b")
try("loadfile mode b", loadfile, "s.lua", "b")
try("collectgarbage stop", collectgarbage, "stop")
try("collectgarbage generational", collectgarbage, "generational")
try("collectgarbage count", function() assert(collectgarbage("count") > 0) end)
try("os.getenv HOME", function() assert(os.getenv("HOME") == nil and os.getenv("PATH") == nil) end)
try("getmetatable tensor", function() assert(getmetatable(tensor.ones(1)) == "protected by --sandbox") end)
try("getmetatable string", function() assert(type(getmetatable("")) == "string") end)
try("load env", function() assert(load("return os.execute")() == os.execute) end)
try("load chunkname", function() local f = load("error('e')", "@/stdlib/nn/init.lua") local _, e = pcall(f) assert(not e:find("^@"), e) end)
try("helper exec", function() local h = require "helper" assert(h.twice(2) == 4) h.exec("id") end)
try("setlocale", os.setlocale, "C")
try("os.execute shell", os.execute, "mkdir -p 'a'; id")
]], nil, nil, "/proj/out")
  check_eq(code, 0, "exit status\n" .. out)
  for _, name in ipairs{"os.execute", "io.popen", "io.tmpfile", "package.loadlib", "os.exit",
                        "debug.getregistry", "debug.getupvalue", "debug.sethook", "string.dump",
                        "method dump"} do
    refused(out, name, "is not available in --sandbox")
  end
  refused(out, "os.exit", "return from the script")
  allowed(out, "cpath")
  refused(out, "require cjson", "module 'cjson' not found")
  for _, m in ipairs{"data._C", "nn._C", "nnlua._C"} do refused(out, "require " .. m, "not found") end
  allowed(out, "loaded data._C")
  allowed(out, "debug.traceback")
  refused(out, "load binary", "attempt to load a binary chunk")
  refused(out, "load mode b", "Lua source only")
  refused(out, "loadfile mode b", "Lua source only")
  refused(out, "collectgarbage stop", "option 'stop' is not available")
  refused(out, "collectgarbage generational", "option 'generational' is not available")
  allowed(out, "collectgarbage count")
  allowed(out, "os.getenv HOME")
  allowed(out, "getmetatable tensor")
  allowed(out, "getmetatable string")
  allowed(out, "load env")
  allowed(out, "load chunkname")
  refused(out, "helper exec", "os.execute is not available")
  refused(out, "setlocale", "not available in --sandbox")
  refused(out, "os.execute shell", "os.execute is not available")
  check_eq(after, before, "the tree outside out/")
  cleanup(root)
end)

test("--sandbox: files outside the folders are refused from Lua and from nnlua's C code alike", function()
  local root = tree()
  local outside = root .. "/outside"
  -- planted in the output folder beforehand: links that lead out
  assert(os.execute("mkdir -p " .. q(root .. "/proj/out") .. " && cd " .. q(root .. "/proj/out")
                    .. " && ln -s ../../outside dirlink && ln -s ../../outside/secret.txt filelink"
                    .. " && ln -s ../../outside/new.png dangling.png"))
  local out, code, before, after = run(root, PRELUDE .. string.format([[
local O = %q
local t = tensor.rand(3, 4, 4)
try("io.open /etc/passwd", io.open, "/etc/passwd")
try("io.open /etc/shadow", io.open, "/etc/shadow")
try("io.open ..", io.open, "../../outside/secret.txt")
try("io.open abs write", io.open, O .. "/new.txt", "w")
try("io.open append", io.open, O .. "/secret.txt", "a")
try("io.lines", io.lines, O .. "/secret.txt")
try("io.input", io.input, O .. "/secret.txt")
try("io.output", io.output, O .. "/out.txt")
try("loadfile", loadfile, O .. "/sub/x.lua")
try("dofile", dofile, O .. "/sub/x.lua")
try("os.remove", os.remove, O .. "/secret.txt")
try("os.rename", os.rename, O .. "/secret.txt", "stolen.txt")
try("os.rename in", os.rename, "x.txt", O .. "/x.txt")
try("mkdir -p out", os.execute, "mkdir -p '" .. O .. "/made'")
try("/proc/self/mem", io.open, "/proc/self/mem", "r+")
try("/proc/self/root", io.open, "/proc/self/root/etc/passwd")
try("dirlink write", io.open, "dirlink/new.txt", "w")
try("filelink read", io.open, "filelink")
try("filelink write", io.open, "filelink", "w")
try("dangling", plot.save_image, t, "dangling.png")
try("fig:save", function() plot.lines{series = {{y = {1, 2, 3}}}}:save("../../../outside/x.png") end)
try("save_image", plot.save_image, t, O .. "/img.png")
try("tensor.save", tensor.save, {a = t}, O .. "/c.safetensors")
try("tensor.save link", tensor.save, {a = t}, "filelink")
try("tensor.load", tensor.load, O .. "/secret.txt")
try("write_csv", data.write_csv, O .. "/h.csv", {{1}})
try("read_csv", data.read_csv, O .. "/secret.txt")
try("ImageFolder", function() datasets.ImageFolder{root = O} end)
try("require ../", require, "..outside.sub.x")
]], outside), "--out proj/out", root)
  check_eq(code, 0, "exit status\n" .. out)
  for _, name in ipairs{"io.open /etc/passwd", "io.open /etc/shadow", "io.open ..", "io.lines",
                        "io.input", "loadfile", "dofile", "/proc/self/root",
                        "filelink read", "tensor.load", "read_csv", "ImageFolder"} do
    refused(out, name, "--sandbox reads only in")
  end
  for _, name in ipairs{"io.open abs write", "io.open append", "io.output", "os.remove",
                        "os.rename", "os.rename in", "mkdir -p out", "dirlink write",
                        "filelink write", "fig:save", "save_image", "tensor.save",
                        "tensor.save link", "write_csv"} do
    refused(out, name, "--sandbox writes only in")
  end
  refused(out, "/proc/self/mem", "--sandbox writes only in")
  refused(out, "dangling", "symbolic link")
  refused(out, "require ../", "not found")
  check_eq(after, before, "the tree, out/ included (nothing was written)")
  cleanup(root)
end)

test("--sandbox: the script works in its output folder, reads its own folder and requires its helpers", function()
  local root = tree()
  write_file(root .. "/outside/allowed.txt", "allowed\n")
  local out, code, before, after = run(root, (PRELUDE .. [[
try("write relative", function()
  plot.lines{series = {{y = {1, 2, 3}}}}:save("figures/loss.png")
  tensor.save({w = tensor.ones(2)}, "ck/model.safetensors")
  assert(tensor.load("ck/model.safetensors").w:sum():item() == 2)
  data.write_csv("h.csv", {{epoch = 1, loss = 0.5}}, {columns = {"epoch", "loss"}})
  assert(data.read_csv("h.csv")[1].loss == 0.5)
  local f = assert(io.open("notes.txt", "w")) f:write("hi") f:close()
  assert(os.rename("notes.txt", "notes2.txt"))
  assert(os.remove("notes2.txt"))
  assert(os.execute("mkdir -p 'made/deep'"))
end)
try("read own folder", function()
  assert(io.open(arg[0]:match("^(.*)/") .. "/data.txt"):read("a") == "mine\n")
  for l in io.lines(arg[0]:match("^(.*)/") .. "/data.txt") do assert(l == "mine") end
end)
try("require helper", function() assert(require("helper").twice(3) == 6) end)
try("allow-read", function() assert(io.open(ALLOWED):read("a") == "allowed\n") end)
try("tmpname", function() local n = os.tmpname() assert(n:find(OUTDIR, 1, true) == 1, n) os.remove(n) end)
try("strict globals", function()
  setmetatable(_G, {__newindex = function(_, k) error("new global " .. k) end})
  assert(nn and data and plot and optim and datasets and transforms)
end)
]]):gsub("ALLOWED", string.format("%q", root .. "/outside/allowed.txt"))
   :gsub("OUTDIR", string.format("%q", root .. "/proj/out")),
   "--allow-read " .. q(root .. "/outside/allowed.txt"), nil, "/proj/out")
  check_eq(code, 0, "exit status\n" .. out)
  for _, name in ipairs{"write relative", "read own folder", "require helper", "allow-read",
                        "tmpname", "strict globals"} do
    allowed(out, name)
  end
  check_eq(after, before, "the tree outside out/")
  for _, f in ipairs{"figures/loss.png", "ck/model.safetensors", "h.csv"} do
    assert(io.open(root .. "/proj/out/" .. f), f .. " missing in out/")
  end
  check_eq(sh("test -d " .. q(root .. "/proj/out/made/deep") .. " && echo yes"), "yes\n")
  cleanup(root)
end)

test("--sandbox: --out names the folder (made), the script's errors and status come through", function()
  local root = tree()
  local out, code = run(root, "print(io.open('here.txt', 'w'):write('x'))\nerror('boom')\n",
                        "--out " .. q(root .. "/res/a"))
  check_eq(code, 1, "exit status\n" .. out)
  assert(out:find("writes in " .. root .. "/res/a", 1, true), out)
  assert(out:find("s.lua:2: boom", 1, true), out)
  check_eq(read_file(root .. "/res/a/here.txt"), "x")
  out, code = run(root, "print(1)", "--max-time 0")
  check_eq(code, 1)
  assert(out:find("--max-time: '0' is not a number of seconds", 1, true), out)
  out, code = run(root, "print(1)", "--max-memory 12Q")
  check_eq(code, 1)
  assert(out:find("--max-memory: '12Q' is not a size", 1, true), out)
  out, code = run(root, "print(1)", "--max-memory 1.5G --max-time 90")
  check_eq(code, 0, out)
  assert(out:find("limits: memory 1.5 GiB, time 90 s", 1, true), out)
  out, code = run(root, "print(1)", "--bogus")
  check_eq(code, 1)
  assert(out:find("unrecognized option '--bogus'", 1, true), out)
  out, code = sh(NNLUA .. " --sandbox")
  check_eq(code, 1)
  assert(out:find("no script given", 1, true), out)
  out, code = sh(NNLUA .. " --sandbox --help")
  check_eq(code, 0)
  assert(out:find("--max-memory SIZE", 1, true), out)
  out, code = sh(NNLUA .. " --sandbox --allow-read /nonexistent/x " .. q(root .. "/proj/s.lua"))
  check_eq(code, 1)
  assert(out:find("--allow-read '/nonexistent/x'", 1, true), out)
  cleanup(root)
end)

test("--sandbox: the course scripts run unchanged, writing only in --out", function()
  local root = tmpdir()
  local here = os.getenv("PWD")
  -- the folders the scripts and nnlua's own modules live in
  local function sources() return snapshot(here .. "/scripts") .. snapshot(here .. "/stdlib") end
  local before = sources()
  local out, code = sh(NNLUA .. " --sandbox --out " .. q(root .. "/ref") .. " scripts/reference.lua"
                       .. " --epochs 1 --train-samples 1000 --out figs")
  check_eq(code, 0, out)
  -- with the kernel's walls up, Landlock's among them where the kernel has it
  assert(out:find("kernel filter: seccomp %+ Landlock ABI %d") or out:find("no Landlock (the kernel has none)", 1, true)
         or out:find("no Landlock (disabled in this kernel)", 1, true), out)
  for _, f in ipairs{"loss.png", "accuracy.png", "samples.png", "history.csv"} do
    assert(io.open(root .. "/ref/figs/" .. f), f .. " missing\n" .. out)
  end
  out, code = sh(NNLUA .. " --sandbox --out " .. q(root .. "/lr") .. " scripts/lr_schedules.lua --epochs 5")
  check_eq(code, 0, out)
  assert(io.open(root .. "/lr/figures/lr_schedules.png"), out)
  check_eq(sources(), before, "scripts/ and stdlib/")
  cleanup(root)
end)

-- peak resident memory of the last command run through sh_time, in bytes
local function sh_rss(cmd)
  local out, code = sh("/usr/bin/time -f 'maxrss %M' " .. cmd)
  return out, code, tonumber(out:match("maxrss (%d+)%s*$")) * 1024
end

test("--sandbox --max-memory: Lua strings, tables and tensors past the limit are errors the script "
     .. "catches; the process stays under the limit + 64 MiB and goes on", function()
  local root = tree()
  local script = PRELUDE .. [[
try("string.rep 2 GB", string.rep, "x", 1 << 31)
try("string.rep 1 GB", string.rep, "x", 1 << 30)
try("concat bomb", function() local s = "x" while true do s = s .. s end end)
try("zeros 1e6 x 1e6", tensor.zeros, 1e6, 1e6)
try("zeros 1e5 x 1e5", tensor.zeros, 1e5, 1e5)
-- what each attempt holds is garbage once it failed: the next one has the memory again
try("many tensors", function() local keep = {} for i = 1, 1e9 do keep[i] = tensor.zeros(1000000) end end)
try("many strings", function() local strs = {} for i = 1, 1e9 do strs[i] = ("y"):rep(1e6) .. i end end)
try("many tables", function() local tabs = {} for i = 1, 1e9 do tabs[i] = {i, i, i, i} end end)
try("deep recursion", function() local function f(n) return 1 + f(n + 1) end return f(1) end)
try("alive", function() assert(tensor.ones(1000):sum():item() == 1000) end)
]]
  local out, code, before, after = run(root, script, "--max-memory 256M", nil, "/proj/out")
  check_eq(code, 0, out)
  for _, name in ipairs{"string.rep 1 GB", "concat bomb", "many strings", "many tables"} do
    refused(out, name, "not enough memory")
  end
  refused(out, "string.rep 2 GB", "too large")
  refused(out, "zeros 1e6 x 1e6", "too large")
  refused(out, "zeros 1e5 x 1e5", "memory limit of 256 MiB reached")
  refused(out, "many tensors", "memory limit of 256 MiB reached")
  refused(out, "deep recursion", "stack overflow")
  allowed(out, "alive")
  check_eq(after, before)
  if os.getenv("NNLUA_ASAN") == nil then   -- ASan's shadow memory and quarantine are not the script's
    local rss
    out, code, rss = sh_rss(NNLUA .. " --sandbox --max-memory 256M --out " .. q(root .. "/proj/out") .. " "
                           .. q(root .. "/proj/s.lua"))
    check_eq(code, 0, out)
    assert(rss <= (256 + 64) * 2^20, string.format("peak RSS %.0f MiB", rss / 2^20))
  end
  -- not caught: the run fails with a message naming the limit
  out, code = run(root, "local t = {} for i = 1, 1e9 do t[i] = ('z'):rep(1e6) .. i end",
                  "--max-memory 64M")
  check_eq(code, 1, out)
  assert(out:find("memory limit of 64 MiB reached", 1, true), out)
  cleanup(root)
end)

test("--sandbox --max-time: a loop that catches every error still ends at the limit, status 124", function()
  local root = tree()
  local t0 = os.monotime()
  local out, code = run(root, "print('start') io.stdout:flush()\n"
                        .. "while true do pcall(function() while true do end end) end\n", "--max-time 0.5")
  local took = os.monotime() - t0
  check_eq(code, 124, out)
  assert(out:find("start", 1, true), out)
  assert(out:find("time limit of 0.5 s reached; the script was stopped", 1, true), out)
  assert(took < 10, "took " .. took .. " s")
  -- a script that ends in time is not touched
  out, code = run(root, "print('quick')", "--max-time 30")
  check_eq(code, 0, out)
  cleanup(root)
end)

test("--sandbox with a folder or several scripts: each in its own process and folder, then a table; "
     .. "a script that fails, loops or fills memory ends only itself", function()
  local root = tree()
  local sub = root .. "/proj/class"
  assert(os.execute("mkdir -p " .. q(sub)))
  write_file(sub .. "/a_good.lua", "plot.lines{series = {{y = {1, 2}}}}:save('figures/loss.png')\n"
             .. "tensor.save({w = tensor.ones(2)}, 'w.safetensors')\nprint('accuracy 0.91')\n")
  write_file(sub .. "/b_error.lua", "print('before')\nerror('my mistake')\n")
  write_file(sub .. "/c_loop.lua", "print('looping') io.stdout:flush() while true do end\n")
  -- 16 MB a string: past 64 MiB in a few steps, well inside the time limit even
  -- under the sanitizers on a busy machine (1 MB strings once took over 1 s there)
  write_file(sub .. "/d_hog.lua", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(16e6) .. i end\n")
  write_file(sub .. "/e_escape.lua", "io.open(" .. string.format("%q", root .. "/outside/secret.txt")
             .. ", 'w'):write('pwned')\n")
  write_file(sub .. "/notes.txt", "not a script\n")
  local before = snapshot(root, "/results")
  local out, code = sh("cd " .. q(root) .. " && " .. NNLUA
                       .. " --sandbox --out results --max-time 1 --max-memory 64M proj/class")
  check_eq(code, 1, out)               -- not all ran to the end
  check_eq(snapshot(root, "/results"), before, "the tree outside results/")
  local function row(name)
    local line = out:match("\n(proj/class/" .. name .. "%.lua [^\n]*)")
    assert(line, name .. " missing from the table:\n" .. out)
    return line
  end
  assert(row("a_good"):find("^%S+%s+ok%s+[%d.]+ s%s+[%d.]+ %a+%s+2%s+accuracy 0.91$"), row("a_good"))
  assert(row("b_error"):find("exit 1 .*b_error%.lua:2: my mistake$"), row("b_error"))
  assert(row("c_loop"):find("time limit", 1, true), row("c_loop"))
  assert(row("d_hog"):find("exit 1 .*memory limit of 64 MiB reached"), row("d_hog"))
  assert(row("e_escape"):find("exit 1 .*cannot write"), row("e_escape"))
  assert(not out:find("notes", 1, true), out)
  assert(out:find("1 of 5 ran to the end", 1, true), out)
  check_eq(read_file(root .. "/outside/secret.txt"), "secret\n")
  assert(io.open(root .. "/results/a_good/figures/loss.png"), "a_good's figure")
  assert(io.open(root .. "/results/a_good/w.safetensors"), "a_good's checkpoint")
  assert(read_file(root .. "/results/b_error.log"):find("before", 1, true))
  -- several files given: the same, in the order given
  out, code = sh("cd " .. q(root) .. " && " .. NNLUA .. " --sandbox --out results2 "
                 .. "proj/class/b_error.lua proj/class/a_good.lua")
  check_eq(code, 1, out)
  assert(out:find("b_error.lua.*a_good.lua"), out)
  cleanup(root)
end)

test("--sandbox puts up the kernel's walls before the script runs: no_new_privs and a seccomp filter, "
     .. "on every thread (the walls go up before the thread pool starts)", function()
  local root = tree()
  local log = root .. "/run.log"
  -- the script starts the thread pool with a large product, then runs until the test has
  -- looked at it from outside (or its time is up)
  write_file(root .. "/proj/s.lua", "tensor.set_num_threads(2)\n"
             .. "local a = tensor.randn(400, 400) for _ = 1, 3 do a = a:matmul(a):tanh() end\n"
             .. "print('looping') io.stdout:flush() while true do end\n")
  local out = sh("cd " .. q(root .. "/proj") .. " && { " .. NNLUA .. " --sandbox --max-time 30 s.lua > "
                 .. q(log) .. " 2>&1 & p=$!; for i in $(seq 300); do grep -qs looping " .. q(log)
                 .. " && break; sleep 0.1; done; ls /proc/$p/task | wc -l;"
                 .. " cat /proc/$p/task/*/status | grep -E '^(NoNewPrivs|Seccomp):' | sort | uniq -c;"
                 .. " kill $p; wait $p; }")
  local threads = tonumber(out:match("^%s*(%d+)"))
  assert(threads and threads >= 2, "threads:\n" .. out)
  -- every thread: no_new_privs, and 2 (filter mode)
  assert(out:find("%s" .. threads .. " NoNewPrivs:%s+1"), out)
  assert(out:find("%s" .. threads .. " Seccomp:%s+2"), out)
  assert(read_file(log):find("kernel filter: seccomp", 1, true), read_file(log))
  cleanup(root)
end)

-- the text of a PDF (poppler-utils' pdftotext)
local function pdftext(pdf)
  local out, code = sh("pdftotext -layout " .. q(pdf) .. " -")
  check_eq(code, 0, out)
  return out
end

local function has(text, s, what) check_has(text, s, what or "report") end

local REPORTED = [[
tensor.manual_seed(5)
print("epoch", "loss")
print(1, string.format("%.3f", 0.25))
plot.lines{title = "curve", series = {{y = {3, 2, 1}}}}:save("figures/curve.png")
plot.save_image(tensor.ones(3, 4, 4), "grid.png")
-- the script cannot reach outside through the report's writer: the same gate
print(pcall(plot.save_image, tensor.ones(3, 2, 2), "../../outside/x.png"))
]]

test("--sandbox --report: the report of the sandboxed run lands in DIR (relative name, or absolute "
     .. "inside DIR) with the source, the output and the figures; nothing outside DIR changes", function()
  local root = tree()
  local out, code, before, after = run(root, REPORTED, "--report run.pdf", nil, "/proj/out")
  check_eq(code, 0, out)
  has(out, "report written to " .. root .. "/proj/out/run.pdf", "stderr")
  check_eq(after, before, "the tree outside out/")
  local text = pdftext(root .. "/proj/out/run.pdf")
  has(text, "s.lua")
  has(text, "tensor.manual_seed(5) at")
  has(text, "2 print(\"epoch\", \"loss\")")                    -- the source, numbered
  assert(text:find("\nepoch%s+loss\n") and text:find("\n1%s+0%.250\n"), "output:\n" .. text)
  has(text, "cannot write '../../outside/x.png'")              -- the refusal it printed
  has(text, "figures/curve.png")
  has(text, "grid.png")
  assert(io.open(root .. "/proj/out/figures/curve.png"), "the figure itself")
  -- HTML, an absolute name inside DIR, and the date when asked
  out, code, before, after = run(root, REPORTED, "--report-date --report " .. q(root .. "/proj/out/r/run.html"),
                                 nil, "/proj/out")
  check_eq(code, 0, out)
  check_eq(after, before, "the tree outside out/")
  local html = read_file(root .. "/proj/out/r/run.html")
  has(html, "figures/curve.png")
  has(html, "data:image/svg+xml;base64,")
  has(html, os.date("!%Y-"))
  -- a failing script still gives its report, in DIR
  out, code = run(root, "print('so far')\nerror('my mistake')\n", "--out " .. q(root .. "/res") .. " --report f.pdf")
  check_eq(code, 1, out)
  text = pdftext(root .. "/res/f.pdf")
  has(text, "so far")
  has(text, "s.lua:2: my mistake")
  cleanup(root)
end)

test("--sandbox --report refuses a report path outside DIR before the script runs: absolute elsewhere, "
     .. "'..', a symbolic link planted in DIR, a folder; several scripts take a relative name", function()
  local root = tree()
  local o = root .. "/proj/out"
  assert(os.execute("mkdir -p " .. q(o .. "/adir.pdf") .. " && cd " .. q(o)
                    .. " && ln -s ../../outside/secret.txt secret.pdf && ln -s ../../outside/new.pdf dangling.pdf"
                    .. " && ln -s ../../outside linkdir"))
  local cases = {
    {q(root .. "/outside/r.pdf"), "--report: cannot write '" .. root .. "/outside/r.pdf': --sandbox writes only in " .. o},
    {"/tmp/r.pdf", "--report: cannot write '/tmp/r.pdf': --sandbox writes only in"},
    {"../r.pdf", "--report '../r.pdf': a path with '..' is refused under --sandbox"},
    {"sub/../../r.pdf", "a path with '..' is refused"},
    {q(o .. "/../r.pdf"), "a path with '..' is refused"},
    {"secret.pdf", "--report: cannot write 'secret.pdf' (" .. root .. "/outside/secret.txt): --sandbox writes only in"},
    {"dangling.pdf", "--report: cannot write 'dangling.pdf': it leads through a symbolic link"},
    {"linkdir/r.pdf", "--report: cannot write 'linkdir/r.pdf' (" .. root .. "/outside/r.pdf)"},
    {"adir.pdf", "--report 'adir.pdf': it is a folder"},
  }
  for _, c in ipairs(cases) do
    local out, code, before, after = run(root, "print('the script ran')", "--report " .. c[1])
    check_eq(code, 1, c[1] .. ": " .. out)
    has(out, c[2], c[1])
    assert(not out:find("the script ran", 1, true), c[1] .. ": the script ran\n" .. out)
    check_eq(after, before, c[1] .. ": the tree")
  end
  check_eq(read_file(root .. "/outside/secret.txt"), "secret\n")
  local out, code = run(root, "print(1)", "--report-date")
  check_eq(code, 1, out)
  has(out, "--report-date needs --report")
  out, code = run(root, "print(1)", "--report")
  check_eq(code, 1, out)
  -- several scripts: one report each, DIR/<name>/NAME; an absolute name is refused
  write_file(root .. "/proj/a.lua", "print('from a') plot.lines{series = {{y = {1, 2}}}}:save('a.png')\n")
  write_file(root .. "/proj/b.lua", "print('from b')\n")
  out, code = sh("cd " .. q(root) .. " && " .. NNLUA .. " --sandbox --out res --report run.pdf proj/a.lua proj/b.lua")
  check_eq(code, 0, out)
  local text = pdftext(root .. "/res/a/run.pdf")
  has(text, "from a")
  has(text, "a.png")
  has(pdftext(root .. "/res/b/run.pdf"), "from b")
  for _, bad in ipairs{q(root .. "/res/run.pdf"), "../run.pdf"} do
    out, code = sh("cd " .. q(root) .. " && " .. NNLUA .. " --sandbox --out res2 --report " .. bad
                   .. " proj/a.lua proj/b.lua")
    check_eq(code, 1, out)
    has(out, "with several scripts, give a file name relative to the output folder")
  end
  cleanup(root)
end)

test("--sandbox may come anywhere among nnlua's options before the script; its own options without it, "
     .. "or nnlua's -e, -l, -i, -v, -W with it, are clear errors", function()
  local root = tree()
  write_file(root .. "/proj/s.lua", "print('args', ...) io.open('here.txt', 'w'):write('x'):close()\n")
  local function nn(args) return sh("cd " .. q(root .. "/proj") .. " && " .. NNLUA .. " " .. args) end
  local orders = {
    {"--out r1 --sandbox s.lua a b", "r1", "memory 4 GiB, time 3600 s"},
    {"--max-time 5 --sandbox s.lua a b", "out", "memory 4 GiB, time 5 s"},
    {"--max-memory=1G --out=r2 --sandbox --max-time=7 s.lua a b", "r2", "memory 1 GiB, time 7 s"},
    {"--report x.pdf --sandbox --out r3 s.lua a b", "r3", "memory 4 GiB, time 3600 s"},
    {"--sandbox --out r4 -- s.lua a b", "r4", "memory 4 GiB, time 3600 s"},
  }
  for _, c in ipairs(orders) do
    local out, code = nn(c[1])
    check_eq(code, 0, c[1] .. ": " .. out)
    has(out, "writes in " .. root .. "/proj/" .. c[2] .. "; limits: " .. c[3], c[1])
    has(out, "args\ta\tb", c[1])
    check_eq(read_file(root .. "/proj/" .. c[2] .. "/here.txt"), "x", c[1])
  end
  has(pdftext(root .. "/proj/r3/x.pdf"), "args")
  -- the script's own options after it stay its own, --sandbox included
  local out, code = nn("--sandbox --out r5 s.lua --out figs --sandbox")
  check_eq(code, 0, out)
  has(out, "args\t--out\tfigs\t--sandbox")
  out, code = nn("s.lua --sandbox")                       -- not sandboxed: an argument
  check_eq(code, 0, out)
  has(out, "args\t--sandbox")
  assert(not out:find("writes in", 1, true), out)
  for _, c in ipairs{{"--out r6 s.lua", "'--out' works only with --sandbox"},
                     {"--allow-read /tmp s.lua", "'--allow-read' works only with --sandbox"},
                     {"--max-memory=1G s.lua", "'--max-memory' works only with --sandbox"},
                     {"-W --max-time 3 s.lua", "'--max-time' works only with --sandbox"},
                     {"-i --sandbox s.lua", "'-i' cannot be used with --sandbox"},
                     {"-e 'x = 1' --sandbox s.lua", "'-e' cannot be used with --sandbox"},
                     {"--sandbox -lnn s.lua", "'-lnn' cannot be used with --sandbox"},
                     {"--sandbox -v s.lua", "'-v' cannot be used with --sandbox"},
                     {"--sandbox --kernel s.lua", "'--kernel' cannot be used with --sandbox"},
                     {"--out r7 --sandbox --bogus s.lua", "unrecognized option '--bogus'"}} do
    out, code = nn(c[1])
    check_eq(code, 1, c[1] .. ": " .. out)
    has(out, c[2], c[1])
    assert(not out:find("args", 1, true), c[1] .. ": the script ran\n" .. out)
  end
  for _, d in ipairs{"r6", "r7", "out/r6"} do
    check_eq(sh("test -e " .. q(root .. "/proj/" .. d) .. " && echo made"), "", d)
  end
  out, code = nn("--out r --help --sandbox")
  check_eq(code, 0, out)
  has(out, "usage: nnlua --sandbox")
  cleanup(root)
end)

-- A stand-in for a memory-safety bug in nnlua that opens a file without asking the gate:
-- a library preloaded into nnlua whose realpath, given "@probe:w:PATH" or "@probe:r:PATH" (the
-- gate calls realpath first with the script's path), makes a raw open(2) of PATH for writing
-- or reading and prints what the kernel answered, then fails as realpath would.
local PROBE = [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
char *realpath(const char *path, char *resolved) {
  if (strncmp(path, "@probe:", 7) == 0 && (path[7] == 'r' || path[7] == 'w') && path[8] == ':') {
    const char *file = path + 9;
    int w = path[7] == 'w';
    int fd = w ? open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : open(file, O_RDONLY | O_CLOEXEC);
    char line[1024];
    int n = snprintf(line, sizeof line, "probe %c %s: %s\n", path[7], file, fd >= 0 ? "opened" : strerror(errno));
    if (fd >= 0) {
      if (w && write(fd, "probe\n", 6) != 6) n = snprintf(line, sizeof line, "probe write failed\n");
      close(fd);
    }
    if (write(1, line, (size_t)n) != n) abort();
    errno = ENOENT;
    return NULL;
  }
  static char *(*real)(const char *, char *);
  if (real == NULL) real = (char *(*)(const char *, char *))dlsym(RTLD_NEXT, "realpath");
  return real(path, resolved);
}
]]

test("--sandbox with Landlock: the kernel itself refuses a write outside DIR and a read outside the "
     .. "allowed folders to code that skips the gate (a preloaded probe); without Landlock it would not", function()
  local root = tree()
  write_file(root .. "/probe.c", PROBE)
  local cc, ccode = sh("cc -shared -fPIC -O1 -o " .. q(root .. "/probe.so") .. " " .. q(root .. "/probe.c") .. " -ldl")
  check_eq(ccode, 0, cc)
  local O, outside = root .. "/proj/out", root .. "/outside"
  local script = PRELUDE .. string.format([[
local O, X, P = %q, %q, %q
for _, p in ipairs{"w:" .. O .. "/inside.txt", "r:" .. P .. "/data.txt", "w:" .. X .. "/new.txt",
                   "r:" .. X .. "/secret.txt", "w:" .. X .. "/secret.txt", "r:/etc/passwd",
                   "w:/proc/self/mem", "r:" .. O .. "/inside.txt"} do
  pcall(io.open, "@probe:" .. p, p:sub(1, 1))     -- the gate refuses it after the probe's open
end
io.stdout:flush()
]], O, outside, root .. "/proj")
  -- ASan's runtime must come first among the libraries unless told otherwise
  local env = "LD_PRELOAD=" .. q(root .. "/probe.so") .. " ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "
  write_file(root .. "/proj/s.lua", script)
  local before = snapshot(root, "/proj/out")
  local out, code = sh("cd " .. q(root .. "/proj") .. " && " .. env .. NNLUA .. " --sandbox --out out s.lua")
  check_eq(code, 0, out)
  if out:find("no Landlock (the kernel has none)", 1, true) or out:find("disabled in this kernel", 1, true) then
    print("  (skipped: this kernel has no Landlock)")
    cleanup(root)
    return
  end
  has(out, "kernel filter: seccomp + Landlock ABI ")
  local function answer(rw, path)
    return assert(out:match("probe " .. rw .. " " .. path:gsub("%p", "%%%0") .. ": ([^\n]*)"),
                  "no probe of " .. path .. " in:\n" .. out)
  end
  check_eq(answer("w", O .. "/inside.txt"), "opened", "write in DIR")
  check_eq(answer("r", O .. "/inside.txt"), "opened", "read in DIR")
  check_eq(answer("r", root .. "/proj/data.txt"), "opened", "read in the script's folder")
  check_eq(answer("w", outside .. "/new.txt"), "Permission denied", "write outside DIR")
  check_eq(answer("w", outside .. "/secret.txt"), "Permission denied", "write over a file outside DIR")
  check_eq(answer("r", outside .. "/secret.txt"), "Permission denied", "read outside the allowed folders")
  check_eq(answer("r", "/etc/passwd"), "Permission denied", "read /etc/passwd")
  check_eq(answer("w", "/proc/self/mem"), "Permission denied", "write /proc/self/mem")
  check_eq(snapshot(root, "/proj/out"), before, "the tree outside out/")
  check_eq(read_file(O .. "/inside.txt"), "probe\n")
  -- the same probe without Landlock reaches the files: what the walls stop is real
  out, code = sh("cd " .. q(root .. "/proj") .. " && NNLUA_SANDBOX_NO_LANDLOCK=1 " .. env .. NNLUA
                 .. " --sandbox --out out s.lua")
  check_eq(code, 0, out)
  has(out, "kernel filter: seccomp + no Landlock (NNLUA_SANDBOX_NO_LANDLOCK)")
  check_eq(answer("w", outside .. "/new.txt"), "opened", "write outside DIR without Landlock")
  check_eq(answer("r", outside .. "/secret.txt"), "opened", "read outside without Landlock")
  check_eq(read_file(outside .. "/new.txt"), "probe\n")
  os.remove(outside .. "/new.txt")
  -- an older kernel's Landlock (only the rights its ABI knows): the same walls, and files in DIR
  -- are still written whole (a temporary file renamed in its folder)
  write_file(root .. "/proj/s.lua", script .. [[
plot.lines{series = {{y = {1, 2, 3}}}}:save("figs/loss.png")
data.write_csv("figs/h.csv", {{1, 2}})
local f = assert(io.open("t.txt", "w")) f:write("x") f:close()
assert(os.rename("t.txt", "t2.txt")) assert(os.remove("t2.txt"))
print("wrote")
]])
  before = snapshot(root, "/proj/out")
  for abi = 1, 6 do
    os.remove(O .. "/figs/loss.png")
    out, code = sh("cd " .. q(root .. "/proj") .. " && NNLUA_SANDBOX_LANDLOCK_ABI=" .. abi .. " " .. env
                   .. NNLUA .. " --sandbox --out out s.lua")
    check_eq(code, 0, "ABI " .. abi .. ": " .. out)
    has(out, "kernel filter: seccomp + Landlock ABI " .. abi .. "\n", "ABI " .. abi)
    has(out, "wrote", "ABI " .. abi)
    check_eq(answer("w", outside .. "/new.txt"), "Permission denied", "ABI " .. abi .. ": write outside DIR")
    check_eq(answer("r", outside .. "/secret.txt"), "Permission denied", "ABI " .. abi .. ": read outside")
    assert(io.open(O .. "/figs/loss.png"), "ABI " .. abi .. ": the figure")
  end
  check_eq(snapshot(root, "/proj/out"), before, "the tree outside out/")
  cleanup(root)
end)
