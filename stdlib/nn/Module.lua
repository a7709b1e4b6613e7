-- nn.Module: the base class of every layer and model.
--
--   local MLP = nn.Module:extend("MLP")
--   function MLP:init(h) self.fc1 = nn.Linear(784, h) ... end
--   function MLP:forward(x) ... end
--   local m = MLP(256); local y = m(x)
--
-- Fields that hold modules or parameters (tensors with requires_grad) are
-- registered in the order they are assigned; Lua tables keep no order, so the
-- instance keeps its own lists. Other fields are plain fields.

local tensor = require "tensor"
local class = require "nnlua.class"
local args = require "nnlua.args"

local Module = class("Module", nil, {receiver = "model"})

local function is_module(v)
  return type(v) == "table" and rawget(v, "_modules") ~= nil
end
Module.is_module = is_module

-- Instances: fields live in _modules / _params / _buffers / plain rawset.
-- Why __index is a function here and a plain table everywhere else: a
-- parameter, submodule or buffer must not be a raw field of the instance,
-- because Lua calls __newindex only for keys that are absent, and every
-- assignment to such a name (m.fc = nn.Linear(...), m.weight = other) has to
-- pass through newindex below to keep the order, refuse cycles and check the
-- value, as PyTorch's Module.__setattr__ does. So they sit in their own
-- tables and reads fall through to this function, the counterpart of
-- PyTorch's Module.__getattr__; plain fields (training, __name, a script's
-- own numbers) are raw and never reach it.
local function index(self, k)
  local v = rawget(self, "_params")[k]
  if v ~= nil then return v end
  v = rawget(self, "_modules")[k]
  if v ~= nil then return v end
  v = rawget(self, "_buffers")[k]
  if v ~= nil then return v end
  return getmetatable(self)[k]
end

local function remember(list, k)
  for _, name in ipairs(list) do if name == k then return end end
  list[#list + 1] = k
end

local function forget(self, k)
  self._params[k], self._modules[k], self._buffers[k] = nil, nil, nil
end

-- Cycles. A module that contains itself (m.me = m, s:add(s), a.b = b then
-- b.a = a) would make every walk over the tree (print, parameters,
-- state_dict, save, train, modules, apply) recurse until memory runs out.
-- Assigning a module is refused when it would close a cycle, and the walks
-- check first, for cycles made behind __newindex (rawset on _modules).

local function cycle_error(path, again, level)
  error(string.format("%s is %s itself: a module cannot contain itself", path, again), level + 1)
end

-- the dotted path of names from m down to target through submodules, or nil
local function path_to(m, target, seen)
  if seen[m] then return nil end
  seen[m] = true
  local mods = rawget(m, "_modules")
  for _, k in ipairs(rawget(m, "_order")) do
    local c = mods[k]
    if c == target then return tostring(k) end
    if c ~= nil and is_module(c) then
      local p = path_to(c, target, seen)
      if p then return tostring(k) .. "." .. p end
    end
  end
  return nil
end

-- raises naming the first cycle below m (path: m's name so far)
local function find_cycle(m, path, onpath, level)
  onpath[m] = path
  local mods = rawget(m, "_modules")
  for _, k in ipairs(rawget(m, "_order")) do
    local c = mods[k]
    if c ~= nil and is_module(c) then
      local here = path .. "." .. tostring(k)
      if onpath[c] then cycle_error(here, onpath[c], level + 1) end
      find_cycle(c, here, onpath, level + 1)
    end
  end
  onpath[m] = nil
end

local function check_acyclic(self, level)
  find_cycle(self, self.__name, {}, (level or 1) + 1)
end

local function newindex(self, k, v)
  if is_module(v) then
    if v == self then cycle_error(self.__name .. "." .. tostring(k), self.__name, 2) end
    local p = path_to(v, self, {})
    if p then cycle_error(self.__name .. "." .. tostring(k) .. "." .. p, self.__name, 2) end
    forget(self, k)
    self._modules[k] = v
    remember(self._order, k)
  elseif tensor.is_tensor(v) and v.requires_grad then
    forget(self, k)
    self._params[k] = v
    remember(self._order, k)
  elseif v == nil and (self._params[k] or self._modules[k] or self._buffers[k]) ~= nil then
    forget(self, k)
  elseif tensor.is_tensor(v) and self._buffers[k] ~= nil then
    self._buffers[k] = v
  else
    rawset(self, k, v)
  end
end

Module.__index = index
Module.__newindex = newindex
-- m(...) runs m:forward(...), not as a tail call: the traceback names forward
Module.__call = function(m, ...) return class.pass(m:forward(...)) end
Module.__tostring = function(m) return m:repr() end

-- Module:extend(name) -> a subclass; calling it makes an instance and runs init
function Module.extend(cls, name)
  if type(name) ~= "string" then
    error("extend: give the class a name, as nn.Module:extend(\"MLP\")", 2)
  end
  if not class.is_class(cls) then
    error("extend: call it as nn.Module:extend(\"" .. name .. "\") with a colon", 2)
  end
  return class(name, cls)
end

function Module.new(cls, ...)
  local obj = {_modules = {}, _params = {}, _buffers = {}, _order = {}, training = true}
  setmetatable(obj, cls)
  obj:init(...)
  return obj
end

function Module:init() end

function Module:forward()
  error(string.format("%s: forward is not defined", self.__name), 2)
end

function Module:register_buffer(name, t)
  assert(tensor.is_tensor(t), "register_buffer: expected a tensor")
  forget(self, name)
  self._buffers[name] = t
  remember(self._order, name)
end

-- ordered (name, value, kind) of direct members
local function members(self)
  local out = {}
  for _, k in ipairs(self._order) do
    local kind = self._params[k] and "param" or self._modules[k] and "module" or self._buffers[k] and "buffer"
    if kind then out[#out + 1] = {k, self._params[k] or self._modules[k] or self._buffers[k], kind} end
  end
  return out
end

local function walk(self, prefix, want, out, seen)
  for _, m in ipairs(members(self)) do
    local name, v, kind = m[1], m[2], m[3]
    if kind == "module" then
      walk(v, prefix .. name .. ".", want, out, seen)
    elseif want[kind] and not seen[v] then
      seen[v] = true
      out[#out + 1] = {prefix .. name, v}
    end
  end
  return out
end

function Module:named_parameters()
  check_acyclic(self, 2)
  return walk(self, "", {param = true}, {}, {})
end

function Module:parameters()
  local out = {}
  for i, p in ipairs(self:named_parameters()) do out[i] = p[2] end
  return out
end

function Module:named_buffers()
  check_acyclic(self, 2)
  return walk(self, "", {buffer = true}, {}, {})
end

function Module:children()
  local out = {}
  for _, m in ipairs(members(self)) do
    if m[3] == "module" then out[#out + 1] = m[2] end
  end
  return out
end

function Module:named_children()
  local out = {}
  for _, m in ipairs(members(self)) do
    if m[3] == "module" then out[#out + 1] = {m[1], m[2]} end
  end
  return out
end

local function collect(m, out)
  out[#out + 1] = m
  for _, c in ipairs(m:children()) do collect(c, out) end
  return out
end

function Module:modules()
  check_acyclic(self, 2)
  return collect(self, {})
end

local function apply(m, fn)
  for _, c in ipairs(m:children()) do apply(c, fn) end
  fn(m)
end

function Module:apply(fn)
  check_acyclic(self, 2)
  apply(self, fn)
  return self
end

function Module:train(mode)
  if mode == nil then mode = true end
  for _, m in ipairs(self:modules()) do rawset(m, "training", mode and true or false) end
  return self
end

function Module:eval() return self:train(false) end

function Module:zero_grad()
  for _, p in ipairs(self:parameters()) do p.grad = nil end
end

function Module:num_parameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

function Module:state_dict()
  check_acyclic(self, 2)
  local sd = {}
  for _, p in ipairs(walk(self, "", {param = true, buffer = true}, {}, {})) do sd[p[1]] = p[2] end
  return sd
end

local function shape_str(t) return "[" .. table.concat(t.shape, ", ") .. "]" end

-- state_dict's entries {name, tensor}, in its (the parameters') order
local function state_entries(self)
  return walk(self, "", {param = true, buffer = true}, {}, {})
end

local function show_key(k)
  return type(k) == "string" and k or tostring(k) .. " (a " .. (math.type(k) or type(k)) .. ")"
end

-- a < b for strings, with runs of digits compared as numbers: "2.weight"
-- before "10.weight", as a Sequential's children are numbered
local function natural_before(a, b)
  local i, j = 1, 1
  while i <= #a and j <= #b do
    local da, db = a:match("^%d+", i), b:match("^%d+", j)
    if da and db then
      local x, y = da:gsub("^0+", ""), db:gsub("^0+", "")
      if #x ~= #y then return #x < #y end
      if x ~= y then return x < y end
      i, j = i + #da, j + #db
    else
      local ca, cb = a:sub(i, i), b:sub(j, j)
      if ca ~= cb then return ca < cb end
      i, j = i + 1, j + 1
    end
  end
  if #a - i ~= #b - j then return #a - i < #b - j end
  return a < b                               -- "01" and "1": any fixed order
end

-- unexpected keys in an order that does not depend on the hash seed
local function key_before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "string" then return natural_before(a, b) end
  if ta == "number" then return a < b end
  return tostring(a) < tostring(b)
end

-- When none of the model's keys is in sd but a table in it has some: a
-- checkpoint of more than the model ({model = ..., optim = ...}). Returns a
-- hint naming that key, or nil.
local function nested_hint(sd, entries, missing)
  if #missing == 0 or #missing ~= #entries then return nil end
  local found = {}
  for k, v in next, sd do
    if type(v) == "table" and not tensor.is_tensor(v) and rawget(v, entries[1][1]) ~= nil then
      found[#found + 1] = k
    end
  end
  if #found == 0 then return nil end
  table.sort(found, key_before)
  return string.format("the table at key '%s' has this model's keys: pass that table to "
                       .. "load_state_dict", tostring(found[1]))
end

local LOAD_OPTIONS = {strict = true}    -- the keys load_state_dict's option table may have

-- Checks every entry first and copies only when all fit: a bad state dict
-- changes nothing. The message lists every problem, in state_dict order.
-- fresh: the tensors of sd are the caller's own copies (m:load), so they
-- cannot alias the model's and need no clone before copying.
-- file: the path m:load read sd from, named in the message.
local function load_state(self, sd, opts, fresh, file)
  if type(sd) ~= "table" then
    error("load_state_dict: expected a table of tensors (a state dict), got " .. type(sd), 3)
  end
  local strict = true
  if opts ~= nil then
    if type(opts) ~= "table" then error("load_state_dict: options must be a table, got " .. type(opts), 3) end
    args.check_keys("load_state_dict", opts, LOAD_OPTIONS, 3, " (valid: strict)")
    if rawget(opts, "strict") ~= nil then strict = rawget(opts, "strict") and true or false end
  end
  local known, missing, unexpected, wrong, pairs_ = {}, {}, {}, {}, {}
  local entries = state_entries(self)
  for _, e in ipairs(entries) do
    local k, t = e[1], e[2]
    known[k] = true
    local v = rawget(sd, k)
    if v == nil then
      missing[#missing + 1] = k
    elseif not tensor.is_tensor(v) then
      wrong[#wrong + 1] = string.format("'%s' is a %s in the state dict, not a tensor", k, type(v))
    elseif shape_str(v) ~= shape_str(t) then
      wrong[#wrong + 1] = string.format("'%s' has shape %s in the state dict but %s in the model",
                                        k, shape_str(v), shape_str(t))
    elseif v ~= t then
      pairs_[#pairs_ + 1] = {t, v}
    end
  end
  for k in next, sd do if not known[k] then unexpected[#unexpected + 1] = k end end
  table.sort(unexpected, key_before)
  local problems = {}
  if strict and #missing + #unexpected > 0 then
    local shown = {}
    for i, k in ipairs(unexpected) do shown[i] = show_key(k) end
    problems[1] = "missing keys: {" .. table.concat(missing, ", ") .. "}; unexpected keys: {"
                  .. table.concat(shown, ", ") .. "}"
  end
  for _, w in ipairs(wrong) do problems[#problems + 1] = w end
  if #problems > 0 then
    problems[#problems + 1] = strict and nested_hint(sd, entries, missing) or nil
    local from = file and string.format(" from '%s'", file) or ""
    error("load_state_dict: " .. table.concat(problems, "; ") .. " (nothing was loaded" .. from .. ")", 3)
  end
  tensor.no_grad(function()
    -- sources first copied when they may share memory with the model (a
    -- state dict of the model itself, reordered): every copy reads old values
    if not fresh then
      for _, p in ipairs(pairs_) do p[2] = p[2]:clone() end
    end
    for _, p in ipairs(pairs_) do p[1]:copy_(p[2]) end
  end)
  return missing, unexpected
end

function Module:load_state_dict(sd, opts)
  local missing, unexpected = load_state(self, sd, opts, false)   -- not a tail call: error levels
  return missing, unexpected
end

-- The state dict through tensor.save (safetensors): each tensor is stored
-- under its state dict name ("1.weight", "fc1.bias"), so other readers
-- (safetensors.torch.load_file) get a state dict PyTorch can load.
function Module:save(path)
  tensor.save(self:state_dict(), path)
end

-- A file that does not load, or does not fit, changes nothing. A file of
-- another program loads flat (tensor.load), so a PyTorch state dict saved
-- with safetensors fits a model of the same layout.
function Module:load(path, opts)
  local missing, unexpected = load_state(self, tensor.load(path), opts, true, path)
  return missing, unexpected
end

function Module:extra_repr() return "" end

local function group_digits(n)
  local s = tostring(math.floor(n))
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

function Module:repr(indent)
  if indent == nil then check_acyclic(self, 2) end
  indent = indent or ""
  local kids = self:named_children()
  local head = self.__name .. "(" .. self:extra_repr()
  if #kids == 0 then return head .. ")" end
  local lines = {head}
  for _, kv in ipairs(kids) do
    lines[#lines + 1] = indent .. "  (" .. kv[1] .. "): " .. kv[2]:repr(indent .. "  ")
  end
  lines[#lines + 1] = indent .. ")"
  local s = table.concat(lines, "\n")
  if indent == "" then s = s .. "\nParameters: " .. group_digits(self:num_parameters()) end
  return s
end

return Module
