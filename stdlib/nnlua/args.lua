-- nnlua.args: the one way constructors read their arguments.
--
-- Every constructor takes PyTorch's arguments in PyTorch's order, or any of
-- them by PyTorch's name in one trailing option table, required ones too:
--
--   nn.Linear(3, 2, false)
--   nn.Linear(3, 2, {bias = false})
--   nn.Linear{in_features = 3, out_features = 2, bias = false}
--
-- A spec lists the arguments in order, each {name, default}; args.REQUIRED
-- marks one with no default. Optional fields of an entry:
--   check = function(v, fn, name) -> v   validates (and may convert) a given value
--   table = true                         the argument itself may be a plain table
--                                        (an array such as milestones or mean)
--   only = v, why = "..."                nnlua accepts only the value v (PyTorch
--                                        arguments nnlua does not implement)
--   unsupported = "why"                  any value given is an error (PyTorch
--                                        arguments whose default is None)
--   positional = false                   keyword-only in PyTorch: the table only
--
--   local a = args.parse("nn.Linear", SPEC, ...)   -- a.in_features, a.bias, ...
--
-- The trailing option table is the last argument when it is a plain table
-- (no metatable) whose keys are all strings; an empty {} counts as options
-- unless the argument at its position takes a table. Giving an argument both
-- ways, too many positional arguments, a missing required one or an unknown
-- name is an error that names it and lists the valid names. Errors are raised
-- with the function's name first; the message handler (nnlua.errors) puts the
-- script's line in front.
local tensor = require "tensor"
local args = {}

args.REQUIRED = setmetatable({}, {__tostring = function() return "<required>" end})

-- whether v is a plain table of string keys: an option table
local function is_options(v)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return false end
  for k in pairs(v) do
    if type(k) ~= "string" then return false end
  end
  return true
end
args.is_options = is_options

local function names(spec)
  local out = {}
  for i, e in ipairs(spec) do
    out[i] = e[2] == args.REQUIRED and e[1] or e[1] .. "?"
  end
  return table.concat(out, ", ")
end

-- The one check for unknown option names, which every stdlib function taking
-- an option table uses (the C functions have lnn_checkopts, bindings/common.c).
-- Raises "fn: unknown option 'k'" followed by more (a string, or a function
-- returning one, called only then) for the first key k of t that known does
-- not accept; known is a set (known[k] true) or a function(k) -> boolean.
-- level is error's level counted from the function calling check_keys.
function args.check_keys(fn, t, known, level, more)
  local accepts = type(known) == "function"
  for k in pairs(t) do
    local ok
    if accepts then ok = known(k) else ok = known[k] end
    if not ok then
      if type(more) == "function" then more = more() end
      error(string.format("%s: unknown option '%s'%s", fn, tostring(k), more or ""), level + 1)
    end
  end
  return t
end

-- checks that the option table t (may be nil: returns {}) has only the keys
-- of the set keys; level is error's, counted from the caller (default 2)
function args.check_opts(fn, t, keys, level)
  if t == nil then return {} end
  if type(t) ~= "table" then
    error(string.format("%s: options must be a table, got %s", fn, type(t)), (level or 2) + 1)
  end
  return args.check_keys(fn, t, keys, (level or 2) + 1)
end

local function fail(fn, spec, fmt, ...)
  local msg = string.format(fmt, ...)
  error(string.format("%s: %s (arguments: %s; ? marks optional ones)", fn, msg, names(spec)), 3)
end

local function describe(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "number" or type(v) == "boolean" or v == nil then return tostring(v) end
  return type(v)
end
args.describe = describe

-- parses the arguments ... of fn against spec; returns a table name -> value
function args.parse(fn, spec, ...)
  local n = select("#", ...)
  local given = {...}
  local opts
  local last = given[n]
  if n > 0 and is_options(last) then
    local slot = spec[n]
    if next(last) ~= nil or not (slot and slot.table and slot.positional ~= false) then
      opts = last
      n = n - 1
    end
  end
  local npos = 0
  for _, e in ipairs(spec) do
    if e.positional ~= false then npos = npos + 1 end
  end
  if n > npos then
    local extra = given[npos + 1]
    fail(fn, spec, "too many arguments: %d given, at most %d by position%s", n, npos,
         is_options(extra) and "; put every named option in one table, the last argument" or "")
  end
  local known = {}
  for _, e in ipairs(spec) do known[e[1]] = e end
  local out = {}
  if opts then
    args.check_keys(fn, opts, known, 2, function()
      return string.format(" (arguments: %s; ? marks optional ones)", names(spec))
    end)
    for k, v in pairs(opts) do out[k] = v end
  end
  local pos = 0
  for _, e in ipairs(spec) do
    local name = e[1]
    if e.positional ~= false then
      pos = pos + 1
      if pos <= n and given[pos] ~= nil then
        if out[name] ~= nil then
          fail(fn, spec, "'%s' given twice, as argument #%d and by name", name, pos)
        end
        out[name] = given[pos]
      end
    end
  end
  for _, e in ipairs(spec) do
    local name, v = e[1], out[e[1]]
    if v == nil then
      if e[2] == args.REQUIRED then fail(fn, spec, "missing required argument '%s'", name) end
      out[name] = e[2]
    else
      if e.unsupported then
        error(string.format("%s: %s is not supported; %s", fn, name, e.unsupported), 2)
      end
      if e.only ~= nil and v ~= e.only then
        error(string.format("%s: %s = %s is not supported%s", fn, name, describe(v),
                            e.why and ("; " .. e.why) or ""), 2)
      end
      if e.check then out[name] = e.check(v, fn, name) end
    end
  end
  return out
end

---------------------------------------------------------------- checks
-- Each returns a function(v, fn, name) -> v for a spec's check field.

local function bad(fn, name, what, v)
  error(string.format("%s: %s must be %s, got %s", fn, name, what, describe(v)), 4)
end

-- a whole number >= lo (a float holding one is converted)
function args.int(lo)
  return function(v, fn, name)
    if math.type(v) == "float" and v == math.floor(v) and v >= -2^53 and v <= 2^53 then
      v = math.tointeger(v)
    end
    if math.type(v) ~= "integer" or (lo and v < lo) then
      bad(fn, name, lo and ("a whole number >= " .. lo) or "a whole number", v)
    end
    return v
  end
end

-- a number (not NaN) in [lo, hi]; either bound may be nil
function args.number(lo, hi)
  return function(v, fn, name)
    if type(v) ~= "number" or v ~= v or (lo and v < lo) or (hi and v > hi) then
      local what = "a number"
      if lo and hi then what = string.format("a number in [%s, %s]", lo, hi)
      elseif lo then what = string.format("a number >= %s", lo)
      elseif hi then what = string.format("a number <= %s", hi) end
      bad(fn, name, what, v)
    end
    return v
  end
end

function args.boolean(v, fn, name)
  if type(v) ~= "boolean" then bad(fn, name, "true or false", v) end
  return v
end

-- one of the given strings
function args.oneof(...)
  local choices = {...}
  return function(v, fn, name)
    for _, c in ipairs(choices) do
      if v == c then return v end
    end
    local q = {}
    for i, c in ipairs(choices) do q[i] = string.format("'%s'", c) end
    local what = #q == 1 and q[1] or table.concat(q, ", ", 1, #q - 1) .. " or " .. q[#q]
    bad(fn, name, what, v)
  end
end

function args.tensor(v, fn, name)
  if not tensor.is_tensor(v) then bad(fn, name, "a tensor", v) end
  return v
end

function args.callable(v, fn, name)
  local mt = getmetatable(v)
  if type(v) ~= "function" and not (type(mt) == "table" and mt.__call ~= nil) then
    bad(fn, name, "a function", v)
  end
  return v
end

return args
