-- nnlua.kernel: the nnlua side of the Jupyter kernel. `nnlua --kernel`
-- (vm/kernel.c) calls kernel.main(run); jupyter/nnlua_kernel.py starts that
-- process and talks to it over two pipes whose descriptors it names in
-- NNLUA_KERNEL_FDS="in,out". The cells' own output goes to stdout and stderr,
-- which the Python side reads separately and sends to the notebook as streams.
--
-- Every message, both ways, is one frame: a header line "kind arg length\n"
-- (arg an integer, length the bytes that follow) and then length bytes.
--
--   requests (Python -> nnlua)              replies (nnlua -> Python)
--   execute <count> <n> code                any number of: display <gif> <n> image-bytes
--                                                   progress <how> <n> bar-text
--                                             (each answered by: ack 0 0)
--                                           then one of:   result 0 <n> text
--                                                          error 0 <n> message
--                                                          ok 0 0
--   complete 0 <n> code-before-cursor       matches 0 <n> word\nmatch\nmatch...
--   inspect 0 <n> name                      help 0 <n> text (n = 0: nothing known)
--   (at start)                              ready 0 <n> version
--
-- Before a frame goes out, stdout is flushed (stderr is unbuffered), and
-- after a display or progress frame the cell waits for the Python side's
-- ack, which comes once it has emptied the stream pipes and sent the frame
-- on: so what a cell prints before and after a figure or a progress bar
-- update stays before and after it. (Text on stdout and on stderr, two
-- pipes, may still swap places, as in any Jupyter kernel.)
--
-- The progress bar (stdlib/data/progress.lua) draws through kernel.line
-- while the loop runs: a progress frame whose <how> is 0 for an update, 1
-- for the finished bar, 2 to end the line of a bar left unfinished; the
-- Python side shows it on stderr as "\r" and the text, so the notebook
-- shows one line that updates.
--
-- A cell is compiled as a chunk named In[count], so an error reads
-- "In[3]:2: ..." with that line of the cell quoted below. When the cell
-- ends with an expression (its last lines, as long as the lines before them
-- compile alone), the expression's values are the cell's result: a figure
-- is shown as a PNG (display 0), an animation (plot.animate) as a GIF
-- (display 1), anything else as the REPL prints it. A cell whose last line
-- ends with ";" shows nothing.
--
-- When nnlua.repl is there (the REPL's Lua half), a cell is compiled by one
-- session of it, so the cells' top-level locals last from cell to cell as
-- in the REPL, values print as the REPL prints them and Tab completion is
-- its; help text comes from nnlua.help. Without them: globals only,
-- tostring, and completion of global names and table fields.
local kernel = {}

local plot_figure      -- plot.Figure, once plot is loaded

local function open_fds()
  local spec = os.getenv("NNLUA_KERNEL_FDS") or ""
  local rfd, wfd = spec:match("^(%d+),(%d+)$")
  if not rfd then
    error("nnlua --kernel: NNLUA_KERNEL_FDS must be 'in,out' (two file descriptors); " ..
          "the kernel is started by jupyter/nnlua_kernel.py, not by hand", 0)
  end
  local inp = assert(io.open("/dev/fd/" .. rfd, "rb"))
  local out = assert(io.open("/dev/fd/" .. wfd, "wb"))
  return inp, out
end

local inp, out           -- the request and reply pipes

local function send(kind, payload, arg)
  payload = payload or ""
  io.stdout:flush()
  io.stderr:flush()
  out:write(string.format("%s %d %d\n", kind, arg or 0, #payload), payload)
  out:flush()
end

-- sends a frame and waits until the Python side has passed it on
local function send_and_wait(kind, payload, arg)
  send(kind, payload, arg)
  local header = inp:read("l")
  if header ~= "ack 0 0" then
    error(string.format("nnlua --kernel: expected an ack after a %s frame, got %q", kind, header), 0)
  end
end

---------------------------------------------------------------------------
-- figures

local function is_figure(v)
  if plot_figure == nil then
    local loaded = package.loaded.plot
    plot_figure = loaded and rawget(loaded, "Figure")
  end
  return plot_figure ~= nil and type(v) == "table" and getmetatable(v) == plot_figure
end

local function is_animation(v)
  local loaded = package.loaded.plot
  local cls = loaded and rawget(loaded, "Animation")
  return cls ~= nil and type(v) == "table" and getmetatable(v) == cls
end

-- sends the bytes fig:save writes for a temporary file ending in ext
local function send_image(fig, ext, gif)
  local base = os.tmpname()
  local path = base .. ext
  local ok, err = pcall(fig.save, fig, path)
  os.remove(base)
  if not ok then os.remove(path); error(err, 3) end
  local f = assert(io.open(path, "rb"))
  local bytes = f:read("a")
  f:close()
  os.remove(path)
  send_and_wait("display", bytes, gif)
end

-- plot.display(fig): sends the figure to the notebook as a PNG
local function display(fig)
  if not is_figure(fig) then
    error(string.format("plot.display: fig must be a figure (from plot.lines, ...), got %s",
                        type(fig)), 2)
  end
  send_image(fig, ".png", 0)
end

local function display_animation(anim)
  send_image(anim, ".gif", 1)
end

-- how progress.lua draws its bar in a notebook (see the top of the file)
local line = {
  show = function(text) send_and_wait("progress", text, 0) end,
  finish = function(text) send_and_wait("progress", text, 1) end,
  close = function() send_and_wait("progress", "", 2) end,
}

---------------------------------------------------------------------------
-- compiling a cell

local session            -- an nnlua.repl session, or nil
local show = tostring    -- how a result value is printed

local function compile(code, name)
  if session then return session:load(code, name) end
  return load(code, name, "t")
end

-- "return (...)(tail)": ... is the function that collects the values, so the
-- expression is evaluated in the cell's own frame (errors keep its line).
local function as_return(tail)
  return "return (...)(" .. tail .. "\n)"
end

local function lines_of(code)
  local lines = {}
  for line in (code .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end
  return lines
end

local function is_blank(line)
  return line:match("^%s*$") or line:match("^%s*%-%-[^%[]") or line:match("^%s*%-%-$")
end

-- The chunk for a cell: returns the function and whether it returns the
-- values of a last expression, or nil and the compiler's message.
local function compile_cell(code, name)
  local f = compile(as_return(code), name)
  if f then return f, true end
  local lines = lines_of(code)
  local last = #lines
  while last > 0 and is_blank(lines[last]) do last = last - 1 end
  if last > 1 and not lines[last]:match(";%s*$") then
    for k = last, 2, -1 do
      local prefix = table.concat(lines, "\n", 1, k - 1)
      local tail = table.concat(lines, "\n", k, last)
      if load(as_return(tail), name, "t") and load(prefix, name, "t") then
        local g = compile(prefix .. "\n" .. as_return(tail), name)
        if g then return g, true end
      end
    end
  end
  return compile(code, name)
end

---------------------------------------------------------------------------
-- requests

local function collect(...) return select("#", ...), {...} end

-- the message with the cell line it names quoted under its first line
local function with_line(msg, count, lines)
  local n = msg:match("^In%[" .. count .. "%]:(%d+):")
  local line = n and lines[tonumber(n)]
  if not line then return msg end
  local first, rest = msg:match("^([^\n]*)(.*)$")
  return first .. "\n    " .. n .. " | " .. line:gsub("^%s+", "") .. rest
end

local function execute(run, code, count)
  local name = "=In[" .. count .. "]"
  local f, is_expr = compile_cell(code, name)
  if not f then
    send("error", with_line(is_expr, count, lines_of(code)))
    return
  end
  local res = table.pack(run(f, collect))
  if not res[1] then
    send("error", with_line(tostring(res[2]), count, lines_of(code)))
    return
  end
  local n, values = res[2], res[3]
  if not is_expr or n == 0 then send("ok"); return end
  local texts = {}
  for i = 1, n do
    local v = values[i]
    if is_figure(v) or is_animation(v) then
      local ok, e = run(is_figure(v) and display or display_animation, v)
      if not ok then send("error", tostring(e)); return end
    else
      local ok, s = pcall(show, v)
      texts[#texts + 1] = ok and s or tostring(v)
    end
  end
  if #texts > 0 then send("result", table.concat(texts, "\t")) else send("ok") end
end

-- the value a dotted name stands for ("tensor.randn", "model.fc1"), or nil
local function resolve(path)
  local env = session and session.env or _G
  local v
  for part, sep in path:gmatch("([%a_][%w_]*)([.:]?)") do
    if v == nil then
      v = env[part]
    else
      local ok, x = pcall(function() return v[part] end)
      v = ok and x or nil
    end
    if v == nil or sep == "" then break end
  end
  return v
end

-- the completions of word without nnlua.repl: global names, or the fields
-- of a table reached by dots
local function plain_complete(word)
  local path, sep, last = word:match("^(.-)([.:])([%w_]*)$")
  local out, t, prefix = {}, _G, ""
  if path then
    t, prefix = resolve(path), path .. sep
    if type(t) ~= "table" then
      local mt = getmetatable(t)
      t = type(mt) == "table" and type(mt.__index) == "table" and mt.__index or nil
      if not t then return out end
    end
  else
    last = word
  end
  for k in pairs(t) do
    if type(k) == "string" and k:sub(1, #last) == last and k:match("^[%a_][%w_]*$") then
      out[#out + 1] = prefix .. k
    end
  end
  table.sort(out)
  return out
end

local function complete(code)
  local word = code:match("[%w_.:%[%]]*$") or ""
  local matches = {}
  if session then
    local ok, m = pcall(session.complete, session, word)
    if ok and type(m) == "table" then matches = m end
  else
    matches = plain_complete(word)
  end
  send("matches", word .. "\n" .. table.concat(matches, "\n"))
end

local help
local function inspect(name)
  local v = resolve(name)
  if v == nil then send("help", ""); return end
  local text
  if help then
    local ok, t = pcall(help.text, v)
    if ok and type(t) == "string" then text = t end
  end
  if not text then
    local ok, s = pcall(show, v)
    text = name .. ": " .. type(v) .. "\n" .. (ok and s or tostring(v))
  end
  send("help", text)
end

---------------------------------------------------------------------------

-- The loop: run(f, ...) is vm/kernel.c's, which calls f as the host calls a
-- script (nnlua's message handler; SIGINT raises "interrupted!" in it) and
-- returns true and f's results, or false and the message.
function kernel.main(run)
  inp, out = open_fds()
  io.stdout:setvbuf("line")          -- prints stream out as they are made
  local ok, repl = pcall(require, "nnlua.repl")
  if ok and type(repl) == "table" and repl.new then
    session = repl.new()
    show = repl.show
  end
  local okh, h = pcall(require, "nnlua.help")
  if okh and type(h) == "table" and h.text then help = h end
  kernel.line = line
  local plot = require "plot"
  plot.display = display
  plot_figure = plot.Figure
  send("ready", _VERSION)
  while true do
    local header = inp:read("l")
    if header == nil then return end
    local kind, arg, len = header:match("^(%a+) (%-?%d+) (%d+)$")
    if not kind then error("nnlua --kernel: bad frame header " .. string.format("%q", header), 0) end
    len = tonumber(len)
    local payload = len > 0 and inp:read(len) or ""
    if payload == nil or #payload ~= len then return end
    if kind == "execute" then execute(run, payload, tonumber(arg))
    elseif kind == "complete" then complete(payload)
    elseif kind == "inspect" then inspect(payload)
    else error("nnlua --kernel: unknown request '" .. kind .. "'", 0) end
  end
end

return kernel
