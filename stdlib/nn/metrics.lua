-- nn.metrics: accuracy and confusion matrices from logits and 1-based targets.
local tensor = require "tensor"
local M = {}

local function check(fn, logits, targets)
  if not tensor.is_tensor(logits) or #logits.shape ~= 2 then error(fn .. ": logits must be a [N, C] tensor", 3) end
  if not tensor.is_tensor(targets) or #targets.shape ~= 1 or targets.shape[1] ~= logits.shape[1] then
    error(string.format("%s: targets must be a [%d] tensor", fn, logits.shape[1]), 3)
  end
end

-- targets must be class indices 1..C: a target of 1.5 or 11 (or NaN) matches
-- no prediction, so it would lower the accuracy without a word
local function check_classes(fn, targets, C)
  local ok = tensor.no_grad(function()
    return targets:eq(targets:floor()):min():item() == 1 and targets:min():item() >= 1
           and targets:max():item() <= C
  end)
  if ok then return end
  for i = 1, targets.shape[1] do
    local t = targets[i]
    if not (t >= 1 and t <= C and t == math.floor(t)) then
      error(string.format("%s: target %s (sample %d) is not a class index in 1..%d", fn,
                          t ~= t and "nan" or string.format("%g", t), i, C), 3)
    end
  end
end

function M.accuracy(logits, targets)
  check("accuracy", logits, targets)
  if logits.shape[1] == 0 then return 0 end
  check_classes("accuracy", targets, logits.shape[2])
  return tensor.no_grad(function() return logits:argmax(2):eq(targets):mean():item() end)
end

-- cm[i][j] counts samples of true class i predicted as j
function M.confusion_matrix(logits, targets, C)
  check("confusion_matrix", logits, targets)
  C = C or logits.shape[2]
  local cm = tensor.zeros(C, C)
  local pred = tensor.no_grad(function() return logits:argmax(2) end)
  if targets.shape[1] > 0 then check_classes("confusion_matrix", targets, C) end
  for i = 1, targets.shape[1] do
    local t, p = targets[i], pred[i]
    cm[t][p] = cm[t][p] + 1
  end
  return cm
end

return M
