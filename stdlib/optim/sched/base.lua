-- optim/sched/base.lua -- what every scheduler shares: option checking, the
-- LRScheduler base class (initial step, step(), get_last_lr, state_dict) and
-- the class() constructor. optim.lr_scheduler (stdlib/optim/lr_scheduler.lua)
-- loads one file per scheduler from here.
--
-- The schedulers act on opt.param_groups,
-- step for step as PyTorch 2.x's torch.optim.lr_scheduler (same chainable
-- get_lr forms, same closed forms for step(epoch)), plus InverseTimeLR.
--
--   local sched = optim.lr_scheduler.StepLR(opt, {step_size = 30, gamma = 0.1})
--   for epoch = 1, n do train(); opt:step(); sched:step() end
--
-- Every scheduler has sched:step([epoch | metric]), sched:get_last_lr(),
-- sched.last_epoch, sched:state_dict(), sched:load_state_dict(sd).
-- Warnings go through M._warn(msg) (default: io.stderr); M is the module
-- table optim.lr_scheduler returns, so tests can replace lr_scheduler._warn.

local M = {}

function M._warn(msg)
  io.stderr:write("warning: ", msg, "\n")
end

local REQUIRED = {}                       -- marks an option with no default

---------------------------------------------------------------------------
-- argument checking

local function fmtnum(v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if type(v) == "number" then return string.format("%.14g", v) end
  return tostring(v)
end

local function describe(v)
  if type(v) == "number" then return fmtnum(v) end
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "boolean" then return tostring(v) end
  return type(v)
end

-- opts checked against spec {key = default | REQUIRED}; returns a filled copy
local function options(name, opts, spec, order)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(string.format("%s: argument #2 (options) must be a table, got %s", name, type(opts)), 3)
  end
  for k in pairs(opts) do
    if spec[k] == nil then
      error(string.format("%s: unknown option '%s'", name, tostring(k)), 3)
    end
  end
  local o = {}
  for _, k in ipairs(order) do
    local v = opts[k]
    if v == nil then
      if spec[k] == REQUIRED then
        error(string.format("%s: missing required option '%s'", name, k), 3)
      end
      v = spec[k]
    end
    if v ~= REQUIRED then o[k] = v end
  end
  return o
end

local function bad(name, key, what, v)
  error(string.format("%s: %s must be %s, got %s", name, key, what, describe(v)), 3)
end

local function is_int(v) return type(v) == "number" and v == math.floor(v) and v == v end

local function check_number(name, key, v)
  if type(v) ~= "number" or v ~= v then bad(name, key, "a number", v) end
  return v
end

local function check_posint(name, key, v)
  if not is_int(v) or v < 1 then bad(name, key, "a positive integer", v) end
  return math.tointeger(v)
end

local function check_optimizer(name, opt)
  if type(opt) ~= "table" or type(opt.param_groups) ~= "table" or #opt.param_groups == 0 then
    error(string.format("%s: argument #1 must be an optimizer (a table with param_groups), got %s",
      name, type(opt)), 3)
  end
  for i, g in ipairs(opt.param_groups) do
    if type(g) ~= "table" or type(g.lr) ~= "number" then
      error(string.format("%s: optimizer param_groups[%d] has no numeric lr", name, i), 3)
    end
  end
end

local function check_increasing(name, key, t)
  if type(t) ~= "table" then bad(name, key, "an array of integers", t) end
  for i, v in ipairs(t) do
    if not is_int(v) then bad(name, key .. "[" .. i .. "]", "an integer", v) end
    if i > 1 and v <= t[i - 1] then
      error(string.format("%s: %s must be increasing, got %s after %s",
        name, key, fmtnum(v), fmtnum(t[i - 1])), 3)
    end
  end
  return t
end

-- a number or an array of one number per group -> array
local function per_group(name, key, v, ngroups)
  if type(v) == "table" then
    if #v ~= ngroups then
      error(string.format("%s: %s has %d values for %d param groups", name, key, #v, ngroups), 3)
    end
    for i = 1, ngroups do check_number(name, key .. "[" .. i .. "]", v[i]) end
    return v
  end
  check_number(name, key, v)
  local t = {}
  for i = 1, ngroups do t[i] = v end
  return t
end

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = deepcopy(x) end
  return t
end

---------------------------------------------------------------------------
-- the base class: PyTorch's LRScheduler

local Base = {}
Base.__index = Base

local function class(name, opt_order)
  local c = {}
  c.__index = c
  c.__name = name
  c._name = name
  c._opt_order = opt_order
  c.__tostring = Base.__tostring
  -- StepLR(opt, opts) builds a scheduler, as StepLR.new(opt, opts) does
  return setmetatable(c, {__index = Base, __call = function(_, opt, opts) return c.new(opt, opts) end})
end

function Base.__tostring(self)
  local parts = {}
  for _, k in ipairs(self._opt_order) do
    local v = self[k]
    if type(v) == "table" then
      local s = {}
      for i, x in ipairs(v) do s[i] = type(x) == "table" and tostring(x) or describe(x) end
      parts[#parts + 1] = k .. "={" .. table.concat(s, ", ") .. "}"
    elseif type(v) ~= "function" and v ~= nil then
      parts[#parts + 1] = k .. "=" .. (type(v) == "string" and v or describe(v))
    end
  end
  parts[#parts + 1] = "last_epoch=" .. fmtnum(self.last_epoch)
  return self._name .. "(" .. table.concat(parts, ", ") .. ")"
end

-- sets initial_lr (if absent), base_lrs, does the initial step
function Base._init(self, opt)
  self.optimizer = opt
  self.base_lrs = {}
  for i, g in ipairs(opt.param_groups) do
    if g.initial_lr == nil then g.initial_lr = g.lr end
    self.base_lrs[i] = g.initial_lr
  end
  self.last_epoch = -1
  self:_initial_step()
  return self
end

function Base._initial_step(self)
  self._opt_step0 = self.optimizer._step_count    -- PyTorch resets the optimizer's count here
  self._step_count = 0
  self:step()
end

function Base._check_order(self)
  if self._step_count == 1 then
    local n = self.optimizer._step_count
    if type(n) == "number" and n <= (self._opt_step0 or 0) then
      M._warn(self._name .. ": lr_scheduler step() called before optimizer step(); "
        .. "call opt:step() first, or the first value of the schedule is skipped")
    end
  end
end

function Base._lrs(self)
  local t = {}
  for i, g in ipairs(self.optimizer.param_groups) do t[i] = g.lr end
  return t
end

function Base.step(self, epoch)
  self:_check_order()
  self._step_count = self._step_count + 1
  local values
  if epoch == nil then
    self.last_epoch = self.last_epoch + 1
    values = self:get_lr()
  else
    check_number(self._name .. ":step", "epoch", epoch)
    self.last_epoch = epoch
    values = self._closed_form and self:_closed_form() or self:get_lr()
  end
  for i, g in ipairs(self.optimizer.param_groups) do g.lr = values[i] end
  self._last_lr = self:_lrs()
end

function Base.get_last_lr(self)
  local t = {}
  for i, v in ipairs(self._last_lr) do t[i] = v end
  return t
end

local SKIP = {optimizer = true, _schedulers = true}

function Base.state_dict(self)
  local sd = {}
  for k, v in pairs(self) do
    if not SKIP[k] and type(v) ~= "function" then sd[k] = deepcopy(v) end
  end
  return sd
end

function Base.load_state_dict(self, sd)
  if type(sd) ~= "table" then
    error(self._name .. ":load_state_dict: argument must be a table, got " .. type(sd), 2)
  end
  for k, v in pairs(sd) do
    if not SKIP[k] then self[k] = deepcopy(v) end
  end
end

-- lr of every group times f(group, i)
local function map_groups(self, f)
  local t = {}
  for i, g in ipairs(self.optimizer.param_groups) do t[i] = f(g, i) end
  return t
end

local function map_base(self, f)
  local t = {}
  for i, b in ipairs(self.base_lrs) do t[i] = f(b, i) end
  return t
end

local function same_lrs(self) return map_groups(self, function(g) return g.lr end) end

return {
  module = M,
  REQUIRED = REQUIRED,
  options = options,
  bad = bad,
  is_int = is_int,
  check_number = check_number,
  check_posint = check_posint,
  check_optimizer = check_optimizer,
  check_increasing = check_increasing,
  per_group = per_group,
  deepcopy = deepcopy,
  fmtnum = fmtnum,
  describe = describe,
  Base = Base,
  class = class,
  map_groups = map_groups,
  map_base = map_base,
  same_lrs = same_lrs,
}
