-- api.lua -- random calls into the whole Lua API, looking for crashes.
--
--   nnlua tests/fuzz/api.lua [seed] [calls] [log]
--
-- Calls every function, class and method nnlua gives a script (the seven
-- module tables, their classes and the methods of what they return) with
-- random arguments drawn from a pool of hostile values: nil, edge numbers
-- (NaN, infinities, -0, huge and fractional sizes, integers at the limits),
-- strings, tables of every shape, tensors of every rank including empty,
-- 0-d, transposed, expanded and requiring gradients, functions that error,
-- and objects of nnlua's other types. Every call runs under pcall: a Lua
-- error is the expected answer to nonsense, and it must be a string. What
-- this looks for is what pcall cannot catch: a crash, a sanitizer report, a
-- hang, or an error that is not a string. Run it under the ASan build
-- (make fuzz-api) and in a sandbox, which bounds memory, time and where
-- files go.
--
-- Each call is written to the log before it runs (flushed), so the last line
-- of the log names the call that crashed; a seed replays the same calls.
-- Objects a call returns join the pool, so calls reach states that only
-- chains of calls make (an optimizer over a freed model's parameters, a
-- tensor whose graph was used, a closed figure).
local seed = math.tointeger(tonumber(arg[1] or 1)) or 1
local ncalls = math.tointeger(tonumber(arg[2] or 2000)) or 2000
local logname = arg[3]
local log = logname and assert(io.open(logname, "w")) or nil

math.randomseed(seed)
local rnd = math.random
local function pick(t) return t[rnd(#t)] end

-- ---- values ----------------------------------------------------------------

local numbers = {0, 1, -1, 2, 3, 4, 7, 10, 64, 0.5, -0.5, 1.5, 1e-3, -0.0, 0 / 0, math.huge, -math.huge,
                 2 ^ 31, 2 ^ 32, 2 ^ 53, 2 ^ 63, 1e308, 1e-320, math.maxinteger, math.mininteger,
                 -2 ^ 31, 255, 256, 1e6, 3.0}
local strings = {"", "x", "mean", "sum", "none", "max", "min", "ij", "xy", "fro", "cpu", "float32",
                 "relu", "tanh", "nearest", "auto", "train", "test", "a.png", "f/a.svg", "t.safetensors",
                 "x.csv", "../up.png", "\0", "%s%d", string.rep("a", 300), "1", "-1", "nan", "lr", "dim"}
local keys = {"lr", "momentum", "dim", "keepdim", "reduction", "batch_size", "shuffle", "weight_decay",
              "betas", "eps", "nesterov", "step_size", "gamma", "T_max", "size", "padding", "p", "mean",
              "std", "title", "xlabel", "label", "bins", "dtype", "requires_grad", "generator", "bias",
              "ignore_index", "label_smoothing", "indexing", "largest", "sorted", "train", "root",
              "download", "transform", "progress", "drop_last", "num_classes", "inplace", "amsgrad",
              "foreach", "maximize", "max_lr", "total_steps", "milestones", "factor", "mode", "patience",
              "width", "height", "dpi", "nrow", "colors", "levels", "header", "columns", "x", "y", "z",
              "frames", "fps", "out_features", "in_features", "negative_slope", "beta", "delta", "weight"}

local pool = {}          -- objects made so far (tensors, modules, optimizers, ...)
local POOL_MAX = 60

local function remember(v)
  local t = type(v)
  if t == "userdata" or (t == "table" and getmetatable(v) ~= nil) then
    if #pool < POOL_MAX then pool[#pool + 1] = v else pool[rnd(POOL_MAX)] = v end
  end
end

local function small_shape()
  local nd = rnd(0, 4)
  local s = {}
  for i = 1, nd do s[i] = rnd(0, 4) end
  return s
end

local function gen_tensor()
  local k = rnd(12)
  local ok, t = pcall(function()
    if k == 1 then return tensor.zeros(0) end
    if k == 2 then return tensor.new(3.5) end
    if k == 3 then return tensor.randn(table.unpack(small_shape())) end
    if k == 4 then return tensor.randn(3, 4):t() end
    if k == 5 then return tensor.randn(1, 4):expand(3, 4) end
    if k == 6 then return tensor.randn(2, 3, {requires_grad = true}) end
    if k == 7 then return tensor.arange(0, 6):view(2, 3) end
    if k == 8 then return tensor.rand(2, 1, 28, 28) end
    if k == 9 then return tensor.new({1, 0, 2, 1}) end
    if k == 10 then return tensor.full({2, 2}, 0 / 0) end
    if k == 11 then return tensor.randn(4, 5)[2] end
    return tensor.randn(2, 3, {requires_grad = true}) * 2
  end)
  return ok and t or tensor.zeros(1)
end

local gen

local function gen_table(depth)
  local k = rnd(7)
  if k == 1 then return {} end
  if k == 2 then return small_shape() end
  if k == 3 then return {{1, 2}, {3, 4}} end
  if k == 4 then return {gen(depth + 1), gen(depth + 1)} end
  if k == 5 then return {0.5, 0.5} end
  local t = {}
  for _ = 1, rnd(0, 3) do t[pick(keys)] = gen(depth + 1) end
  return t
end

local function err_function() error("raised by a function the fuzzer passed") end
local functions = {function() end, function(...) return ... end, err_function,
                   function() return tensor.zeros(1) end, function(x) return x, x end,
                   function() coroutine.yield(1) end}

gen = function(depth)
  depth = depth or 0
  local k = rnd(depth > 2 and 4 or 10)
  if k == 1 then return nil end
  if k == 2 then return pick(numbers) end
  if k == 3 then return pick(strings) end
  if k == 4 then return rnd(2) == 1 end
  if k == 5 or k == 6 then return gen_tensor() end
  if k == 7 then return gen_table(depth) end
  if k == 8 then return pick(functions) end
  if k == 9 and #pool > 0 then return pick(pool) end
  if k == 10 then return coroutine.create(function() end) end
  return pick(numbers)
end

-- ---- targets -----------------------------------------------------------------

local targets = {}   -- {name, callable, self_fn} ; self_fn gives a receiver for methods

local function add(name, f) targets[#targets + 1] = {name = name, f = f} end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

local function scan(prefix, t, depth)
  local names = {}
  for k in pairs(t) do if type(k) == "string" then names[#names + 1] = k end end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = rawget(t, k)
    if k:sub(1, 1) ~= "_" then
      if callable(v) then add(prefix .. k, v) end
      if type(v) == "table" and depth < 2 then scan(prefix .. k .. ".", v, depth + 1) end
    end
  end
end
for _, m in ipairs{"tensor", "nn", "optim", "data", "datasets", "transforms", "plot"} do
  scan(m .. ".", _G[m], 0)
end

-- methods: what the receiver's metatable (or class) offers
local function methods_of(obj)
  local out = {}
  local mt = getmetatable(obj)
  local idx = type(mt) == "table" and rawget(mt, "__index") or nil
  local seen = {}
  local function take(t, depth)
    if type(t) ~= "table" or seen[t] or depth > 4 then return end
    seen[t] = true
    for k, v in pairs(t) do
      if type(k) == "string" and k:sub(1, 1) ~= "_" and type(v) == "function" then out[#out + 1] = k end
    end
    local m2 = getmetatable(t)
    if type(m2) == "table" then take(rawget(m2, "__index"), depth + 1) end
  end
  take(idx, 0)
  if type(obj) == "table" then take(obj, 0) end
  table.sort(out)
  return out
end

-- ---- the loop ----------------------------------------------------------------

local function describe(v)
  local t = type(v)
  if t == "string" then return string.format("%q", #v > 20 and v:sub(1, 20) .. "..." or v) end
  if t == "number" then return tostring(v) end
  if tensor.is_tensor(v) then
    local ok, s = pcall(function() return "tensor" .. table.concat(v:size(), "x") end)
    return ok and s or "tensor"
  end
  if t == "table" then return getmetatable(v) and "object" or "{...}" end
  return t
end

local function note(name, args, n)
  if not log then return end
  local parts = {}
  for i = 1, n do parts[i] = describe(args[i]) end
  log:write(name, "(", table.concat(parts, ", "), ")\n")
  log:flush()
end

local stats = {calls = 0, ok = 0, errors = 0}
local function run(name, f, args, n)
  note(name, args, n)
  stats.calls = stats.calls + 1
  local res = table.pack(pcall(f, table.unpack(args, 1, n)))
  if res[1] then
    stats.ok = stats.ok + 1
    for i = 2, res.n do remember(res[i]) end
  else
    stats.errors = stats.errors + 1
    local e = res[2]
    -- errors must be strings, unless the value raised is one the fuzzer passed in
    -- (a raise helper, or a function argument that raised it)
    local passed = false
    for i = 1, n do passed = passed or rawequal(args[i], e) end
    if type(e) ~= "string" and not passed and not name:find("raise$") then
      error(string.format("fuzz: %s raised a %s instead of a message", name, type(e)), 0)
    end
  end
end

-- half the calls get plausible arguments (tensors, small sizes, option
-- tables with known keys), which get past the first checks to deeper code
local plausible_values = {1, 2, 3, 0, 0.1, 0.9, true, false, "mean", "sum"}
local function plausible()
  local k = rnd(10)
  if k <= 4 then return gen_tensor() end
  if k <= 6 then return rnd(1, 5) end
  if k <= 8 then
    local t = {}
    for _ = 1, rnd(1, 2) do t[pick(keys)] = pick(plausible_values) end
    return t
  end
  if k == 9 and #pool > 0 then return pick(pool) end
  return gen()
end

local function random_args()
  local n = rnd(0, 4)
  local args = {}
  local g = rnd(2) == 1 and plausible or gen
  for i = 1, n do args[i] = g() end
  return args, n
end

for _ = 1, ncalls do
  local r = rnd(10)
  if r <= 5 or #pool == 0 then
    local tg = pick(targets)
    local args, n = random_args()
    run(tg.name, tg.f, args, n)
  else
    -- a method of something made earlier
    local obj = pick(pool)
    local ms = methods_of(obj)
    if #ms > 0 then
      local m = pick(ms)
      local args, n = random_args()
      table.insert(args, 1, obj)
      local ok, f = pcall(function() return obj[m] end)
      if ok and type(f) == "function" then run(describe(obj) .. ":" .. m, f, args, n + 1) end
    end
  end
  if rnd(200) == 1 then collectgarbage() end
end
collectgarbage()
print(string.format("api fuzz seed %d: %d calls, %d returned, %d raised errors, %d targets",
                    seed, stats.calls, stats.ok, stats.errors, #targets))
