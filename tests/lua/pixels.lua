-- pixels.lua -- reading figures back, for the plot tests (not a test file
-- itself: tests/run runs test_*.lua only). px is a figure's pixels, a tensor
-- [3, H, W] of floats in [0, 1]; x and y are 1-based pixel coordinates.
local M = {}

function M.shape(t) return table.concat(t.shape, ",") end

-- the colour at (x, y), as {r, g, b}
function M.rgb(px, x, y)
  return {px[1][y][x], px[2][y][x], px[3][y][x]}
end

-- whether colours a and b differ by less than tol in every channel
function M.near(a, b, tol)
  return math.abs(a[1] - b[1]) < tol and math.abs(a[2] - b[2]) < tol and math.abs(a[3] - b[3]) < tol
end

-- whether some pixel within r (default 2) of (x, y) has colour c
function M.has_color(px, x, y, c, r)
  r = r or 2
  x, y = math.floor(x + 0.5), math.floor(y + 0.5)
  for dy = -r, r do
    for dx = -r, r do
      if M.near(M.rgb(px, x + dx, y + dy), c, 0.12) then return true end
    end
  end
  return false
end

-- the pixel of data point (x, y) in the plotting area f = {left, right, top,
-- bottom}, given the axis ranges shown xr = {lo, hi} and yr
function M.to_px(f, x, y, xr, yr)
  return f.left + (x - xr[1]) / (xr[2] - xr[1]) * (f.right - f.left),
         f.bottom - (y - yr[1]) / (yr[2] - yr[1]) * (f.bottom - f.top)
end

return M
