-- views.lua -- looks for wrong numbers from strided views: every op must give
-- on a view what it gives on a contiguous copy of that view.
--
--   nnlua tests/fuzz/views.lua [seed] [trials]
--
-- A trial makes a random tensor (1-4 dims of 1-5, values with ties, zeros,
-- negatives and now and then NaN or infinities), takes a random chain of views
-- of it (transpose, permute, narrow, select, slice with a step, expand,
-- unsqueeze, squeeze, t), and applies one op to the view v and to
-- c = v:clone() (contiguous, same values). Elementwise ops and index results
-- must match bit for bit; reductions to a few float ulps (a strided reduction
-- may sum in another order). With a gradient the same holds for the gradient
-- that reaches the base tensor through the view and through the copy. In-place
-- ops run on a view of a copy of the base and must change exactly the elements
-- the view covers, as the same op on the copy says. Prints the first
-- mismatch with the trial's seed and the chain, and exits non-zero.
local seed = math.tointeger(tonumber(arg[1] or 1)) or 1
local trials = math.tointeger(tonumber(arg[2] or 500)) or 500
math.randomseed(seed)
local rnd = math.random
local U = require "util"
local pick, flat = U.pick, U.flat

-- ---- helpers ----------------------------------------------------------------


local function same_shape(a, b)
  local sa, sb = a:size(), b:size()
  if #sa ~= #sb then return false end
  for i = 1, #sa do if sa[i] ~= sb[i] then return false end end
  return true
end

local function shape_str(t) return "[" .. table.concat(t:size(), ",") .. "]" end

-- x and y equal bit for bit (NaN equals NaN, -0 differs from 0), or within
-- tol relative (then NaN and infinities must still agree exactly)
local function close(x, y, tol)
  if x ~= x then return y ~= y end
  if x == y then return tol > 0 or (1 / x == 1 / y) or x ~= 0 end
  if tol == 0 or x == math.huge or x == -math.huge or y ~= y then return false end
  return math.abs(x - y) <= tol * math.max(1, math.abs(x), math.abs(y))
end

local failures = 0
local function fail(fmt, ...)
  io.stderr:write(string.format("views fuzz seed %d: " .. fmt .. "\n", seed, ...))
  failures = failures + 1
  if failures >= 5 then os.exit(1) end
end

local function compare(what, a, b, tol)
  if tensor.is_tensor(a) ~= tensor.is_tensor(b) then return fail("%s: one side is not a tensor", what) end
  if not tensor.is_tensor(a) then
    if not close(a, b, tol) then fail("%s: %s vs %s", what, tostring(a), tostring(b)) end
    return
  end
  if not same_shape(a, b) then return fail("%s: shapes %s vs %s", what, shape_str(a), shape_str(b)) end
  local fa, fb = flat(a), flat(b)
  for i = 1, #fa do
    if not close(fa[i], fb[i], tol) then
      return fail("%s: element %d is %.9g on the view and %.9g on the copy", what, i, fa[i], fb[i])
    end
  end
end

-- ---- tensors and views ------------------------------------------------------

local function values(n)
  local out = {}
  local special = rnd(4) == 1
  for i = 1, n do
    local r = rnd(20)
    if special and r == 1 then out[i] = pick{0 / 0, math.huge, -math.huge}
    elseif r <= 3 then out[i] = 0
    elseif r <= 6 then out[i] = rnd(-3, 3)               -- ties
    else out[i] = (rnd() - 0.5) * 8 end
  end
  return out
end

local function base_tensor()
  local shape = {}
  for i = 1, rnd(1, 4) do shape[i] = rnd(1, 5) end
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  return tensor.new(values(n)):view(table.unpack(shape)), shape
end

-- a random chain of views of t; returns the view and the chain as text
local function random_view(t)
  local steps = {}
  for _ = 1, rnd(0, 4) do
    local s = t:size()
    local nd = #s
    local k = rnd(9)
    local ok, v, text = pcall(function()
      if k == 1 and nd >= 2 then
        local a, b = rnd(nd), rnd(nd)
        local text = string.format("transpose(%d,%d)", a, b)
        return t:transpose(a, b), text
      elseif k == 2 and nd >= 2 then
        local p = {}
        for i = 1, nd do p[i] = i end
        for i = nd, 2, -1 do local j = rnd(i); p[i], p[j] = p[j], p[i] end
        local text = "permute(" .. table.concat(p, ",") .. ")"
        return t:permute(table.unpack(p)), text
      elseif k == 3 and nd >= 1 then
        local d = rnd(nd)
        local start = rnd(1, s[d])
        local len = rnd(1, s[d] - start + 1)
        local text = string.format("narrow(%d,%d,%d)", d, start, len)
        return t:narrow(d, start, len), text
      elseif k == 4 and nd >= 2 then
        local d = rnd(nd)
        local i = rnd(s[d])
        local text = string.format("select(%d,%d)", d, i)
        return t:select(d, i), text
      elseif k == 5 and nd >= 1 then
        local d = rnd(nd)
        local start = rnd(1, s[d])
        local step = rnd(1, 3)
        local text = string.format("slice(%d,%d,%d,%d)", d, start, s[d], step)
        return t:slice(d, start, s[d], step), text
      elseif k == 6 and nd < 4 then
        local d = rnd(nd + 1)
        local text = string.format("unsqueeze(%d)", d)
        return t:unsqueeze(d), text
      elseif k == 7 then
        local target = {}
        local any = false
        for i = 1, nd do
          if s[i] == 1 and rnd(2) == 1 then target[i] = rnd(2, 4); any = true else target[i] = s[i] end
        end
        if not any then return t end
        local text = "expand(" .. table.concat(target, ",") .. ")"
        return t:expand(table.unpack(target)), text
      elseif k == 8 and nd == 2 then
        local text = "t()"
        return t:t(), text
      elseif k == 9 and nd >= 2 then
        local text = "squeeze()"
        return t:squeeze(), text
      end
      return t
    end)
    if ok and tensor.is_tensor(v) and v:dim() >= 1 and text then t = v; steps[#steps + 1] = text end
  end
  return t, table.concat(steps, ":")
end

-- ---- ops ----------------------------------------------------------------------

local unary = {"exp", "log", "sqrt", "abs", "neg", "sign", "relu", "sigmoid", "tanh", "sin", "cos",
               "tan", "floor", "round", "trunc"}
local differentiable = {exp = true, log = true, sqrt = true, abs = true, neg = true, relu = true,
                        sigmoid = true, tanh = true, sin = true, cos = true, tan = true}
local binary = {"add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge"}

-- op(x) for a random op; returns a function of the tensor, its name, the
-- tolerance and whether it has a gradient
local function random_op(v)
  local nd = v:dim()
  local k = rnd(10)
  if k <= 3 then
    local name = pick(unary)
    return function(x) return x[name](x) end, name, 0, differentiable[name]
  elseif k == 4 then
    local lo, hi = rnd(-2, 0), rnd(0, 2)
    return function(x) return x:clamp(lo, hi) end, string.format("clamp(%d,%d)", lo, hi), 0, true
  elseif k == 5 then
    local name = pick(binary)
    local kind = rnd(3)
    -- the other operand: a number, a contiguous tensor of v's shape, or a broadcast row
    local other
    if kind == 1 then other = pick{2, -1, 0.5, 0}
    elseif kind == 2 then other = tensor.new(values(v:numel())):view(table.unpack(v:size()))
    else other = tensor.new(values(v:size()[nd])) end
    local grad = name == "add" or name == "sub" or name == "mul" or name == "div"
    return function(x) return x[name](x, other) end, name .. "(" .. (kind == 1 and tostring(other) or "t") .. ")",
           0, grad
  elseif k == 6 then
    local name = pick{"sum", "mean", "max", "min", "argmax", "argmin", "var", "std"}
    local d = rnd(0, nd)
    local keep = rnd(2) == 1
    local tol = (name == "sum" or name == "mean" or name == "var" or name == "std") and 1e-5 or 0
    local grad = name == "sum" or name == "mean" or name == "var" or name == "std"
    if d == 0 then return function(x) return (x[name](x)) end, name .. "()", tol, grad end
    return function(x) return (x[name](x, d, keep)) end, string.format("%s(%d,%s)", name, d, keep), tol, grad
  elseif k == 7 then
    local d = rnd(nd)
    local name = pick{"softmax", "log_softmax", "cumsum"}
    return function(x) return x[name](x, d) end, string.format("%s(%d)", name, d), 1e-5, true
  elseif k == 8 then
    local d = rnd(nd)
    local desc = rnd(2) == 1
    local which = rnd(2)
    return function(x) return select(which, x:sort(d, desc)) end,
           string.format("sort(%d,%s)[%d]", d, desc, which), 0, which == 1
  elseif k == 9 then
    local d = rnd(nd)
    local kk = rnd(1, v:size()[d])
    local which = rnd(2)
    return function(x) return select(which, x:topk(kk, d)) end,
           string.format("topk(%d,%d)[%d]", kk, d, which), 0, which == 1
  else
    local p = pick{1, 2, math.huge}
    return function(x) return x:norm(p) end, "norm(" .. tostring(p) .. ")", 1e-5, p ~= math.huge
  end
end

local function has_nan_or_inf(t)
  for _, x in ipairs(flat(t)) do if x ~= x or x == math.huge or x == -math.huge then return true end end
  return false
end

-- the chain of views (as random_view wrote it) as a function of a tensor
local function replay(chain)
  return load("local t = ... return t" .. (chain ~= "" and ":" .. chain or ""))
end

-- a NaN-free base tensor, a view chain of it and an op with a gradient; nil when
-- the draw has NaN or infinities or an op without one
local function gradient_case()
  local base = base_tensor()
  if has_nan_or_inf(base) then return nil end
  local v, chain = random_view(base)
  local f, name, tol, grad = random_op(v)
  if not grad then return nil end
  return base, chain, f, name, tol
end

-- ---- trials -------------------------------------------------------------------

local checked = 0
for trial = 1, trials do
  local base = base_tensor()
  local v, chain = random_view(base)
  local c = v:clone()
  local f, name, tol = random_op(v)
  local what = string.format("trial %d: %s of view %s (%s) of %s", trial, name, shape_str(v), chain, shape_str(base))
  local ok1, r1 = pcall(f, v)
  local ok2, r2 = pcall(f, c)
  if ok1 ~= ok2 then
    fail("%s: %s on the %s only (%s)", what, "error", ok1 and "copy" or "view", tostring(ok1 and r2 or r1))
  elseif ok1 then
    compare(what, r1, r2, tol)
    checked = checked + 1
  end
end

-- gradients through a view against through a copy; NaN-free inputs
for trial = 1, trials // 2 do
  local base, chain, f, name, tol = gradient_case()
  if base then
    local a = base:detach():requires_grad_(true)
    local b = base:detach():requires_grad_(true)
    -- the same chain of views on a, and on b followed by a copy
    local ok, ya, yb = pcall(function()
      local fa = replay(chain)
      local vA, vB = fa(a), fa(b):clone()
      return f(vA), f(vB)
    end)
    if ok and tensor.is_tensor(ya) and ya.requires_grad then
      local weights = tensor.new(values(ya:numel())):view(table.unpack(ya:size()))
      local okb = pcall(function()
        local la, lb = (ya * weights):sum(), (yb * weights):sum()
        la:backward()
        lb:backward()
      end)
      if okb and a.grad and b.grad then
        compare(string.format("grad trial %d: %s of view (%s) of %s", trial, name, chain, shape_str(base)),
                a.grad, b.grad, tol > 0 and tol or 1e-6)
        checked = checked + 1
      end
    end
  end
end

-- in place on a view: exactly the covered elements change, as on the copy
local inplace = {"add_", "sub_", "mul_", "div_", "fill_", "zero_", "clamp_"}
for trial = 1, trials // 2 do
  local base = base_tensor()
  local v, chain = random_view(base)
  local name = pick(inplace)
  local arg = name == "clamp_" and {-1, 1} or (name == "zero_" and {} or {pick{2, -1, 0.5}})
  local copy = base:clone()
  local fa = replay(chain)
  local okv, view = pcall(fa, copy)
  if okv then
    local expect = view:clone()
    local ok1 = pcall(function() expect[name](expect, table.unpack(arg)) end)
    local ok2, err = pcall(function() view[name](view, table.unpack(arg)) end)
    local what = string.format("in-place trial %d: %s on view (%s) of %s", trial, name, chain, shape_str(base))
    if ok2 then
      if not ok1 then fail("%s: the view accepted what the copy refused", what) end
      compare(what .. " (the view after)", view, expect, 0)
      -- elements outside the view keep their values: mark the base with
      -- positions and see which the view covers
      local marks = tensor.arange(1, base:numel() + 1):view(table.unpack(base:size()))
      local covered = {}
      for _, p in ipairs(flat(fa(marks))) do covered[math.tointeger(p)] = true end
      local before, after = flat(base), flat(copy)
      for i = 1, #before do
        if not covered[i] and not close(before[i], after[i], 0) then
          fail("%s: element %d outside the view changed from %.9g to %.9g", what, i, before[i], after[i])
          break
        end
      end
      checked = checked + 1
    elseif type(err) ~= "string" then
      fail("%s: error is a %s", what, type(err))
    end
  end
end

-- changed after the forward pass: an op's input (or the output it returned)
-- changed in place before backward must either make backward fail or not
-- matter (the op did not save it): the gradient must then be the one an
-- unchanged run gives, bit for bit
for trial = 1, trials // 2 do
  local base, chain, f, name = gradient_case()
  local target = rnd(2) == 1 and "input" or "output"
  if base then
    local fa = replay(chain)
    local function run(change)
      local a = base:detach():requires_grad_(true)
      local x = fa(a):clone()                       -- a non-leaf the op saves, if it saves its input
      local y = f(x)
      if not tensor.is_tensor(y) or not y.requires_grad then return "skip" end
      math.randomseed(seed * 1000 + trial)          -- the same weights both runs
      local w = tensor.new(values(y:numel())):view(table.unpack(y:size()))
      if change then
        local t = target == "input" and x or y
        t:detach():add_(0.25)                        -- shares the storage (and its version)
      end
      local ok, err = pcall(function() (y * w):sum():backward() end)
      if not ok then return "error", err end
      return "ok", a.grad
    end
    local s1, g1 = run(false)
    local s2, g2 = run(true)
    local what = string.format("change of %s trial %d: %s of view (%s) of %s, %s changed before backward",
                               target, trial, name, chain, shape_str(base), target)
    if s1 == "ok" and s2 == "ok" then
      compare(what .. " (backward ran, so the gradient must not move)", g2, g1, 0)
      checked = checked + 1
    elseif s1 == "ok" and s2 == "error" and type(g2) ~= "string" then
      fail("%s: error is a %s", what, type(g2))
    end
  end
end

print(string.format("views fuzz seed %d: %d comparisons, %d mismatches", seed, checked, failures))
if failures > 0 then os.exit(1) end
