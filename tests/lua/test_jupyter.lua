-- tests/lua/test_jupyter.lua -- the Jupyter kernel (jupyter/nnlua_kernel.py,
-- nnlua --kernel, stdlib/nnlua/kernel.lua) through Jupyter itself:
-- `jupyter nbconvert --to notebook --execute` runs tests/jupyter/course.ipynb
-- (the course exercise on 1000 images) and errors.ipynb, and the outputs
-- saved in the notebooks are checked: text, results, errors and the figures'
-- PNGs. tests/jupyter/session.py checks interrupt, completion and help.
--
-- The kernel is installed into a temporary folder, with HOME and every
-- Jupyter folder pointed there: the user's own Jupyter is never touched.
-- Without Jupyter the tests fail (they never skip): `make deps` installs it.
local NNLUA = os.getenv("NNLUA") or "./nnlua"
local PYTHON = "/usr/bin/python3"         -- Debian's, where python3-ipykernel is

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- runs a shell command; returns whether it succeeded and its output (stdout and stderr)
local function capture(cmd)
  local out, ok = run_command(cmd)
  return ok, out
end

---------------------------------------------------------------------------
-- reading the saved notebooks: JSON and base64

local function json_decode(s)
  local pos = 1
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local escapes = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
                   r = "\r", t = "\t"}
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = s:sub(pos, pos)
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        if e == "u" then
          out[#out + 1] = utf8.char(tonumber(s:sub(pos + 2, pos + 5), 16))
          pos = pos + 6
        else
          out[#out + 1] = assert(escapes[e], "bad JSON escape")
          pos = pos + 2
        end
      else
        local e = s:find('["\\]', pos) or error("unfinished JSON string")
        out[#out + 1] = s:sub(pos, e - 1)
        pos = e
      end
    end
  end
  value = function()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      repeat
        ws()
        local k = str(); ws()
        assert(s:sub(pos, pos) == ":", "JSON: ':' expected"); pos = pos + 1
        t[k] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
      until d == "}"
      return t
    elseif c == "[" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      repeat
        t[#t + 1] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
      until d == "]"
      return t
    elseif c == '"' then
      return str()
    end
    local lit = s:match("^[%w%.%-+]+", pos)
    pos = pos + #lit
    if lit == "true" then return true elseif lit == "false" then return false
    elseif lit == "null" then return nil end
    return tonumber(lit)
  end
  return value()
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64_decode(s)
  s = s:gsub("[^%w+/]", "")
  local out = {}
  for i = 1, #s, 4 do
    local n, chars = 0, 0
    for j = i, math.min(i + 3, #s) do
      n = n * 64 + (B64:find(s:sub(j, j), 1, true) - 1)
      chars = chars + 1
    end
    n = n << (6 * (4 - chars))
    local bytes = string.char(n >> 16 & 255, n >> 8 & 255, n & 255)
    out[#out + 1] = bytes:sub(1, chars - 1)
  end
  return table.concat(out)
end

-- a text field of a notebook: a string or an array of lines
local function text(v)
  if type(v) == "table" then return table.concat(v) end
  return v
end

---------------------------------------------------------------------------
-- the Jupyter set-up, once for the file

local jupyter        -- {dir, env}: the temporary Jupyter, once installed

local function setup()
  if jupyter then return jupyter end
  local ok, out = capture("command -v jupyter-nbconvert && " .. PYTHON ..
                          " -c 'import ipykernel, jupyter_client, nbclient, nbformat'")
  if not ok then
    error("Jupyter is not installed (jupyter-nbconvert, python3-ipykernel, python3-nbclient): " ..
          "run make deps\n" .. out, 0)
  end
  local dir = tmpdir()
  local env = string.format(
    "HOME=%s JUPYTER_PATH=%s JUPYTER_CONFIG_DIR=%s JUPYTER_DATA_DIR=%s " ..
    "JUPYTER_RUNTIME_DIR=%s IPYTHONDIR=%s JUPYTER_PLATFORM_DIRS=0 ",
    sh_quote(dir), sh_quote(dir .. "/prefix/share/jupyter"), sh_quote(dir .. "/config"),
    sh_quote(dir .. "/data"), sh_quote(dir .. "/runtime"), sh_quote(dir .. "/ipython"))
  local okk, outk = capture(env .. PYTHON .. " jupyter/nnlua_kernel.py install " ..
                            sh_quote(NNLUA) .. " " .. sh_quote(dir .. "/prefix"))
  assert(okk, outk)
  local spec = read_file(dir .. "/prefix/share/jupyter/kernels/nnlua/kernel.json")
  assert(spec:find('"NNLUA"', 1, true), spec)
  jupyter = {dir = dir, env = env}
  return jupyter
end

-- executes tests/jupyter/<name>.ipynb with nbconvert; returns its code cells as saved
local function execute(name, allow_errors)
  local j = setup()
  local out_name = name .. "-out"
  local ok, out = capture(j.env .. "jupyter nbconvert --to notebook --execute " ..
                          (allow_errors and "--allow-errors " or "") ..
                          "--ExecutePreprocessor.timeout=120 " ..
                          "--output-dir " .. sh_quote(j.dir) .. " --output " .. out_name ..
                          " tests/jupyter/" .. name .. ".ipynb")
  assert(ok, out)
  local nb = json_decode(read_file(j.dir .. "/" .. out_name .. ".ipynb"))
  local cells = {}
  for _, c in ipairs(nb.cells) do
    if c.cell_type == "code" then cells[#cells + 1] = c end
  end
  return cells
end

-- the outputs of a cell, with stream outputs of the same name in a row merged
local function outputs(cell)
  local list = {}
  for _, o in ipairs(cell.outputs) do
    local last = list[#list]
    if o.output_type == "stream" and last and last.output_type == "stream" and last.name == o.name then
      last.text = last.text .. text(o.text)
    else
      local copy = {}
      for k, v in pairs(o) do copy[k] = v end
      if copy.text then copy.text = text(copy.text) end
      list[#list + 1] = copy
    end
  end
  return list
end

-- checks that data holds a PNG (of w x h pixels, if given) with a text/plain
-- stand-in; returns its pixels, [3, H, W]
local function check_png(data, what, w, h)
  local png = base64_decode(text(data["image/png"]))
  check_eq(png:sub(1, 8), "\137PNG\r\n\26\n", what .. ": PNG signature")
  check_eq(text(data["text/plain"]), "<Figure>", what .. ": text/plain")
  local path = jupyter.dir .. "/figure.png"
  write_file(path, png)
  local img = plot.read_image(path)
  if w then check_eq(table.concat(img.shape, "x"), "3x" .. h .. "x" .. w, what .. ": size") end
  return img
end

---------------------------------------------------------------------------

test("the course notebook runs under nbconvert: text, results, figures inline, progress", function()
  local cells = execute("course")
  check_eq(#cells, 6, "code cells")

  local o = outputs(cells[1])
  check_eq(#o, 1, "cell 1 outputs")
  check_eq(o[1].name, "stdout")
  check_eq(o[1].text, "1000\tAnkle boot\n")

  o = outputs(cells[2])             -- the last expression: the model, as the REPL prints it
  check_eq(o[1].output_type, "execute_result")
  check_eq(cells[2].execution_count, 2)
  local summary = text(o[1].data["text/plain"])
  assert(summary:find("^Sequential%(") and summary:find("Parameters: 50,890", 1, true), summary)

  o = outputs(cells[3])             -- one epoch: the bar on stderr, then the printed losses
  local dump = {}
  for i, x in ipairs(o) do dump[i] = (x.name or x.output_type) .. " " .. string.format("%q", x.text or "") end
  check_eq(#o, 2, "cell 3 outputs: " .. table.concat(dump, ", "))
  check_eq(o[1].name, "stderr")
  -- one line: updates only after "\r", one "\n" at the end, after the finished bar
  local bar = o[1].text
  assert(bar:match("\r?%s*20/20 %[=+%] 100%%  [%d,]+ samples/s  0:00\n$") and not bar:sub(1, -2):find("\n"), bar)
  assert(not bar:find("\27", 1, true), "no terminal escapes in a notebook")
  check_eq(o[2].name, "stdout")
  local first, last = o[2].text:match("^epoch 1: 20 steps, first loss ([%d.]+), last loss ([%d.]+)\n$")
  assert(first, o[2].text)
  assert(tonumber(first) > 2.0 and tonumber(first) < 2.6 and tonumber(last) < 1.6, o[2].text)

  o = outputs(cells[4])             -- a figure as the last expression
  check_eq(#o, 1, "cell 4 outputs")
  check_eq(o[1].output_type, "display_data")
  local img = check_png(o[1].data, "loss curve", 800, 600)
  assert(img:min():item() < 0.5 and img:max():item() > 0.9, "the curve has dark and light pixels")

  o = outputs(cells[5])             -- fig:show() between two prints, in order
  check_eq(#o, 3, "cell 5 outputs")
  check_eq(o[1].text, "before the grid\n")
  check_eq(o[2].output_type, "display_data")
  img = check_png(o[2].data, "grid")
  assert(img.shape[3] > img.shape[2], "a 1x2 grid is wider than high")
  check_eq(o[3].text, "after the grid\n")

  o = outputs(cells[6])             -- several values: tab-separated, as the REPL prints them
  local result = o[#o]
  check_eq(result.output_type, "execute_result")
  local acc, above = text(result.data["text/plain"]):match("^training accuracy ([%d.]+)\t(%a+)$")
  assert(acc and above == "true", text(result.data["text/plain"]))
end)

test("errors in a notebook show the message, the cell's line and the traceback; the state stays", function()
  local cells = execute("errors", true)
  check_eq(#cells, 4, "code cells")
  local e = outputs(cells[1])[1]
  check_eq(e.output_type, "error")
  check_eq(e.evalue, "In[1]:2: attempt to perform arithmetic on a nil value (global 'undefined_thing')")
  check_eq(e.traceback[2], "    2 | y = x + undefined_thing")
  check_eq(e.traceback[#e.traceback], "\tIn[1]:2: in main chunk")

  e = outputs(cells[2])[1]          -- raised inside nnlua: located at the user's line
  check_eq(e.evalue, "In[2]:2: Linear(784, 10): input of shape [2, 748] does not match (last dim 748 vs 784)")
  check_eq(e.traceback[2], "    2 | m(tensor.zeros(2, 748))")

  local o = outputs(cells[3])
  check_eq(o[1].text, "the state is kept:\t1\n")

  e = outputs(cells[4])[1]          -- a syntax error
  check_eq(e.evalue, "In[4]:1: unexpected symbol near '='")
  check_eq(e.traceback[2], "    1 | z = = 2")
end)

test("interrupt, Tab completion, help and a cell that ends nnlua (jupyter_client)", function()
  local j = setup()
  -- with the REPL's Lua half, the kernel's cells get its locals and help too
  local repl = package.searchpath("nnlua.repl", package.path) and package.searchpath("nnlua.help", package.path)
  local ok, out = capture(j.env .. PYTHON .. " tests/jupyter/session.py" .. (repl and " --repl" or ""))
  assert(ok, out)
  local checks = select(2, out:gsub("ok: ", ""))
  check_eq(checks, repl and 15 or 12, "checks passed\n" .. out)
end)

-- the frames of a reply file: {kind, arg, payload}, ...
local function read_frames(s)
  local frames, pos = {}, 1
  while pos <= #s do
    local kind, arg, len, after = s:match("^(%a+) (%-?%d+) (%d+)\n()", pos)
    assert(kind, "bad frame at byte " .. pos .. ": " .. string.format("%q", s:sub(pos, pos + 40)))
    frames[#frames + 1] = {kind, tonumber(arg), s:sub(after, after + tonumber(len) - 1)}
    pos = after + tonumber(len)
  end
  return frames
end

test("nnlua --kernel speaks its protocol on the pipes it is given (no Jupyter)", function()
  local dir = tmpdir()
  local requests = {}
  local function req(kind, payload, arg)
    requests[#requests + 1] = string.format("%s %d %d\n%s", kind, arg or 0, #payload, payload)
  end
  req("execute", "x = 2", 1)
  req("execute", "x * 21", 2)
  req("execute", "local s = 'a'\ns .. 'b', nil, {1}", 3)
  req("execute", "print('p1')\nerror('e')", 4)
  req("execute", "print('p2')\nplot.lines{series = {{y = {1, 3, 2}}}, width = 200, height = 100}", 5)
  req("ack", "")
  req("execute", "f = plot.lines{series = {{y = {1, 2}}}, width = 120, height = 100}\n" ..
                 "plot.animate{frames = {f, f}, fps = 5}", 6)
  req("ack", "")
  req("execute", "for i = 1,", 6)
  req("complete", "y = tensor.ra")
  req("inspect", "tensor.randn")
  req("inspect", "nothing_here")
  req("execute", "print(x)", 7)
  write_file(dir .. "/requests", table.concat(requests))
  local ok, out = capture("NNLUA_KERNEL_FDS=3,4 " .. NNLUA .. " --kernel 3<" .. sh_quote(dir .. "/requests") ..
                          " 4>" .. sh_quote(dir .. "/replies") .. " </dev/null 2>" .. sh_quote(dir .. "/stderr"))
  assert(ok, out .. read_file(dir .. "/stderr"))
  check_eq(out, "p1\np2\n2\n", "stdout")
  check_eq(read_file(dir .. "/stderr"), "", "stderr")
  local f = read_frames(read_file(dir .. "/replies"))
  local kinds = {}
  for i, x in ipairs(f) do kinds[i] = x[1] end
  check_eq(table.concat(kinds, " "), "ready ok result result error display ok display ok error matches help help ok")
  check_eq(f[1][3], _VERSION)
  check_eq(f[3][3], "42")
  assert(f[4][3]:match('^ab\tnil\t'), f[4][3])
  check_eq(f[5][3]:match("^[^\n]*\n[^\n]*"), "In[4]:2: e\n    2 | error('e')")
  check_eq(f[6][3]:sub(1, 8), "\137PNG\r\n\26\n", "display: a PNG")
  write_file(dir .. "/fig.png", f[6][3])
  check_eq(table.concat(plot.read_image(dir .. "/fig.png").shape, "x"), "3x100x200")
  check_eq(f[6][2], 0, "a figure is a PNG")
  check_eq(f[8][2], 1, "an animation is a GIF")
  check_eq(f[8][3]:sub(1, 6), "GIF89a", "display: a GIF")
  write_file(dir .. "/anim.gif", f[8][3])
  check_eq(#plot.read_gif(dir .. "/anim.gif"), 2, "frames")
  assert(f[10][3]:find("^In%[6%]:1: .*near <eof>"), f[10][3])
  local word, list = f[11][3]:match("^([^\n]*)\n(.*)$")
  check_eq(word, "tensor.ra")
  assert(("\n" .. list .. "\n"):find("\ntensor.randn\n", 1, true), list)
  assert(f[12][3]:find("tensor.randn", 1, true), f[12][3])
  check_eq(f[13][3], "", "help for an unknown name")
  assert(os.execute("rm -rf " .. sh_quote(dir)))
end)

test("nnlua --kernel started by hand says how it is meant to be started", function()
  local ok, out = capture(NNLUA .. " --kernel")
  assert(not ok, out)
  assert(out:find("NNLUA_KERNEL_FDS must be 'in,out'", 1, true), out)
end)

-- the temporary Jupyter goes once the tests above have run (whichever -k chose)
if jupyter then os.execute("rm -rf " .. sh_quote(jupyter.dir)) end
