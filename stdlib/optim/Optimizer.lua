-- optim.Optimizer: the base class of every optimizer (an nnlua.class whose
-- receiver is "opt": opt.step() says "call it as opt:step(...)").
--
--   local Adam = Optimizer:extend("Adam", {              -- PyTorch's arguments in PyTorch's order
--     {"lr", 1e-3}, {"betas", {0.9, 0.999}, table = true}, ...,
--     {"maximize", false, positional = false, only = false, why = "..."}})
--   function Adam:_check(group, fn) ... end               -- option checks of this rule
--   function Adam:_update(p, grad, state, group) ... end  -- one C kernel call
--   local opt = Adam(params, 0.01) = Adam(params, {lr = 0.01}) = Adam{params = params, lr = 0.01}
--
-- The spec lists the arguments after params as nnlua.args entries. Those
-- marked native = false (Optimizer.unsupported makes them) are PyTorch
-- arguments nnlua does not implement: accepted only at their default, kept
-- out of param_groups. The others are the options of a parameter group.
--
-- params is an array of tensors or an array of groups {params = {...}, lr = ...};
-- a group's missing options come from the constructor's arguments, then
-- from the class defaults. Options are read from opt.param_groups at every
-- step, so changing param_groups[i].lr between steps takes effect. State is
-- kept per parameter tensor in opt.state[p]; state_dict() numbers the
-- parameters 1..N across the groups, as PyTorch numbers them 0..N-1.

local tensor = require "tensor"
local args = require "nnlua.args"
local class = require "nnlua.class"

local Optimizer = class("Optimizer", nil, {receiver = "opt"})

-- the default of lr when the argument may come from every group instead (SGD's lr)
Optimizer.required = setmetatable({}, {__tostring = function() return "<required parameter>" end})

-- raises msg; the host's message handler puts the script's line in front
local function raise(msg) error(msg, 2) end

local has_grad, is_live = require("optim._C").has_grad, require("optim._C").is_live

-- The _update functions of nnlua's rules, which hand the gradient straight to
-- their C kernel: step passes them true for it, and the kernel reads p's own
-- .grad, so that no Lua value holds the gradient and zero_grad frees it at
-- once. A subclass's own _update gets the tensor, as documented.
local reads_grad_in_c = setmetatable({}, {__mode = "k"})
function Optimizer._grad_in_c(cls)
  reads_grad_in_c[rawget(cls, "_update")] = true
end
Optimizer.raise = raise

local function copy(v)
  if type(v) ~= "table" or tensor.is_tensor(v) or v == Optimizer.required then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

-- ---------------------------------------------------------------- option checks

function Optimizer.check_nonneg(fn, group, key)
  local v = group[key]
  if type(v) ~= "number" or not (v >= 0) then
    raise(string.format("%s: %s must be a non-negative number, got %s", fn, key, tostring(v)))
  end
end

function Optimizer.check_bool(fn, group, key)
  if type(group[key]) ~= "boolean" then
    raise(string.format("%s: %s must be a boolean, got %s", fn, key, tostring(group[key])))
  end
end

function Optimizer.check_betas(fn, group)
  local b = group.betas
  if type(b) ~= "table" or type(b[1]) ~= "number" or type(b[2]) ~= "number" then
    raise(string.format("%s: betas must be a table of two numbers, got %s", fn, tostring(b)))
  end
  for i = 1, 2 do
    if not (b[i] >= 0 and b[i] < 1) then
      raise(string.format("%s: betas[%d] must be in [0, 1), got %s", fn, i, tostring(b[i])))
    end
  end
end

-- ---------------------------------------------------------------- the arguments nnlua does not implement

-- spec entries for PyTorch's arguments nnlua does not implement: accepted at
-- their default only (foreach and fused, whose default None lets PyTorch
-- choose a loop, not at all: nnlua has one CPU implementation)
local NOT_HERE = {
  maximize = "nnlua does not implement maximize; minimise the negated objective instead",
  capturable = "capturable is for CUDA graphs; nnlua runs on the CPU",
  differentiable = "nnlua does not differentiate through the optimizer step",
  foreach = "nnlua has one CPU implementation; leave foreach out",
  fused = "nnlua has one CPU implementation; leave fused out",
}

-- the entry of PyTorch's argument name (keyword-only unless positional is true)
function Optimizer.unsupported(name, positional)
  local e = {name, false, native = false, positional = positional or false}
  if name == "foreach" or name == "fused" then
    e[2], e.unsupported = nil, NOT_HERE[name]
  else
    e.only, e.why = false, NOT_HERE[name]
  end
  return e
end

-- ---------------------------------------------------------------- classes

local function is_native(e) return e.native ~= false and e.only == nil end

-- Optimizer:extend(name, spec) -> a subclass; spec lists PyTorch's arguments after params
function Optimizer:extend(name, spec)
  if type(name) ~= "string" or type(spec) ~= "table" or #spec == 0 or next(spec, #spec) ~= nil then
    error('Optimizer:extend(name, spec): spec lists the arguments after params in order, '
      .. '{{"lr", 1e-3}, {"momentum", 0}, ...}', 2)
  end
  local cls = class(name, self)
  local full = {{"params", args.REQUIRED, table = true}}
  local defaults, order = {}, {}
  for _, e in ipairs(spec) do
    full[#full + 1] = e
    if is_native(e) then
      local d = e[2]
      if d == args.REQUIRED then d = Optimizer.required end
      defaults[e[1]] = d
      order[#order + 1] = e[1]
    end
  end
  -- the same with lr optional, for params whose every group gives its lr
  local lenient = {}
  for i, e in ipairs(full) do
    lenient[i] = e
    if e[2] == args.REQUIRED and e[1] ~= "params" then
      local c = {}
      for k, v in pairs(e) do c[k] = v end
      c[2] = Optimizer.required
      lenient[i] = c
    end
  end
  cls._spec, cls._spec_groups, cls.defaults, cls._order = full, lenient, defaults, order
  return cls
end

-- checks the options of param_groups[gi] (every one present)
function Optimizer:_validate(group, fn, gi)
  for _, k in ipairs(self._order) do
    if group[k] == nil or group[k] == Optimizer.required then
      raise(string.format("%s: param_groups[%d] has no option '%s' (options of a group: params, %s)",
        fn, gi, k, table.concat(self._order, ", ")))
    end
  end
  if type(group.lr) ~= "number" or not (group.lr >= 0) then
    raise(string.format("%s: lr must be a non-negative number, got %s", fn, tostring(group.lr)))
  end
  self:_check(group, fn)
end

function Optimizer:_check() end

local function checkgroup(fn, g, defaults, order)
  args.check_keys(fn, g, function(k) return k == "params" or (type(k) == "string" and defaults[k] ~= nil) end, 1,
    function() return " in a parameter group (options of a group: params, " .. table.concat(order, ", ") .. ")" end)
end

-- whether v is an nn module (it has a parameters method) rather than its parameters
local function is_module(v)
  if type(v) ~= "table" or getmetatable(v) == nil then return false end
  local ok, yes = pcall(function() return type(v.parameters) == "function" and not tensor.is_tensor(v[1]) end)
  return ok and yes
end

-- whether v is an array of groups that each give key
local function every_group_has(v, key)
  if type(v) ~= "table" or tensor.is_tensor(v) or #v == 0 then return false end
  for _, g in ipairs(v) do
    if type(g) ~= "table" or tensor.is_tensor(g) or g[key] == nil then return false end
  end
  return true
end

-- the params argument among the constructor's arguments, if it can be found
local function params_of(...)
  local first = ...
  if args.is_options(first) and select("#", ...) == 1 then return first.params end
  return first
end

function Optimizer:init(...)
  local fn = "optim." .. self.__name
  local spec = every_group_has(params_of(...), "lr") and self._spec_groups or self._spec
  local a = args.parse(fn, spec, ...)
  local params = a.params
  if is_module(params) then
    raise(string.format("%s: params is a module; pass its parameters: %s(model:parameters(), ...)", fn, fn))
  end
  if type(params) ~= "table" or tensor.is_tensor(params) then
    raise(string.format("%s: params must be an array of tensors or of parameter groups, got %s",
      fn, tensor.is_tensor(params) and "a tensor" or type(params)))
  end
  if #params == 0 then raise(fn .. ": got an empty parameter list") end
  local raw = params
  if tensor.is_tensor(params[1]) then raw = {{params = params}} end
  self.param_groups, self.state, self._step_count = {}, {}, 0
  local seen = {}
  for gi, g in ipairs(raw) do
    if type(g) ~= "table" or tensor.is_tensor(g) then
      raise(string.format("%s: params[%d] must be a parameter group table (params holds groups), got %s",
        fn, gi, tensor.is_tensor(g) and "a tensor" or type(g)))
    end
    if is_module(g) then
      raise(string.format("%s: params[%d] is a module; pass its parameters: {params = model:parameters(), ...}", fn, gi))
    end
    checkgroup(fn, g, self.defaults, self._order)
    local ps = g.params
    if tensor.is_tensor(ps) then ps = {ps} end
    if is_module(ps) then
      raise(string.format("%s: group %d params is a module; pass its parameters: {params = model:parameters(), ...}", fn, gi))
    end
    if type(ps) ~= "table" then raise(string.format("%s: group %d has no params array", fn, gi)) end
    local group = {params = {}}
    for i, p in ipairs(ps) do
      if not tensor.is_tensor(p) then
        local where = #raw > 1 and string.format("group %d params[%d]", gi, i) or string.format("params[%d]", i)
        raise(string.format("%s: %s must be a tensor, got %s", fn, where, type(p)))
      end
      if seen[p] then raise(string.format("%s: a parameter appears twice (group %d params[%d])", fn, gi, i)) end
      seen[p] = true
      group.params[i] = p
    end
    if #group.params == 0 then raise(string.format("%s: group %d has an empty parameter list", fn, gi)) end
    for k, d in pairs(self.defaults) do
      local v = g[k]
      if v == nil then v = a[k] end
      if v == nil then v = d end
      group[k] = copy(v)
    end
    self:_validate(group, fn, gi)
    self.param_groups[gi] = group
  end
end

-- ---------------------------------------------------------------- the public methods

-- opt:step([closure]): one update of every parameter that has a .grad. The
-- closure, if given, is called first (with gradient recording as the caller
-- has it) and its result is returned.
function Optimizer:step(closure)
  local fn = "optim." .. self.__name .. ":step"
  local loss
  if closure ~= nil then
    if type(closure) ~= "function" then raise(fn .. ": closure must be a function, got " .. type(closure)) end
    loss = closure()
  end
  local in_c = reads_grad_in_c[self._update] == true
  -- every group's options and every parameter are checked before any is
  -- updated: a step that fails changes nothing
  for gi, group in ipairs(self.param_groups) do
    self:_validate(group, fn, gi)
    for i, p in ipairs(group.params) do
      if not is_live(p) then
        raise(string.format("%s: parameter %d of group %d has been freed (closed); nothing was updated", fn, i, gi))
      end
    end
  end
  for _, group in ipairs(self.param_groups) do
    for _, p in ipairs(group.params) do
      if has_grad(p) then
        local st = self.state[p]
        if st == nil then st = {}; self.state[p] = st end
        self:_update(p, in_c or p.grad, st, group)
      end
    end
  end
  self._step_count = self._step_count + 1
  return loss
end

-- opt:zero_grad([set_to_none = true]): drops every .grad (or zeroes it in place)
function Optimizer:zero_grad(set_to_none)
  for _, group in ipairs(self.param_groups) do
    for _, p in ipairs(group.params) do
      if set_to_none == false then
        local g = p.grad
        if g then g:zero_() end
      else
        p.grad = nil
      end
    end
  end
end

-- {optimizer = name, state = {[index] = {...}}, param_groups = {{params = {indices}, lr = ...}}};
-- state tensors are copies
function Optimizer:state_dict()
  local index, n, groups, state = {}, 0, {}, {}
  for gi, group in ipairs(self.param_groups) do
    local g = {params = {}}
    for k, v in pairs(group) do if k ~= "params" then g[k] = copy(v) end end
    for i, p in ipairs(group.params) do n = n + 1; index[p] = n; g.params[i] = n end
    groups[gi] = g
  end
  for p, st in pairs(self.state) do
    if index[p] then
      local s = {}
      for k, v in pairs(st) do s[k] = tensor.is_tensor(v) and v:clone() or v end
      state[index[p]] = s
    end
  end
  return {optimizer = self.__name, state = state, param_groups = groups}
end

-- the keys of t, sorted (numbers first, then by their text)
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local na, nb = type(a) == "number", type(b) == "number"
    if na ~= nb then return na end
    if na then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

function Optimizer:load_state_dict(sd)
  local fn = "optim." .. self.__name .. ":load_state_dict"
  if type(sd) ~= "table" or type(sd.param_groups) ~= "table" or type(sd.state or {}) ~= "table" then
    raise(fn .. ": expected a table with state and param_groups (from opt:state_dict())")
  end
  if sd.optimizer ~= nil and sd.optimizer ~= self.__name then
    raise(string.format("%s: the state dict is from optim.%s, not optim.%s", fn, tostring(sd.optimizer), self.__name))
  end
  if #sd.param_groups ~= #self.param_groups then
    raise(string.format("%s: the state dict has %d parameter groups, the optimizer %d",
      fn, #sd.param_groups, #self.param_groups))
  end
  local byindex, n = {}, 0
  for gi, g in ipairs(sd.param_groups) do
    local mine = self.param_groups[gi]
    if type(g) ~= "table" or type(g.params) ~= "table" or #g.params ~= #mine.params then
      raise(string.format("%s: group %d has %s parameters in the state dict, %d in the optimizer",
        fn, gi, type(g) == "table" and type(g.params) == "table" and tostring(#g.params) or "no", #mine.params))
    end
    local keys = {}
    for k in pairs(self.defaults) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      if g[k] == nil then
        raise(string.format("%s: group %d of the state dict has no option '%s' of optim.%s (a state dict of another optimizer?)",
          fn, gi, k, self.__name))
      end
    end
    for i, idx in ipairs(g.params) do n = n + 1; byindex[idx] = mine.params[i] end
  end
  local newstate = {}
  for _, idx in ipairs(sorted_keys(sd.state or {})) do    -- in order: the same mistake, the same message
    local s = sd.state[idx]
    local p = byindex[idx]
    if p == nil then raise(string.format("%s: state for parameter %s, which no group lists", fn, tostring(idx))) end
    if type(s) ~= "table" then raise(string.format("%s: state of parameter %s is a %s, not a table", fn, tostring(idx), type(s))) end
    local st = {}
    for _, k in ipairs(sorted_keys(s)) do
      local v = s[k]
      if not self.state_keys[k] then
        raise(string.format("%s: state '%s' of parameter %s is not state of optim.%s (a state dict of another optimizer?)",
          fn, tostring(k), tostring(idx), self.__name))
      end
      if tensor.is_tensor(v) then
        local a, b = table.concat(v.shape, ", "), table.concat(p.shape, ", ")
        if a ~= b then
          raise(string.format("%s: state '%s' of parameter %s has shape [%s], the parameter [%s]", fn, k, tostring(idx), a, b))
        end
        v = v:clone()
      end
      st[k] = v
    end
    newstate[p] = st
  end
  -- all checked: now change the optimizer. Every key of a saved group comes
  -- back, also those others put there (a scheduler's initial_lr).
  for gi, g in ipairs(sd.param_groups) do
    local group = {}
    for k, v in pairs(g) do group[k] = copy(v) end
    group.params = self.param_groups[gi].params
    self.param_groups[gi] = group
  end
  self.state = newstate
end

local function fmtval(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = fmtval(x) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end

-- PyTorch's repr: the class, then each group's options in alphabetical order
function Optimizer.__tostring(self)
  local lines = {self.__name .. " ("}
  for gi, group in ipairs(self.param_groups) do
    lines[#lines + 1] = "Parameter Group " .. gi
    local keys = {}
    for k in pairs(group) do if k ~= "params" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do lines[#lines + 1] = "    " .. k .. ": " .. fmtval(group[k]) end
  end
  lines[#lines + 1] = ")"
  return table.concat(lines, "\n")
end

return Optimizer
