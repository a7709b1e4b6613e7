-- A progress bar on stderr for long loops (the DataLoader draws one per epoch):
--
--    312/938 [=========>...................]  33%  41,290 samples/s  ETA 0:02
--
-- Drawn only when stderr is a terminal, and not when NNLUA_PROGRESS=0; at most
-- ten times a second. NNLUA_PROGRESS=1 draws it even when stderr is not a
-- terminal (for tests and logs).
--
-- NNLUA_PROGRESS=notebook (the Jupyter kernel sets it, jupyter/nnlua_kernel.py)
-- draws it for a notebook instead, at most five times a second: through the
-- kernel (nnlua.kernel's line, which keeps the bar in order with what the
-- cell prints) in the kernel's own process, else (an nnlua a cell started)
-- as "\r" and the bar written to stderr, the finished bar ending with "\n".
-- A notebook shows text after "\r" in place of the line before it, so the
-- bar is one line that updates; no terminal escapes are written.
--
-- The line is drawn through nnlua.statusline (bindings/l_std.c): while it is
-- shown, print, io.write and io.stdout/io.stderr:write aimed at its terminal
-- clear it first and draw it again after, so printed lines stand alone and the
-- bar stays at the bottom.
local class = require "nnlua.class"
local C = require "data._C"

local statusline      -- package.loaded["nnlua.statusline"], set by nnlua_openlibs after data loads

-- Progress(total [, label]): a bar for total steps
local Progress = class("Progress", nil, {receiver = "bar"})

local WIDTH = 30       -- characters of the bar itself

-- whether a bar should be drawn, given the loader's progress option (nil = auto)
function Progress.enabled(opt)
  if opt == false then return false end
  local env = os.getenv("NNLUA_PROGRESS")
  if env == "0" then return false end
  if env == "1" or env == "notebook" then return true end
  return C.isatty(2)
end

function Progress:init(total, label)
  self.total, self.done, self.samples, self.start, self.last = total, 0, 0, C.clock(), -1
  self.label, self.open = label, false
  self.notebook = os.getenv("NNLUA_PROGRESS") == "notebook"
  self.every = self.notebook and 0.2 or 0.1     -- seconds between updates
end

-- the notebook's way to draw (see the top of the file)
local stderr_line = {
  show = function(text) io.stderr:write("\r", text) end,
  finish = function(text) io.stderr:write("\r", text, "\n") end,
  close = function() io.stderr:write("\n") end,
}
local function notebook_line()
  local k = package.loaded["nnlua.kernel"]
  return type(k) == "table" and k.line or stderr_line
end

local function clock_text(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then
    return string.format("%d:%02d:%02d", s // 3600, s % 3600 // 60, s % 60)
  end
  return string.format("%d:%02d", s // 60, s % 60)
end

local function thousands(x)
  local s = string.format("%d", math.floor(x + 0.5))
  local head, tail = s:match("^(%-?%d-)(%d*)$")
  tail = tail:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (head .. tail):gsub("^,", ""):gsub("^(%-?),", "%1")
end

local function terminal_line()
  statusline = statusline or require "nnlua.statusline"
  return statusline
end

function Progress:draw(final)
  local now = C.clock()
  local elapsed = now - self.start
  local frac = self.total > 0 and self.done / self.total or 1
  local fill = math.floor(frac * WIDTH)
  local bar = string.rep("=", fill) .. (fill < WIDTH and ">" .. string.rep(".", WIDTH - fill - 1) or "")
  local rate = elapsed > 0 and self.samples / elapsed or 0
  local tail
  if final then
    tail = "  " .. clock_text(elapsed)
  else
    local eta = self.done > 0 and elapsed / self.done * (self.total - self.done) or 0
    tail = "  ETA " .. clock_text(eta)
  end
  local width = #tostring(self.total)
  local text = string.format("%s%" .. width .. "d/%d [%s] %3d%%  %s samples/s%s",
                             self.label and self.label .. " " or "", self.done, self.total, bar,
                             math.floor(frac * 100), thousands(rate), tail)
  local line = self.notebook and notebook_line() or terminal_line()
  if final then line.finish(text) else line.show(text) end
  self.last = now
  self.open = not final
end

-- one more step of n samples (a batch handed out; the loop's body has yet to run)
function Progress:step(n)
  self.done = self.done + 1
  self.samples = self.samples + n
  if self.done < self.total and C.clock() - self.last >= self.every then
    self:draw(false)
  end
end

-- ends the bar's line when its loop ends: the finished bar once the last
-- batch's body has run too (so what that body prints stays above the bar, and
-- the time covers it), or the bar as it stands after a break or an error
function Progress:close()
  if self.closed then return end
  self.closed = true
  if self.done >= self.total then
    self:draw(true)
  elseif self.open then
    (self.notebook and notebook_line() or terminal_line()).close()
    self.open = false
  end
end

return Progress
