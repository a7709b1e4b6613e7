-- tensor op values against PyTorch: runs every case of tests/fixtures/tensor_ops.lua
-- (made by tests/fixtures/gen_tensor_ops.py) through nnlua's API.
-- One test per case. Dims and indices in the fixture are already 1-based.

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local fixture = here .. "/../fixtures/tensor_ops.lua"
local cases = assert(loadfile(fixture))()

-- fixture inputs -> Lua values: nested tables become tensors, numbers stay numbers,
-- {scalar = v} is a 0-d tensor
local function to_input(v)
  if type(v) == "table" then
    if v.scalar ~= nil then return tensor.new(v.scalar) end
    return tensor.new(v)
  end
  return v
end

-- x:f([dim [, keepdim]] [, {unbiased = ...}]) built from the case's args
local function reduction(name)
  return function(x, a)
    local pos = {}
    if a.dim ~= nil then pos[#pos + 1] = a.dim end
    if a.keepdim ~= nil then pos[#pos + 1] = a.keepdim end
    if a.unbiased ~= nil then pos[#pos + 1] = {unbiased = a.unbiased} end
    return x[1][name](x[1], table.unpack(pos, 1, #pos))
  end
end

local function unary(name)
  return function(x) return x[1][name](x[1]) end
end

local function method2(name)   -- x[1]:name(x[2] [, alpha])
  return function(x, a)
    if a.alpha ~= nil then return x[1][name](x[1], x[2], a.alpha) end
    return x[1][name](x[1], x[2])
  end
end

local function along(name)     -- x[1]:name(dim)
  return function(x, a)
    if a.dim == nil then return x[1][name](x[1]) end
    return x[1][name](x[1], a.dim)
  end
end

-- op name -> function(inputs, args) returning the result (or values, indices)
local OPS = {
  add = function(x) return x[1] + x[2] end,
  sub = function(x) return x[1] - x[2] end,
  mul = function(x) return x[1] * x[2] end,
  div = function(x) return x[1] / x[2] end,
  pow = function(x) return x[1] ^ x[2] end,
  unm = function(x) return -x[1] end,
  add_method = method2("add"), sub_method = method2("sub"), mul_method = method2("mul"),
  div_method = method2("div"), pow_method = method2("pow"),
  clamp = function(x, a) return x[1]:clamp(a.lo, a.hi) end,
  sum = reduction("sum"), mean = reduction("mean"), var = reduction("var"), std = reduction("std"),
  max = reduction("max"), min = reduction("min"),
  argmax = along("argmax"), argmin = along("argmin"),
  softmax = along("softmax"), log_softmax = along("log_softmax"),
  matmul = function(x) return x[1]:matmul(x[2]) end,
  index_select = function(x, a) return x[1]:index_select(a.dim, x[2]) end,
  gather = function(x, a) return x[1]:gather(a.dim, x[2]) end,
  masked_fill = function(x, a) return x[1]:masked_fill(x[2], a.value) end,
  cat = function(x, a) return tensor.cat(x, a.dim) end,
  stack = function(x, a) return tensor.stack(x, a.dim) end,
  arange = function(_, a) return tensor.arange(table.unpack(a)) end,
  linspace = function(_, a) return tensor.linspace(table.unpack(a)) end,
  eye = function(_, a) return tensor.eye(table.unpack(a)) end,
  logspace = function(_, a) return tensor.logspace(table.unpack(a)) end,
  where = function(x) return tensor.where(x[1], x[2], x[3]) end,
  where_method = function(x) return x[1]:where(x[2], x[3]) end,
  cumsum = function(x, a) return x[1]:cumsum(a.dim) end,
  norm = function(x, a) return x[1]:norm(a.p, a.dim, a.keepdim) end,
  masked_select = function(x) return x[1]:masked_select(x[2]) end,
  sort = function(x, a) return x[1]:sort(a.dim, a.descending) end,
  topk = function(x, a) return x[1]:topk(a.k, a.dim, a.largest) end,
  meshgrid = function(x, a) return (select(a.which, tensor.meshgrid(x, {indexing = a.indexing}))) end,
  outer = function(x) return tensor.outer(x[1], x[2]) end,
  diag = function(x, a) return x[1]:diag(a.k) end,
  tril = function(x, a) return tensor.tril(x[1], a.k) end,
  triu = function(x, a) return x[1]:triu(a.k) end,
  zeros_like = function(x) return tensor.zeros_like(x[1]) end,
  ones_like = function(x) return tensor.ones_like(x[1]) end,
  full_like = function(x, a) return tensor.full_like(x[1], a.value) end,
}
for _, f in ipairs{"exp", "log", "sqrt", "abs", "neg", "sign", "relu", "sigmoid", "tanh",
                  "sin", "cos", "tan", "floor", "round", "trunc"} do OPS[f] = unary(f) end
for _, f in ipairs{"eq", "ne", "lt", "le", "gt", "ge"} do OPS[f] = method2(f) end

-- nested table (or number) -> flat array of numbers, row-major
local function flatten(v, out)
  out = out or {}
  if type(v) == "table" then
    for _, e in ipairs(v) do flatten(e, out) end
  else
    out[#out + 1] = v
  end
  return out
end

local function multi_index(k, shape)   -- 1-based flat k -> "[i1, i2, ...]"
  local idx, rest = {}, k - 1
  for d = #shape, 1, -1 do
    idx[d] = rest % shape[d] + 1
    rest = rest // shape[d]
  end
  return "[" .. table.concat(idx, ", ") .. "]"
end

-- got (a tensor) against expected (nested table or number) with the shape given by the fixture:
-- elementwise |got - expected| <= atol + rtol * |expected|; equal infinities and two NaNs match.
-- The runner's check_eq compares the shapes, its check_close the values with the tolerance scaled
-- by the largest |expected|; the elementwise test below is the stricter one and names elements.
local function check_torch(got, expected, shape, rtol, atol, what)
  check_eq(tensor.is_tensor(got), true, what .. ": result is a tensor")
  check_eq(table.concat(got.shape, ", "), table.concat(shape, ", "), what .. ": shape")
  local g, e = flatten(got:totable()), flatten(expected)
  check_eq(#g, #e, what .. ": number of elements")
  local bad, worst = {}, 0
  for k = 1, #e do
    local gk, ek = g[k], e[k]
    local ok = gk == ek or (gk ~= gk and ek ~= ek)
    if not ok and ek == ek and math.abs(ek) ~= math.huge then
      local d, lim = math.abs(gk - ek), atol + rtol * math.abs(ek)
      ok = d <= lim
      if d > worst then worst = d end
    end
    if not ok then
      bad[#bad + 1] = string.format("%s got %.9g expected %.9g", multi_index(k, shape), gk, ek)
    end
  end
  if #bad > 0 then
    local more = #bad > 6 and string.format(" (and %d more)", #bad - 6) or ""
    error(string.format("%s: %d of %d elements differ (rtol %g, atol %g): %s%s", what, #bad, #e, rtol, atol,
                        table.concat(bad, "; ", 1, math.min(#bad, 6)), more), 2)
  end
  local scale, nans = 0, false
  for k = 1, #e do
    if e[k] == e[k] and math.abs(e[k]) ~= math.huge then scale = math.max(scale, math.abs(e[k])) end
    nans = nans or e[k] ~= e[k]
  end
  -- (the runner's check_close cannot tell NaN from a difference once other elements differ a little)
  if not nans then check_close(got, expected, atol + rtol * scale, what) end
end

for _, c in ipairs(cases) do
  test(c.name, function()
    local f = OPS[c.op] or error("no dispatcher for op " .. c.op)
    local x = {}
    for i, v in ipairs(c.inputs) do x[i] = to_input(v) end
    for _, p in ipairs(c.pre or {}) do          -- views applied before the op: {input, method, args...}
      local i, m = p[1], p[2]
      x[i] = x[i][m](x[i], table.unpack(p, 3))
    end
    local got, indices = f(x, c.args)
    check_torch(got, c.expected, c.shape, c.rtol, c.atol, "values")
    if c.expected_indices ~= nil then
      check_torch(indices, c.expected_indices, c.shape, 0, 0, "indices")
    end
  end)
end

test("fixture has cases", function()
  check_eq(#cases > 300, true, "number of cases")
end)
