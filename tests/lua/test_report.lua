-- tests/lua/test_report.lua -- nnlua --report run.pdf|run.html script.lua
-- (vm/report.c, nn/plot/report.c, docs/report.md): small scripts run in a
-- temporary folder, their reports read back with poppler-utils (pdftotext,
-- pdftoppm, pdfimages, pdfinfo; make deps installs them).
local NNLUA = os.getenv("NNLUA") or "./nnlua"
if NNLUA:sub(1, 1) ~= "/" then
  local p = io.popen("pwd")
  NNLUA = p:read("l") .. "/" .. NNLUA
  p:close()
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- runs a shell command in dir; its output (stdout and stderr) and exit code
local function sh(dir, cmd)
  local p = io.popen("cd " .. q(dir) .. " && " .. cmd .. " 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

-- nnlua with args in dir; stdout alone, stderr alone, the exit code
local function nnlua(dir, args)
  local p = io.popen("cd " .. q(dir) .. " && " .. q(NNLUA) .. " " .. args .. " 2>stderr.txt")
  local out = p:read("a")
  local _, _, code = p:close()
  return out, read_file(dir .. "/stderr.txt"), code
end

local function pdftext(dir, pdf, first, last)
  local range = first and string.format("-f %d -l %d ", first, last or first) or ""
  local out, code = sh(dir, "pdftotext -layout " .. range .. q(pdf) .. " -")
  assert(code == 0, out)
  return out
end

local function pages(dir, pdf)
  local out = sh(dir, "pdfinfo " .. q(pdf))
  return tonumber(out:match("Pages:%s*(%d+)")), out
end

-- the text of a report from its Output heading on
local function output_section(text)
  return assert(text:match("\nOutput\n(.*)$"), "no Output heading")
end

local function has(text, s, what) check_has(text, s, what or "report") end

local SCRIPT = [=[
-- a small experiment
tensor.manual_seed(42)
local g = tensor.Generator(7)
g:manual_seed(11)
print("epoch", "loss", "accuracy")
for e = 1, 3 do print(e, string.format("%.4f", 1 / e), 0.5 + e / 10) end
io.write("io.write ", 1, " ", 2.5, "\n")
io.stdout:write("stdout:write\n")
io.stderr:write("to stderr\n")
print(setmetatable({}, {__tostring = function() return "custom tostring" end}))
local fig = plot.lines{title = "red line", series = {{y = {1, 2, 3, 2, 5}, color = "#ff0000"}}}
fig:save("loss.png")
fig:close()
local long = "a long line: ]=] .. string.rep("word ", 40) .. [=[the end"
print(long)
plot.save_image(tensor.ones(3, 4, 6) * tensor.new({0, 0, 1}):view(3, 1, 1), "blue.png")
]=]

local function setup()
  local dir = tmpdir()
  write_file(dir .. "/exp.lua", SCRIPT)
  return dir
end

test("a PDF with the title block, the source, the output with columns aligned and the seeds", function()
  local dir = setup()
  local out, err, code = nnlua(dir, "--report run.pdf exp.lua")
  check_eq(code, 0, err)
  has(err, "report written to run.pdf", "stderr")
  has(err, "to stderr", "stderr")
  has(out, "epoch\tloss\taccuracy\n", "stdout as without --report")
  local n = pages(dir, "run.pdf")
  local text = pdftext(dir, "run.pdf")
  -- title block
  has(text, "exp.lua")
  has(text, "nnlua 0.1.0 (Lua 5.4")
  has(text, "oneDNN")
  has(text, "machine")
  has(text, "tensor.manual_seed(42) at exp.lua:2")
  has(text, "tensor.Generator(7) at exp.lua:3")
  has(text, "Generator:manual_seed(11) at exp.lua:4")
  has(text, "finished")
  -- source, numbered
  has(text, "1 -- a small experiment")
  has(text, "2 tensor.manual_seed(42)")
  has(text, "16 plot.save_image(")
  -- the long source line is wrapped: its end is on a line of its own
  local wrapped = text:match("\n([^\n]*the end\"[^\n]*)\n")
  assert(wrapped and not wrapped:find("long line", 1, true), "long line not wrapped")
  -- output: every write to stdout, none to stderr, columns aligned
  has(text, "io.write 1 2.5")
  has(text, "stdout:write")
  has(text, "custom tostring")
  assert(not output_section(text):find("to stderr", 1, true), "stderr in the report")
  local head = text:match("\n(epoch%s+loss%s+accuracy)\n")
  local row = text:match("\n(3%s+0%.3333%s+0%.8)\n")
  assert(head and row, "output table not found in\n" .. text)
  -- aligned on the page: the words' left edges (pdftotext -bbox), 2 columns apart at most
  local boxes = sh(dir, "pdftotext -f 1 -l 1 -bbox run.pdf -")
  local at = boxes:find(">Output</word>", 1, true)
  assert(at, "no Output heading in\n" .. boxes)
  boxes = boxes:sub(at)
  local function xmin(word)
    return tonumber(boxes:match('<word xMin="([%d.]+)"[^>]*>' .. word:gsub("%.", "%%.") .. "</word>"))
  end
  local x = {xmin("epoch"), xmin("loss"), xmin("accuracy"), xmin("3"), xmin("0.3333"), xmin("0.8")}
  assert(#x == 6, "words not found:\n" .. boxes)
  check_close(x[1], x[4], 0.01, "column 1")
  check_close(x[2], x[5], 0.01, "column 2")
  check_close(x[3], x[6], 0.01, "column 3")
  assert(x[2] - x[1] > 30 and x[3] - x[2] > 30, "columns too close")
  -- figures: names, one page each
  check_eq(n, 3, "pages: text, two figures")
  has(pdftext(dir, "run.pdf", 2), "Figure 1: loss.png", "page 2")
  has(pdftext(dir, "run.pdf", 3), "Figure 2: blue.png", "page 3")
end)

test("a figure page shows the figure: the red line drawn as vectors, an image saved as pixels kept nearest-neighbour", function()
  local dir = setup()
  local _, err, code = nnlua(dir, "--report run.pdf exp.lua")
  check_eq(code, 0, err)
  -- page 2: the line chart; no raster image on it, yet red pixels when rendered
  local list = sh(dir, "pdfimages -f 2 -l 2 -list run.pdf")
  check_eq(select(2, list:gsub("\n", "")), 2, "no image on the chart's page:\n" .. list)
  local o, c = sh(dir, "pdftoppm -f 2 -l 2 -r 40 -png run.pdf page")
  check_eq(c, 0, o)
  local png = sh(dir, "ls page*.png"):match("[^\n]+")
  local px = plot.read_image(dir .. "/" .. png)
  local red = px[1]:gt(0.8):mul(px[2]:lt(0.35)):mul(px[3]:lt(0.35))
  assert(red:sum():item() > 50, "no red line on the figure's page")
  -- the red is in the upper half, under the caption, where the figure is
  local h = px.shape[2]
  local half = math.floor(h / 2)
  check_eq(red:narrow(1, half + 1, h - half):sum():item(), 0, "red below the figure")
  check_eq(red:narrow(1, 1, math.floor(h / 12)):sum():item(), 0, "red above the figure")
  -- page 3: the 6 x 4 image as it is, not interpolated, scaled up, blue
  list = sh(dir, "pdfimages -f 3 -l 3 -list run.pdf")
  local w, ih, interp = list:match("\n%s*3%s+%d+%s+image%s+(%d+)%s+(%d+)%s+%S+%s+%d+%s+%d+%s+%S+%s+(%S+)")
  check_eq(w, "6", list)
  check_eq(ih, "4", list)
  check_eq(interp, "no", list)
  o, c = sh(dir, "pdftoppm -f 3 -l 3 -r 40 -png run.pdf img")
  check_eq(c, 0, o)
  png = sh(dir, "ls img*.png"):match("[^\n]+")
  px = plot.read_image(dir .. "/" .. png)
  local blue = px[1]:lt(0.1):mul(px[2]:lt(0.1)):mul(px[3]:gt(0.9))
  assert(blue:sum():item() > 1000, "the image is not drawn large")
end)

test("a failing script still gives a report: the output so far, the error and its traceback; the exit status stays 1", function()
  local dir = tmpdir()
  write_file(dir .. "/bad.lua", 'print("before the error")\nlocal function f() error("boom here") end\nf()\n')
  local _, err, code = nnlua(dir, "--report bad.pdf bad.lua")
  check_eq(code, 1, err)
  has(err, "bad.lua:2: boom here", "stderr")
  has(err, "report written to bad.pdf", "stderr")
  local text = pdftext(dir, "bad.pdf")
  has(text, "before the error")
  has(text, "Error")
  has(text, "bad.lua:2: boom here")
  has(text, "stack traceback:")
  has(text, "bad.lua:3: in main chunk")
  has(text, "failed")
  -- a script that does not compile: its source and the syntax error
  write_file(dir .. "/syntax.lua", "local x = = 1\n")
  _, err, code = nnlua(dir, "--report syntax.pdf syntax.lua")
  check_eq(code, 1, err)
  text = pdftext(dir, "syntax.pdf")
  has(text, "1 local x = = 1")
  has(text, "syntax.lua:1: unexpected symbol near '='")
end)

test("os.exit: the report is written first, with the exit status; the process exits with it", function()
  local dir = tmpdir()
  write_file(dir .. "/exit.lua", 'print("bye")\nlocal keep = setmetatable({}, {__gc = function() '
             .. 'io.stdout:write("closed\\n") end})\nos.exit(3)\nprint("never")\n')
  local plain_out, _, plain_code = nnlua(dir, "exit.lua")
  local out, err, code = nnlua(dir, "--report exit.pdf exit.lua")
  check_eq(code, 3, err)
  check_eq(plain_code, 3)
  check_eq(out, plain_out, "os.exit(3) as without --report (the state is not closed)")
  check_eq(out, "bye\n")
  local text = pdftext(dir, "exit.pdf")
  has(text, "bye")
  has(text, "the script called os.exit(3)")
  write_file(dir .. "/ok.lua", 'print("fine")\nos.exit(true)\n')
  _, err, code = nnlua(dir, "--report ok.pdf ok.lua")
  check_eq(code, 0, err)
  text = pdftext(dir, "ok.pdf")
  has(text, "fine")
  has(text, "finished")
end)

test("the same script and seeds give the same PDF bytes; --report-date adds the date and sets the creation date", function()
  local dir = setup()
  local _, err, code = nnlua(dir, "--report a.pdf exp.lua")
  check_eq(code, 0, err)
  _, err, code = nnlua(dir, "--report b.pdf exp.lua")
  check_eq(code, 0, err)
  assert(read_file(dir .. "/a.pdf") == read_file(dir .. "/b.pdf"), "two runs, two different PDFs")
  local _, info = pages(dir, "a.pdf")
  has(info, "2000", "pdfinfo: the fixed creation date")
  assert(not pdftext(dir, "a.pdf"):find("\ndate ", 1, true), "a date without --report-date")
  _, err, code = nnlua(dir, "--report-date --report c.pdf exp.lua")
  check_eq(code, 0, err)
  local text = pdftext(dir, "c.pdf")
  local shown = text:match("\ndate%s+(%d%d%d%d%-%d%d%-%d%d %d%d:%d%d) UTC\n")
  assert(shown, "no date in\n" .. text)
  local now = os.time()
  assert(shown == os.date("!%Y-%m-%d %H:%M", now) or shown == os.date("!%Y-%m-%d %H:%M", now - 60),
         "date " .. shown)
  _, info = pages(dir, "c.pdf")
  has(info, os.date("!%Y"), "pdfinfo: the creation date")
  assert(not info:find("2000", 1, true), info)
end)

test("--report run.html: one self-contained file with the source, the output, the seeds and the figures inlined", function()
  local dir = setup()
  local _, err, code = nnlua(dir, "--report run.html exp.lua")
  check_eq(code, 0, err)
  local html = read_file(dir .. "/run.html")
  has(html, "<!DOCTYPE html>")
  has(html, '<span class="ln">   2 </span>tensor.manual_seed(<span class="n">42</span>)')
  has(html, '<span class="c">-- a small experiment</span>')
  has(html, '<span class="k">local</span>')
  has(html, "epoch   loss    accuracy\n")
  has(html, "custom tostring")
  has(html, "<code>tensor.manual_seed(42) at exp.lua:2</code>")
  has(html, "Figure 1: <code>loss.png</code>")
  has(html, "Figure 2: <code>blue.png</code>")
  check_eq(select(2, html:gsub('src="data:image/svg%+xml;base64,', "")), 2, "inlined figures")
  has(html, '<img class="pixels" width="318" height="212" alt="blue.png"')   -- 6 x 4, 53 times
  assert(not html:find("src=\"http", 1, true) and not html:find("href=\"http", 1, true), "external links")
  -- the same bytes again
  nnlua(dir, "--report again.html exp.lua")
  assert(read_file(dir .. "/again.html") == html, "two runs, two different HTML files")
end)

test("--report: the script's own checks keep their messages; output to other files is not captured", function()
  local dir = tmpdir()
  write_file(dir .. "/seed.lua", [[
local f = io.open("side.txt", "w")
f:write("not in the report\n")
io.output(f)
io.write("nor this\n")
io.output(io.stdout)
f:close()
print(pcall(tensor.manual_seed, "x"))
print(pcall(tensor.Generator, 1.5))
print(select(2, pcall(function() tensor.manual_seed({}) end)))
print()
print(nil, false, 1.0)
]])
  local plain = nnlua(dir, "seed.lua")
  local out, err, code = nnlua(dir, "--report seed.pdf seed.lua")
  check_eq(code, 0, err)
  check_eq(out, plain, "stdout with and without --report")
  has(out, "seed must be an integer")
  local text = pdftext(dir, "seed.pdf")
  has(text, "seed must be an integer")
  assert(text:find("\nnil%s+false%s+1%.0\n"), "print(nil, false, 1.0) not in\n" .. text)
  local o = output_section(text)
  assert(not o:find("not in the report", 1, true) and not o:find("nor this", 1, true),
         "another file's writes in the report")
end)

test("--report refuses what it cannot do, with a clear message and exit status 1", function()
  local dir = setup()
  local _, err, code = nnlua(dir, "--report")
  check_eq(code, 1)
  has(err, "'--report' needs argument", "stderr")
  _, err, code = nnlua(dir, "--report x.pdf")
  check_eq(code, 1)
  has(err, "--report needs a script file", "stderr")
  _, err, code = nnlua(dir, "--report-date exp.lua")
  check_eq(code, 1)
  has(err, "--report-date needs --report", "stderr")
  _, err, code = nnlua(dir, "--report x.pdf - < exp.lua")
  check_eq(code, 1)
  has(err, "--report needs a script file", "stderr")
  -- a folder where the report should go: the script runs, the report fails
  assert(os.execute("mkdir " .. q(dir .. "/adir.pdf")))
  local out
  out, err, code = nnlua(dir, "--report adir.pdf exp.lua")
  check_eq(code, 1, err)
  has(out, "epoch", "the script ran")
  has(err, "--report: cannot write 'adir.pdf'", "stderr")
end)

test("docs/report.md's script gives the report the page says: two pages, 10 lines of source, 6 of output, loss.png", function()
  local doc = read_file("docs/report.md")
  local code = assert(doc:match("## A script to try\n\n```lua\n(.-)```"), "no script in docs/report.md")
  local dir = tmpdir()
  write_file(dir .. "/try.lua", code)
  local _, err, rc = nnlua(dir, "--report try.pdf try.lua")
  check_eq(rc, 0, err)
  check_eq(pages(dir, "try.pdf"), 2, "pages")
  local text = pdftext(dir, "try.pdf", 1)
  has(text, "10 ")
  assert(not text:find("\n%s*11 "), "more than 10 source lines")
  local out = output_section(text)
  local lines = 0
  for line in out:gmatch("[^\n]+") do if line:match("^%d+%s+%d") or line:match("^step") then lines = lines + 1 end end
  check_eq(lines, 6, "output lines")
  has(pdftext(dir, "try.pdf", 2), "Figure 1: loss.png")
end)

test("past 1 MB of output the rest is counted, not kept; the PDF has an outline of its parts", function()
  local dir = tmpdir()
  write_file(dir .. "/big.lua", 'for i = 1, 20000 do print(string.format("%05d", i), string.rep("x", 50)) end\n')
  local out, err, code = nnlua(dir, "--report big.pdf big.lua")
  check_eq(code, 0, err)
  check_eq(#out, 20000 * 57, "stdout whole")
  local n = pages(dir, "big.pdf")
  local last = pdftext(dir, "big.pdf", n)
  -- 1 MB holds 18396 whole lines of 57 bytes; the remaining 1604 are counted
  has(last, "[... " .. (20000 - 18396) * 57 .. " more bytes of output not kept]", "the last page")
  has(last, "18396", "the last page")
  assert(not last:find("18397", 1, true), "a line past the limit")
  local pdf = read_file(dir .. "/big.pdf")
  has(pdf, "/Title (Source)", "outline")
  has(pdf, "/Title (Output)", "outline")
end)
