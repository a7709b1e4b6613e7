-- optim/sched/LambdaLR.lua -- initial_lr * lr_lambda(epoch); one function or one
-- per group
--   LambdaLR(optimizer, lr_lambda, last_epoch = -1, verbose = false)

local B = require "optim.sched.base"

local LambdaLR = B.class("LambdaLR", {
  {"lr_lambda", B.REQUIRED, table = true}, B.last_epoch, B.verbose,
}, {})

function LambdaLR:_setup(a, opt)
  local fn = self.__name
  local f, n = a.lr_lambda, #opt.param_groups
  local fs = {}
  if type(f) == "function" then
    for i = 1, n do fs[i] = f end
  elseif type(f) == "table" then
    if #f ~= n then
      error(string.format("%s: lr_lambda has %d functions for %d param groups", fn, #f, n), 2)
    end
    for i = 1, n do
      if type(f[i]) ~= "function" then B.bad(fn, "lr_lambda[" .. i .. "]", "a function", f[i]) end
      fs[i] = f[i]
    end
  else
    B.bad(fn, "lr_lambda", "a function or an array of functions", f)
  end
  self.lr_lambdas = fs                   -- functions: left out of state_dict, as in PyTorch
end
function LambdaLR:get_lr()
  return self:_each_base(function(b, i)
    local v = self.lr_lambdas[i](self.last_epoch)
    if type(v) ~= "number" then
      error(string.format("LambdaLR: lr_lambda returned %s for epoch %s, expected a number",
        type(v), B.fmtnum(self.last_epoch)), 2)
    end
    return b * v
  end)
end
function LambdaLR:state_dict()
  local sd = B.Base.state_dict(self)
  sd.lr_lambdas = nil
  return sd
end
return LambdaLR
