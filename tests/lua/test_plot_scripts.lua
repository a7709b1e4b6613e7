-- scripts/optimizer_paths.lua and scripts/lr_schedules.lua on small settings:
-- the files are written, the paths are the optimizers' own steps, and the
-- figure draws them where they went.

local NNLUA = os.getenv("NNLUA") or "./nnlua"

local function run(cmd)
  local out, ok = run_command(cmd)
  assert(ok, out)
  return out
end

local function read_csv(path)
  local rows = {}
  local f = assert(io.open(path))
  assert(f:read("l") == "optimizer,step,w1,w2,loss")
  for line in f:lines() do
    local name, step, w1, w2, loss = line:match("^([^,]+),(%d+),([^,]+),([^,]+),([^,]+)$")
    assert(name, "bad line " .. line)
    rows[name] = rows[name] or {}
    rows[name][tonumber(step) + 1] = {tonumber(w1), tonumber(w2), tonumber(loss)}
  end
  f:close()
  return rows
end

local rgb = dofile("tests/lua/pixels.lua").rgb

-- the frame of the axes: the first two runs of long dark columns, the first
-- and last long dark rows
local function frame(px)
  local dark = px[1]:lt(0.3):mul(px[2]:lt(0.3)):mul(px[3]:lt(0.3))
  local cols, rows = dark:sum(1):totable(), dark:sum(2):totable()
  local cmax, rmax = math.max(table.unpack(cols)), math.max(table.unpack(rows))
  local f, runs = {}, 0
  for x = 1, #cols do
    local long = cols[x] > 0.9 * cmax
    if long and not (x > 1 and cols[x - 1] > 0.9 * cmax) then runs = runs + 1 end
    if long and runs == 1 then f.left = f.left or x end
    if long and runs == 2 then f.right = x end
  end
  for y = 1, #rows do if rows[y] > 0.9 * rmax then f.top = f.top or y; f.bottom = y end end
  return f
end

test("optimizer_paths.lua: PNG, GIF and CSV per surface; the paths are the optimizers' steps, drawn where they went", function()
  local dir = tmpdir()
  local out = run(NNLUA .. " scripts/optimizer_paths.lua --out '" .. dir .. "/figs' --steps 40 --frames 3"
                  .. " --grid 31 --size 480x360")
  for _, name in ipairs {"beale", "valley", "saddle"} do
    check_eq(out:find(name .. ": ", 1, true) ~= nil, true, name .. " reported")
    local png = plot.read_image(dir .. "/figs/" .. name .. ".png")
    check_eq(table.concat(png.shape, ","), "3,360,480", name .. ".png")
    local frames, delays = plot.read_gif(dir .. "/figs/" .. name .. ".gif")
    check_eq(#frames, 3, name .. ".gif frames")
    check_eq(delays[3], 2, "the last frame held")
    local rows = read_csv(dir .. "/figs/" .. name .. ".csv")
    for _, o in ipairs {"SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adadelta", "Adam"} do
      check_eq(rows[o] ~= nil and #rows[o] >= 2, true, name .. ": " .. o .. " in the CSV")
    end
  end
  -- the valley's SGD path, stepped here by hand: w <- w - lr * (0.2 w1, 4 w2), lr 0.1
  local rows = read_csv(dir .. "/figs/valley.csv")
  local w1, w2 = -9, 3
  for k = 1, 41 do
    local r = rows.SGD[k]
    check_close(r[1], w1, 1e-5 * math.max(1, math.abs(w1)), "SGD w1 at step " .. (k - 1))
    check_close(r[2], w2, 1e-5 * math.max(1, math.abs(w2)), "SGD w2 at step " .. (k - 1))
    check_close(r[3], 0.1 * w1 ^ 2 + 2 * w2 ^ 2, 1e-4 * math.max(1, r[3]), "loss at step " .. (k - 1))
    w1, w2 = w1 - 0.1 * 0.2 * w1, w2 - 0.1 * 4 * w2
  end
  -- Beale: Adam's path (drawn last, in black) goes through its CSV points in
  -- the PNG; the axes span -4.5..4.5 both ways
  local px = plot.read_image(dir .. "/figs/beale.png")
  local f = frame(px)
  local adam, seen = read_csv(dir .. "/figs/beale.csv").Adam, 0
  local n = 0
  for k = 3, #adam, 3 do
    local x = f.left + (adam[k][1] + 4.5) / 9 * (f.right - f.left)
    local y = f.bottom - (adam[k][2] + 4.5) / 9 * (f.bottom - f.top)
    n = n + 1
    local hit = false
    for dy = -2, 2 do for dx = -2, 2 do
      local c = rgb(px, math.floor(x + 0.5) + dx, math.floor(y + 0.5) + dy)
      if c[1] < 0.25 and c[2] < 0.25 and c[3] < 0.25 then hit = true end
    end end
    if hit then seen = seen + 1 end
  end
  check_eq(seen >= n - 1, true, string.format("Adam's path drawn at %d of its %d points", seen, n))
  -- and not where no path went: the lower right quarter has no dark pixels but text
  local corner = px:narrow(2, math.floor(f.bottom - (f.bottom - f.top) * 0.3), 40)
                   :narrow(3, math.floor(f.right - (f.right - f.left) * 0.3), 40)
  check_eq(corner[1]:lt(0.25):sum():item(), 0, "nothing drawn far from the paths")
  os.execute("rm -rf '" .. dir .. "'")
end)

-- These settings once crashed the process: a contour with seven paths and its
-- labels left more values on the Lua stack than it had room for (the binding
-- now asks for the room), which overwrote the heap past the stack.
test("optimizer_paths.lua: the valley and the saddle at 50 steps and 5 frames run to the end", function()
  local dir = tmpdir()
  local out = run(NNLUA .. " scripts/optimizer_paths.lua --out '" .. dir .. "' --steps 50 --frames 5"
                  .. " --surfaces valley,saddle")
  assert(out:find("saddle: ", 1, true), out)
  os.execute("rm -rf '" .. dir .. "'")
end)

test("lr_schedules.lua: every scheduler in one figure of subplots", function()
  local dir = tmpdir()
  local out = run(NNLUA .. " scripts/lr_schedules.lua --out '" .. dir .. "/lr.png' --epochs 20 --size 800x450")
  check_eq(out:find("wrote", 1, true) ~= nil, true)
  local png = plot.read_image(dir .. "/lr.png")
  check_eq(table.concat(png.shape, ","), "3,450,800")
  -- twelve plotting areas: count the frames' top left corners (dark pixels
  -- with dark right and lower neighbours and a light upper-left one)
  local dark = png[1]:lt(0.3):mul(png[2]:lt(0.3)):mul(png[3]:lt(0.3))
  local d = dark:totable()
  local corners = 0
  for y = 2, 449 do for x = 2, 799 do
    if d[y][x] > 0 and d[y][x + 1] > 0 and d[y + 1][x] > 0 and d[y - 1][x] == 0 and d[y][x - 1] == 0
       and d[y + 1][x + 1] == 0 and d[y][x + 12] and d[y][x + 12] > 0 and d[y + 12] and d[y + 12][x] > 0 then
      corners = corners + 1
    end
  end end
  check_eq(corners, 12, "12 subplots")
  expect_error(function() run(NNLUA .. " scripts/lr_schedules.lua --epochs 1") end, "--epochs must be")
  os.execute("rm -rf '" .. dir .. "'")
end)
