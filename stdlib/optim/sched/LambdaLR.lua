-- optim/sched/LambdaLR.lua -- initial_lr * lr_lambda(epoch); one function or one
-- per group

local B = require "optim.sched.base"
local REQUIRED, options, bad = B.REQUIRED, B.options, B.bad
local check_optimizer, fmtnum, Base = B.check_optimizer, B.fmtnum, B.Base
local class, map_base = B.class, B.map_base

local LambdaLR = class("LambdaLR", {})
function LambdaLR.new(opt, opts)
  local name = "LambdaLR"
  check_optimizer(name, opt)
  local o = options(name, opts, {lr_lambda = REQUIRED}, {"lr_lambda"})
  local self = setmetatable({}, LambdaLR)
  local f, n = o.lr_lambda, #opt.param_groups
  local fs = {}
  if type(f) == "function" then
    for i = 1, n do fs[i] = f end
  elseif type(f) == "table" then
    if #f ~= n then
      error(string.format("%s: lr_lambda has %d functions for %d param groups", name, #f, n), 2)
    end
    for i = 1, n do
      if type(f[i]) ~= "function" then bad(name, "lr_lambda[" .. i .. "]", "a function", f[i]) end
      fs[i] = f[i]
    end
  else
    bad(name, "lr_lambda", "a function or an array of functions", f)
  end
  self.lr_lambdas = fs                   -- functions: left out of state_dict, as in PyTorch
  return self:_init(opt)
end
function LambdaLR.get_lr(self)
  return map_base(self, function(b, i)
    local v = self.lr_lambdas[i](self.last_epoch)
    if type(v) ~= "number" then
      error(string.format("LambdaLR: lr_lambda returned %s for epoch %s, expected a number",
        type(v), fmtnum(self.last_epoch)), 0)
    end
    return b * v
  end)
end
function LambdaLR.state_dict(self)
  local sd = Base.state_dict(self)
  sd.lr_lambdas = nil
  return sd
end
return LambdaLR
