-- Files on disk (API.md, "Files"; nn/io/atomic.h): every writer (tensor.save,
-- m:save, fig:save, plot.save_image, data.write_csv) writes through a FIFO or character
-- device and never replaces it, refuses block devices, sockets and folders,
-- keeps an existing file's mode, writes through symlinks, takes names of up to
-- 255 bytes, makes missing folders, refuses NUL bytes in paths, and removes
-- the temporary files a killed writer left. Device nodes, FIFOs, sockets and
-- links are made inside a folder of the test's own, never in /dev.

local NNLUA = os.getenv("NNLUA") or arg[-1] or "./nnlua"

local function sh(cmd) return os.execute(cmd) end
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local run = command_stdout

local function kind(p) return run("stat -c %F " .. q(p) .. " 2>/dev/null") end
local function mode(p) return run("stat -c %a " .. q(p)) end
local function exists(p) local f = io.open(p, "rb"); if f then f:close() end; return f ~= nil end
local function rm(d) sh("rm -rf " .. q(d)) end

local function listdir(d)
  local out = {}
  for name in run("ls -A " .. q(d)):gmatch("[^\n]+") do out[#out + 1] = name end
  table.sort(out)
  return out
end

-- every writer, as fn(path)
local function writers()
  local fig = plot.lines{series = {{y = {1, 2, 3}}}}
  local model = nn.Linear(2, 2)
  return {
    {"tensor.save", function(p) tensor.save({w = tensor.ones(4)}, p) end},
    {"m:save", function(p) model:save(p) end},
    {"fig:save", function(p) fig:save(p) end},
    {"plot.save_image", function(p) plot.save_image(tensor.zeros(4, 4), p) end},
    {"data.write_csv", function(p) data.write_csv(p, {{1, 0.5}}, {columns = {"epoch", "loss"}}) end},
  }
end

local function sleep(s) sh("sleep " .. s) end

test("a character device is written through, never replaced", function()
  local d = tmpdir()
  assert(sh("mknod " .. q(d .. "/null.png") .. " c 1 3"), "mknod (needs root)")
  local before = run("stat -c '%F %t %T' " .. q(d .. "/null.png"))
  for _, w in ipairs(writers()) do
    w[2](d .. "/null.png")
    check_eq(run("stat -c '%F %t %T' " .. q(d .. "/null.png")), before, w[1] .. " keeps the device")
  end
  -- through a symlink to it as well
  sh("ln -s null.png " .. q(d .. "/link.png"))
  tensor.save(tensor.ones(2), d .. "/link.png")
  check_eq(kind(d .. "/link.png"), "symbolic link")
  check_eq(run("stat -c '%F %t %T' " .. q(d .. "/null.png")), before)
  check_eq(table.concat(listdir(d), " "), "link.png null.png", "nothing else in the folder")
  rm(d)
end)

test("a block device, a socket and a folder are refused and left as they are", function()
  local d = tmpdir()
  -- major 240 is for local/experimental use: no driver behind it here
  assert(sh("mknod " .. q(d .. "/disk.png") .. " b 240 0"), "mknod (needs root)")
  sh("mkdir " .. q(d .. "/dir.png"))
  local has_sock = sh("python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "
                      .. q(d .. "/sock.png") .. " 2>/dev/null")
  for _, w in ipairs(writers()) do
    local e = expect_error(function() w[2](d .. "/disk.png") end, "it is a block device")
    assert(e:find(d .. "/disk.png", 1, true), e)
    check_eq(kind(d .. "/disk.png"), "block special file")
    expect_error(function() w[2](d .. "/dir.png") end, "it is a folder")
    check_eq(kind(d .. "/dir.png"), "directory")
    if has_sock then
      expect_error(function() w[2](d .. "/sock.png") end, "it is a socket")
      check_eq(kind(d .. "/sock.png"), "socket")
    end
  end
  check_eq(#listdir(d .. "/dir.png"), 0, "no temporary file left in the folder")
  check_eq(#listdir(d), has_sock and 3 or 2, "no temporary file left")
  rm(d)
end)

test("a FIFO: written through when read, an error without a reader, never replaced", function()
  local d = tmpdir()
  local fifo = d .. "/pipe.st"
  assert(sh("mkfifo " .. q(fifo)))
  -- no reader: an error at once, not a hang
  local t0 = os.monotime()
  expect_error(function() tensor.save(tensor.ones(3), fifo) end, "a FIFO with no reader")
  assert(os.monotime() - t0 < 5, "did not wait")
  check_eq(kind(fifo), "fifo")
  -- tensor.load of a FIFO: refused, not blocked in open
  expect_error(function() tensor.load(fifo) end, "not a regular file")
  -- a reader: the bytes arrive
  sh("cat " .. q(fifo) .. " > " .. q(d .. "/copy.st") .. " &")
  local x = tensor.randn(300, 300)                 -- bigger than a pipe's buffer
  local ok, err
  for _ = 1, 100 do                                -- until the reader has opened the FIFO
    ok, err = pcall(tensor.save, {x = x}, fifo)
    if ok or not tostring(err):find("no reader", 1, true) then break end
    sleep(0.05)
  end
  assert(ok, err)
  for _ = 1, 100 do
    local got = pcall(tensor.load, d .. "/copy.st")
    if got then break end
    sleep(0.05)
  end
  check_close(tensor.load(d .. "/copy.st").x, x, 0)
  check_eq(kind(fifo), "fifo")
  rm(d)
end)

test("a FIFO whose reader leaves early: an error, the process lives (no SIGPIPE)", function()
  local d = tmpdir()
  local fifo = d .. "/pipe.st"
  assert(sh("mkfifo " .. q(fifo)))
  sh("head -c 10 " .. q(fifo) .. " > /dev/null &")
  local err
  for _ = 1, 100 do
    local ok
    ok, err = pcall(tensor.save, tensor.randn(1000, 1000), fifo)
    assert(not ok, "4 MB cannot fit in 10 bytes")
    if not tostring(err):find("no reader", 1, true) then break end
    sleep(0.05)
  end
  assert(tostring(err):find("reader went away", 1, true) or tostring(err):find("Broken pipe", 1, true), err)
  check_eq(kind(fifo), "fifo")
  rm(d)
end)

test("overwriting keeps the file's mode; a new file gets 0666 & ~umask", function()
  local d = tmpdir()
  for _, w in ipairs(writers()) do
    local p = d .. "/f.png"
    write_file(p, "old")
    sh("chmod 600 " .. q(p))
    w[2](p)
    check_eq(mode(p), "600", w[1])
    sh("chmod 644 " .. q(p))
    w[2](p)
    check_eq(mode(p), "644", w[1])
    os.remove(p)
  end
  local want = run("sh -c 'umask 027; " .. q(NNLUA) .. " -e \"tensor.save(tensor.ones(1), [[" .. d
                   .. "/new.st]])\" && stat -c %a " .. q(d .. "/new.st") .. "'")
  check_eq(want, "640", "0666 & ~027")
  rm(d)
end)

test("a symlink is written through to its target; the link stays", function()
  local d = tmpdir()
  sh("mkdir " .. q(d .. "/real"))
  write_file(d .. "/real/ckpt.st", "old")
  sh("chmod 600 " .. q(d .. "/real/ckpt.st"))
  sh("ln -s real/ckpt.st " .. q(d .. "/latest.st"))
  tensor.save({a = tensor.ones(2)}, d .. "/latest.st")
  check_eq(kind(d .. "/latest.st"), "symbolic link")
  check_eq(run("readlink " .. q(d .. "/latest.st")), "real/ckpt.st")
  check_eq(tensor.load(d .. "/real/ckpt.st").a:sum():item(), 2)
  check_eq(mode(d .. "/real/ckpt.st"), "600", "the target's mode")
  check_eq(table.concat(listdir(d .. "/real"), " "), "ckpt.st", "the temporary was in the target's folder")
  -- a dangling link: its target is created (as fopen would)
  sh("ln -s made/here.st " .. q(d .. "/dangling.st"))
  tensor.save(tensor.ones(3), d .. "/dangling.st")
  check_eq(kind(d .. "/dangling.st"), "symbolic link")
  check_eq(tensor.load(d .. "/made/here.st"):numel(), 3)
  -- a loop: an error
  sh("ln -s loop2 " .. q(d .. "/loop1") .. "; ln -s loop1 " .. q(d .. "/loop2"))
  expect_error(function() tensor.save(tensor.ones(1), d .. "/loop1") end, "symbolic links")
  rm(d)
end)

test("names of 246 to 255 bytes save and load; 256 is an error that says so", function()
  local d = tmpdir()
  for n = 246, 255 do
    for _, w in ipairs(writers()) do
      local name = ("n"):rep(n - 4) .. ".png"
      w[2](d .. "/" .. name)
      check_eq(#listdir(d), 1, w[1] .. " with a name of " .. n .. " bytes")
      os.remove(d .. "/" .. name)
    end
    local p = d .. "/" .. ("s"):rep(n)
    tensor.save({x = tensor.ones(2)}, p)
    tensor.save({x = tensor.ones(3)}, p)           -- overwrite too
    check_eq(tensor.load(p).x:numel(), 3)
    os.remove(p)
  end
  expect_error(function() tensor.save(tensor.ones(1), d .. "/" .. ("s"):rep(256)) end, "too long")
  check_eq(#listdir(d), 0)
  rm(d)
end)

test("missing parent folders are made", function()
  local d = tmpdir()
  for i, w in ipairs(writers()) do
    local p = d .. "/a" .. i .. "/b/c/x.png"
    w[2](p)
    assert(exists(p), w[1])
  end
  write_file(d .. "/file", "")
  expect_error(function() tensor.save(tensor.ones(1), d .. "/file/sub/x.st") end, "cannot create folder")
  expect_error(function() tensor.save(tensor.ones(1), d .. "/") end, "it is a folder")
  rm(d)
end)

test("a NUL inside a path is an error, not a shorter name", function()
  local d = tmpdir()
  local m = nn.Linear(1, 1)
  local p = d .. "/a.st\0x"
  local e = expect_error(function() tensor.save(tensor.ones(1), p) end, "bad argument #2 to ")
  assert(e:find("NUL", 1, true) and e:find("a.st\\0x", 1, true), e)
  expect_error(function() tensor.load(p) end, "NUL")
  expect_error(function() m:save(p) end, "NUL")
  expect_error(function() m:load(p) end, "NUL")
  check_eq(#listdir(d), 0, "nothing written")
  rm(d)
end)

test("stale temporary files of the same name are removed; locked ones and others kept", function()
  local d = tmpdir()
  local p = d .. "/x.st"
  write_file(d .. "/x.st.nntmpAbC123", ("z"):rep(1000))       -- left by a killed writer
  write_file(d .. "/x.st.nntmpQQQQQQ", "")
  write_file(d .. "/y.st.nntmpAbC123", "")                    -- another file's
  write_file(d .. "/x.st.nntmpAbC12", "")                     -- not our pattern
  write_file(d .. "/x.st.nntmpAbC1234", "")
  -- a writer still at work (another process holds the lock): kept
  sh("flock " .. q(d .. "/x.st.nntmpLocked") .. " sleep 30 > /dev/null 2>&1 & echo $! > " .. q(d .. "/pid"))
  for _ = 1, 100 do if exists(d .. "/x.st.nntmpLocked") then break end sleep(0.05) end
  sleep(0.2)
  tensor.save(tensor.ones(2), p)
  check_eq(table.concat(listdir(d), " "),
           "pid x.st x.st.nntmpAbC12 x.st.nntmpAbC1234 x.st.nntmpLocked y.st.nntmpAbC123")
  sh("kill " .. read_file(d .. "/pid"):match("%d+"))
  -- long names: the temporary's name is shortened with a hash, and found again
  local long = d .. "/" .. ("L"):rep(250)
  tensor.save(tensor.ones(1), long)
  rm(d)
end)

test("kill -9 during saves: the file is whole, the next save removes what was left", function()
  local d = tmpdir()
  local p = d .. "/ckpt.st"
  tensor.save({w = tensor.zeros(10)}, p)
  local script = d .. "/saver.lua"
  write_file(script, "local x = tensor.randn(1000, 1000)\n" ..
                     "while true do tensor.save({w = x, n = 1}, " .. string.format("%q", p) .. ") end\n")
  local left = 0
  for round = 1, 5 do
    local pid = run("sh -c 'echo $$; exec " .. q(NNLUA) .. " " .. q(script) .. " >/dev/null 2>&1' &")
    sleep(0.3 + 0.1 * round)
    sh("kill -9 " .. pid)
    for _ = 1, 100 do if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end sleep(0.05) end
    local names = listdir(d)
    for _, n in ipairs(names) do if n:find(".nntmp", 1, true) then left = left + 1 end end
    local v = tensor.load(p)                          -- old or new, never half
    assert(v.w:numel() == 10 or v.w:numel() == 1000000)
  end
  tensor.save({w = tensor.ones(1)}, p)
  check_eq(table.concat(listdir(d), " "), "ckpt.st saver.lua", "no temporary file left (" .. left .. " seen)")
  rm(d)
end)
