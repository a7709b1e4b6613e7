-- scripts/reference.lua -- the reference experiment.
--
-- The full course exercise (an MLP on FashionMNIST, SGD against Adam,
-- schedules, curves, a sample grid, test accuracy) grows here as nnlua's
-- pieces land. Today tensors, autograd, nn modules, optimizers and schedules
-- are in; datasets and figures are not yet, so this trains an MLP on a
-- synthetic 3-class problem with a train/validation split, SGD (momentum)
-- against Adam, both with a step learning-rate schedule.
-- Run: ./nnlua scripts/reference.lua [epochs]

local epochs = tonumber(arg and arg[1]) or 30
tensor.manual_seed(42)

-- three Gaussian blobs in 20 dimensions, 3000 points, shuffled, split 2400 / 600
local n, d, classes = 3000, 20, 3
local labels = {}
for i = 1, n do labels[i] = (i - 1) % classes + 1 end
local y_all = tensor.new(labels)
local centers = tensor.randn(classes, d) * 0.3
local x_all = tensor.randn(n, d) + centers:index_select(1, y_all)
local perm = tensor.randperm(n)
x_all, y_all = x_all:index_select(1, perm), y_all:index_select(1, perm)
local x_train, y_train = x_all:narrow(1, 1, 2400), y_all:narrow(1, 1, 2400)
local x_val, y_val = x_all:narrow(1, 2401, 600), y_all:narrow(1, 2401, 600)

local MLP = nn.Module:extend("MLP")
function MLP:init(hidden)
  self.fc1 = nn.Linear(d, hidden)
  self.act = nn.ReLU()
  self.fc2 = nn.Linear(hidden, classes)
end
function MLP:forward(x) return self.fc2(self.act(self.fc1(x))) end

local loss_fn = nn.CrossEntropyLoss()
local batch = 64

-- one run: a fresh model (same seed), an optimizer, a step schedule; returns val accuracy per epoch
local function run(name, make_opt)
  tensor.manual_seed(7)
  local model = MLP(64)
  local opt = make_opt(model:parameters())
  local sched = optim.lr_scheduler.StepLR(opt, {step_size = 10, gamma = 0.5})
  local shuffle = tensor.Generator(1)
  print(string.format("\n%s: %s", name, tostring(opt):gsub("\n%s*", " ")))
  for epoch = 1, epochs do
    model:train()
    local order = tensor.randperm(2400, shuffle)
    local total, batches = 0, 0
    for start = 1, 2400, batch do
      local idx = order:narrow(1, start, math.min(batch, 2401 - start))
      local loss = loss_fn(model(x_train:index_select(1, idx)), y_train:index_select(1, idx))
      opt:zero_grad()
      loss:backward()
      opt:step()
      total, batches = total + loss:item(), batches + 1
    end
    sched:step()
    if epoch == 1 or epoch % 10 == 0 then
      model:eval()
      local val_acc = tensor.no_grad(function() return nn.metrics.accuracy(model(x_val), y_val) end)
      print(string.format("epoch %3d  lr %.4g  train loss %.4f  val accuracy %.3f", epoch,
                          sched:get_last_lr()[1], total / batches, val_acc))
    end
  end
  return model
end

print(MLP(64))
run("SGD", function(params) return optim.SGD(params, {lr = 0.1, momentum = 0.9}) end)
run("Adam", function(params) return optim.Adam(params, {lr = 1e-3}) end)
