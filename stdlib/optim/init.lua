-- The optim module: require "optim" (also the global optim in the nnlua host).
local optim = {}
optim.Optimizer = require "optim.Optimizer"
for _, name in ipairs {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"} do
  optim[name] = require("optim." .. name)
end

-- the schedulers live in their own file; the module works without them
local ok, sched = pcall(require, "optim.lr_scheduler")
if ok then
  optim.lr_scheduler = sched
elseif not tostring(sched):find("module 'optim.lr_scheduler' not found", 1, true) then
  error(sched, 0)   -- the file is there but broken: say so
end

return optim
