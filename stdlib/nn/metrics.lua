-- nn.metrics: accuracy and confusion matrices from logits and 1-based targets.
local tensor = require "tensor"
local M = {}

local function check(fn, logits, targets)
  if not tensor.is_tensor(logits) or #logits.shape ~= 2 then error(fn .. ": logits must be a [N, C] tensor", 3) end
  if not tensor.is_tensor(targets) or #targets.shape ~= 1 or targets.shape[1] ~= logits.shape[1] then
    error(string.format("%s: targets must be a [%d] tensor", fn, logits.shape[1]), 3)
  end
end

function M.accuracy(logits, targets)
  check("accuracy", logits, targets)
  if logits.shape[1] == 0 then return 0 end
  return tensor.no_grad(function() return logits:argmax(2):eq(targets):mean():item() end)
end

-- cm[i][j] counts samples of true class i predicted as j
function M.confusion_matrix(logits, targets, C)
  check("confusion_matrix", logits, targets)
  C = C or logits.shape[2]
  local cm = tensor.zeros(C, C)
  local pred = tensor.no_grad(function() return logits:argmax(2) end)
  for i = 1, targets.shape[1] do
    local t, p = targets[i], pred[i]
    if t < 1 or t > C or t ~= math.floor(t) then
      error(string.format("confusion_matrix: target %g is out of range for %d classes", t, C), 2)
    end
    cm[t][p] = cm[t][p] + 1
  end
  return cm
end

return M
