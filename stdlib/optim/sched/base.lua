-- optim/sched/base.lua -- what every scheduler shares: argument checks, the
-- LRScheduler base class (initial step, step(), get_last_lr, state_dict) and
-- B.class, which makes a scheduler class. optim.lr_scheduler
-- (stdlib/optim/lr_scheduler.lua) loads one file per scheduler from here.
--
-- The schedulers act on opt.param_groups,
-- step for step as PyTorch 2.x's torch.optim.lr_scheduler (same chainable
-- get_lr forms, same closed forms for step(epoch)), plus InverseTimeLR.
--
--   local sched = optim.lr_scheduler.StepLR(opt, 30, 0.1)   -- = StepLR(opt, {step_size = 30, gamma = 0.1})
--   for epoch = 1, n do train(); opt:step(); sched:step() end
--
-- A scheduler class lists PyTorch's arguments after the optimizer as
-- nnlua.args entries, and defines _setup(a, opt) (its own fields, from the
-- parsed arguments a) and get_lr() (and _closed_form() when PyTorch has one):
--
--   local StepLR = B.class("StepLR", {{"step_size", B.REQUIRED, check = B.posint}, ...,
--                                     B.last_epoch, B.verbose}, {"step_size", "gamma"})
--
-- The third list is what print shows. Schedulers are nnlua.class objects whose
-- receiver is "sched": sched.step() says "call it as sched:step(...)".
-- Warnings go through M._warn(msg) (default: io.stderr); M is the module
-- table optim.lr_scheduler returns, so tests can replace lr_scheduler._warn.

local args = require "nnlua.args"
local class = require "nnlua.class"

local M = {}

function M._warn(msg)
  io.stderr:write("warning: ", msg, "\n")
end

local B = {module = M, REQUIRED = args.REQUIRED}

---------------------------------------------------------------------------
-- argument checks: each is function(v, fn, name) -> v, an nnlua.args check

local function fmtnum(v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if type(v) == "number" then return string.format("%.14g", v) end
  return tostring(v)
end
B.fmtnum = fmtnum

local function describe(v)
  if type(v) == "number" then return fmtnum(v) end
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "boolean" then return tostring(v) end
  return type(v)
end

local function bad(fn, name, what, v)
  error(string.format("%s: %s must be %s, got %s", fn, name, what, describe(v)), 2)
end
B.bad = bad

local function is_int(v) return type(v) == "number" and v == math.floor(v) and v == v end

function B.number(v, fn, name)
  if type(v) ~= "number" or v ~= v then bad(fn, name, "a number", v) end
  return v
end

function B.positive(v, fn, name)
  if B.number(v, fn, name) <= 0 then bad(fn, name, "positive", v) end
  return v
end

function B.nonneg(v, fn, name)
  if B.number(v, fn, name) < 0 then bad(fn, name, "non-negative", v) end
  return v
end

function B.posint(v, fn, name)
  if not is_int(v) or v < 1 then bad(fn, name, "a positive integer", v) end
  return math.tointeger(v)
end

function B.natural(v, fn, name)
  if not is_int(v) or v < 0 then bad(fn, name, "a non-negative integer", v) end
  return math.tointeger(v)
end

-- a check that v is the string a or b
function B.oneof(a, b)
  return function(v, fn, name)
    if v ~= a and v ~= b then bad(fn, name, string.format('"%s" or "%s"', a, b), v) end
    return v
  end
end

function B.boolean(v, fn, name)
  if type(v) ~= "boolean" then bad(fn, name, "a boolean", v) end
  return v
end

-- an increasing array of integers (milestones); a copy
function B.increasing(t, fn, name)
  if type(t) ~= "table" then bad(fn, name, "an array of integers", t) end
  local out = {}
  for i, v in ipairs(t) do
    if not is_int(v) then bad(fn, name .. "[" .. i .. "]", "an integer", v) end
    if i > 1 and v <= t[i - 1] then
      error(string.format("%s: %s must be increasing, got %s after %s",
        fn, name, fmtnum(v), fmtnum(t[i - 1])), 2)
    end
    out[i] = v
  end
  return out
end

-- a number or an array of one number per group -> array
function B.per_group(fn, name, v, ngroups)
  if type(v) == "table" then
    if #v ~= ngroups then
      error(string.format("%s: %s has %d values for %d param groups", fn, name, #v, ngroups), 2)
    end
    local t = {}
    for i = 1, ngroups do t[i] = B.number(v[i], fn, name .. "[" .. i .. "]") end
    return t
  end
  B.number(v, fn, name)
  local t = {}
  for i = 1, ngroups do t[i] = v end
  return t
end

local function check_optimizer(fn, opt)
  if type(opt) ~= "table" or type(opt.param_groups) ~= "table" or #opt.param_groups == 0 then
    error(string.format("%s: argument #1 must be an optimizer (a table with param_groups), got %s",
      fn, type(opt)), 2)
  end
  for i, g in ipairs(opt.param_groups) do
    if type(g) ~= "table" or type(g.lr) ~= "number" then
      error(string.format("%s: optimizer param_groups[%d] has no numeric lr", fn, i), 2)
    end
  end
end

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = deepcopy(x) end
  return t
end
B.deepcopy = deepcopy

-- the arguments every PyTorch LRScheduler ends with
B.last_epoch = {"last_epoch", -1, check = args.int(-1)}
B.verbose = {"verbose", false, only = false,
  why = "PyTorch deprecates verbose; print(sched:get_last_lr()) after sched:step() instead"}

---------------------------------------------------------------------------
-- the base class: PyTorch's LRScheduler

local Base = class("LRScheduler", nil, {receiver = "sched"})
Base._opt_order = {}
B.Base = Base

-- B.class(name, spec, print_order) -> a scheduler class; spec lists the arguments after the optimizer
function B.class(name, spec, print_order)
  local c = class(name, Base)
  local full = {{"optimizer", args.REQUIRED}}
  for _, e in ipairs(spec) do full[#full + 1] = e end
  c._spec, c._opt_order = full, print_order
  return c
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
  return self.__name .. "(" .. table.concat(parts, ", ") .. ")"
end

-- Scheduler(optimizer, ...) or (optimizer, {name = value, ...}): parse, check, set up, first step
function Base:init(...)
  local a = args.parse(self.__name, self._spec, ...)
  check_optimizer(self.__name, a.optimizer)
  self:_setup(a, a.optimizer)
  self:_start(a.optimizer, a.last_epoch)
end

function Base:_setup() end

-- base_lrs from initial_lr (set from lr when starting, required when resuming
-- at last_epoch >= 0, as in PyTorch), then the initial step to last_epoch + 1
function Base:_start(opt, last_epoch)
  self.optimizer = opt
  self.base_lrs = {}
  for i, g in ipairs(opt.param_groups) do
    if last_epoch == -1 then
      if g.initial_lr == nil then g.initial_lr = g.lr end
    elseif g.initial_lr == nil then
      error(string.format("%s: last_epoch = %d resumes a schedule, but param_groups[%d] has no initial_lr "
        .. "(the optimizer of a scheduler with last_epoch = -1 has one); to resume, build the scheduler "
        .. "without last_epoch and call sched:load_state_dict(sd)", self.__name, last_epoch, i), 2)
    end
    self.base_lrs[i] = g.initial_lr
  end
  self.last_epoch = last_epoch
  self:_initial_step()
end

function Base:_initial_step()
  self._opt_step0 = self.optimizer._step_count    -- PyTorch resets the optimizer's count here
  self._step_count = 0
  self:step()
end

function Base:_check_order()
  if self._step_count == 1 then
    local n = self.optimizer._step_count
    if type(n) == "number" and n <= (self._opt_step0 or 0) then
      M._warn(self.__name .. ": lr_scheduler step() called before optimizer step(); "
        .. "call opt:step() first, or the first value of the schedule is skipped")
    end
  end
end

function Base:_lrs()
  local t = {}
  for i, g in ipairs(self.optimizer.param_groups) do t[i] = g.lr end
  return t
end

function Base:get_lr()
  error(self.__name .. ": get_lr is not defined", 2)
end

-- puts a scheduler's counters back when its step fails (get_lr reads them, so
-- they move first): a step that raises, in a user's lambda for instance,
-- changes nothing, and the same step can be tried again
local function undo_on_error(self)
  local epoch, count = self.last_epoch, self._step_count
  return setmetatable({}, {__close = function(_, err)
    if err ~= nil then self.last_epoch, self._step_count = epoch, count end
  end})
end
B.undo_on_error = undo_on_error

function Base:step(epoch)
  self:_check_order()
  if epoch ~= nil then B.number(epoch, self.__name .. ":step", "epoch") end
  local undo <close> = undo_on_error(self)
  self._step_count = self._step_count + 1
  local values
  if epoch == nil then
    self.last_epoch = self.last_epoch + 1
    values = self:get_lr()
  else
    self.last_epoch = epoch
    values = self._closed_form and self:_closed_form() or self:get_lr()
  end
  local groups = self.optimizer.param_groups
  for i = 1, #groups do
    if type(values[i]) ~= "number" then
      error(string.format("%s:step: the learning rate for param_groups[%d] came out as %s, not a number",
                          self.__name, i, tostring(values[i])), 2)
    end
  end
  for i, g in ipairs(groups) do g.lr = values[i] end
  self._last_lr = self:_lrs()
end

function Base:get_last_lr()
  local t = {}
  for i, v in ipairs(self._last_lr) do t[i] = v end
  return t
end

local SKIP = {optimizer = true, _schedulers = true}

function Base:state_dict()
  local sd = {}
  for k, v in pairs(self) do
    if not SKIP[k] and type(v) ~= "function" then sd[k] = deepcopy(v) end
  end
  return sd
end

-- The problems of sd as a state of this scheduler (an array of strings, empty
-- when it fits): the same keys as its own state_dict, with values of the same
-- types. PyTorch takes any table here; nnlua checks first, so that a state of
-- another scheduler, or a damaged one, changes nothing.
function Base:_state_problems(sd)
  if type(sd) ~= "table" then return {"expected a table (from sched:state_dict()), got " .. type(sd)} end
  local own, problems = self:state_dict(), {}
  local keys = {}
  for k in pairs(own) do keys[#keys + 1] = k end
  for k in pairs(sd) do if own[k] == nil and not SKIP[k] then keys[#keys + 1] = k end end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local mine, theirs = own[k], sd[k]
    if theirs == nil then
      problems[#problems + 1] = string.format("'%s' is missing", tostring(k))
    elseif mine == nil then
      problems[#problems + 1] = string.format("'%s' is not state of %s", tostring(k), self.__name)
    elseif type(mine) ~= type(theirs) then
      problems[#problems + 1] = string.format("'%s' is a %s, not a %s", tostring(k), type(theirs), type(mine))
    end
  end
  return problems
end

local function check_state(self, sd)
  if type(sd) ~= "table" then
    error(string.format("%s:load_state_dict: argument must be a table (from sched:state_dict()), got %s",
                        self.__name, type(sd)), 3)
  end
  local problems = self:_state_problems(sd)
  if #problems > 0 then
    error(string.format("%s:load_state_dict: %s (a state of another scheduler? nothing was loaded)",
                        self.__name, table.concat(problems, "; ")), 3)
  end
end
B.check_state = check_state

function Base:load_state_dict(sd)
  check_state(self, sd)
  for k, v in pairs(sd) do
    if not SKIP[k] then self[k] = deepcopy(v) end
  end
end

-- f(group, i) for every param group, as an array
function Base:_each_group(f)
  local t = {}
  for i, g in ipairs(self.optimizer.param_groups) do t[i] = f(g, i) end
  return t
end

-- f(base_lr, i) for every param group, as an array
function Base:_each_base(f)
  local t = {}
  for i, b in ipairs(self.base_lrs) do t[i] = f(b, i) end
  return t
end

function Base:_same_lrs() return self:_each_group(function(g) return g.lr end) end

return B
