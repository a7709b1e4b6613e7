-- The nn module: require "nn" (also the global nn in the nnlua host).
local args = require "nnlua.args"
local nn = {}
nn.Module = require "nn.Module"
nn.Sequential = require "nn.Sequential"
nn.Linear = require "nn.Linear"
nn.functional = require "nn.functional"
nn.init = require "nn.weight_init"
nn.utils = require "nn.utils"
nn.metrics = require "nn.metrics"
for name, class in pairs(require "nn.layers") do nn[name] = class end
for name, class in pairs(require "nn.losses") do nn[name] = class end

-- nn.Parameter(data [, requires_grad = true]): marks a tensor as a parameter
-- (requires_grad) so that assigning it to a module field registers it
local PARAMETER = {{"data", args.REQUIRED, check = args.tensor}, {"requires_grad", true, check = args.boolean}}
function nn.Parameter(...)
  local a = args.parse("nn.Parameter", PARAMETER, ...)
  if a.data.requires_grad ~= a.requires_grad then a.data.requires_grad = a.requires_grad end
  return a.data
end

return nn
