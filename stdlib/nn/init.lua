-- The nn module: require "nn" (also the global nn in the nnlua host).
local nn = {}
nn.Module = require "nn.Module"
nn.Sequential = require "nn.Sequential"
nn.Linear = require "nn.Linear"
nn.functional = require "nn.functional"
nn.init = require "nn.init_"
nn.utils = require "nn.utils"
nn.metrics = require "nn.metrics"
for name, class in pairs(require "nn.layers") do nn[name] = class end
for name, class in pairs(require "nn.losses") do nn[name] = class end

-- nn.Parameter(t): marks a tensor as a parameter (requires_grad) so that assigning it registers it
function nn.Parameter(t)
  if not tensor.is_tensor(t) then error("nn.Parameter: expected a tensor, got " .. type(t), 2) end
  if not t.requires_grad then t.requires_grad = true end
  return t
end

return nn
