-- scripts/reference.lua -- the reference experiment: the course exercise.
--
-- An MLP on FashionMNIST (Debian's dataset-fashion-mnist), the 60,000 training
-- images split 50,000 / 10,000 into train and validation; SGD with momentum and
-- a step schedule against Adam with a cosine schedule; per-epoch training loss,
-- validation loss and accuracy; test accuracy of the model that did best on
-- validation. Figures go to the folder figures/: loss and accuracy curves, the
-- learning-rate schedules, a 5 x 2 grid with one test image per class, and the
-- confusion matrix of the better model on the test set. Times are wall-clock
-- seconds (os.monotime; os.clock would sum CPU time over all threads).
--
-- Run: ./nnlua scripts/reference.lua [epochs [train_samples [figures_dir]]]
--   epochs         per optimizer (default 10)
--   train_samples  use only this many training samples (a quick check)
--   figures_dir    where the PNGs go (default figures)

local started = os.monotime()
local epochs = tonumber(arg and arg[1]) or 10
local limit = tonumber(arg and arg[2])
local out = arg and arg[3] or "figures"

-- data: ToTensor + Normalize with FashionMNIST's mean and std; batches assembled in C
local tf = transforms.Compose{transforms.ToTensor(), transforms.Normalize({0.286}, {0.353})}
local full = datasets.FashionMNIST{train = true, transform = tf}
local test = datasets.FashionMNIST{train = false, transform = tf}
local train, val = data.random_split(full, {50000, 10000}, tensor.Generator(42))
if limit then train = data.Subset(train, tensor.arange(1, limit + 1)) end
print(string.format("train %d, validation %d, test %d images of %d classes",
                    #train, #val, #test, #full.classes))

local MLP = nn.Module:extend("MLP")
function MLP:init(hidden)
  self.flatten = nn.Flatten()
  self.fc1 = nn.Linear(28 * 28, hidden)
  self.act = nn.ReLU()
  self.fc2 = nn.Linear(hidden, 10)
end
function MLP:forward(x) return self.fc2(self.act(self.fc1(self.flatten(x)))) end

local loss_fn = nn.CrossEntropyLoss()

-- mean loss and accuracy of model over a loader, without the tape; with a
-- confusion table cm (cm[true][predicted] = count), counts the predictions in it
local function evaluate(model, loader, cm)
  model:eval()
  return tensor.no_grad(function()
    local loss, correct, n = 0, 0, 0
    for x, y in loader:iter() do
      local logits = model(x)
      local pred = logits:argmax(2)
      loss = loss + loss_fn(logits, y):item() * x:size(1)
      correct = correct + pred:eq(y):sum():item()
      n = n + x:size(1)
      if cm then
        local p, t = pred:totable(), y:totable()
        for k = 1, #p do cm[t[k]][p[k]] = cm[t[k]][p[k]] + 1 end
      end
    end
    return loss / n, correct / n
  end)
end

local val_loader = data.DataLoader(val, {batch_size = 256})
local test_loader = data.DataLoader(test, {batch_size = 256})

-- one run: a fresh model (same seed), an optimizer and its schedule; returns
-- the history and the best model's state (by validation accuracy)
local function run(name, make_opt, make_sched)
  tensor.manual_seed(7)
  local model = MLP(256)
  local opt = make_opt(model:parameters())
  local sched = make_sched(opt)
  local loader = data.DataLoader(train, {batch_size = 64, shuffle = true, generator = tensor.Generator(1)})
  local history = {train_loss = {}, val_loss = {}, val_acc = {}, lr = {}}
  local best = {acc = -1}
  print(string.format("\n%s: %s", name, tostring(opt):gsub("\n%s*", " ")))
  for epoch = 1, epochs do
    local t0 = os.monotime()
    model:train()
    local total, batches = 0, 0
    for x, y in loader:iter() do
      local loss = loss_fn(model(x), y)
      opt:zero_grad()
      loss:backward()
      opt:step()
      total, batches = total + loss:item(), batches + 1
    end
    history.lr[epoch] = sched:get_last_lr()[1]
    sched:step()
    local train_time = os.monotime() - t0
    local vloss, vacc = evaluate(model, val_loader)
    history.train_loss[epoch], history.val_loss[epoch], history.val_acc[epoch] = total / batches, vloss, vacc
    if vacc > best.acc then best = {acc = vacc, epoch = epoch, state = model:state_dict()} end
    print(string.format("epoch %3d  lr %.4g  train loss %.4f  val loss %.4f  val accuracy %.4f  "
                        .. "time %.1f s (training %.1f s)", epoch, history.lr[epoch], total / batches,
                        vloss, vacc, os.monotime() - t0, train_time))
  end
  model:load_state_dict(best.state)
  local cm = {}
  for i = 1, #test.classes do cm[i] = {} for j = 1, #test.classes do cm[i][j] = 0 end end
  local _, test_acc = evaluate(model, test_loader, cm)
  print(string.format("%s: best validation accuracy %.4f (epoch %d), test accuracy %.4f",
                      name, best.acc, best.epoch, test_acc))
  return history, test_acc, cm
end

print(MLP(256))
local sgd, sgd_acc, sgd_cm = run("SGD",
  function(params) return optim.SGD(params, {lr = 0.05, momentum = 0.9}) end,
  function(opt) return optim.lr_scheduler.StepLR(opt, {step_size = math.max(1, epochs // 3), gamma = 0.3}) end)
local adam, adam_acc, adam_cm = run("Adam",
  function(params) return optim.Adam(params, {lr = 1e-3}) end,
  function(opt) return optim.lr_scheduler.CosineAnnealingLR(opt, {T_max = epochs}) end)
print(string.format("\ntest accuracy: SGD %.4f, Adam %.4f", sgd_acc, adam_acc))

-- figures
os.execute("mkdir -p '" .. out .. "'")
plot.lines{title = "Loss", xlabel = "epoch", ylabel = "cross-entropy loss", grid = true, series = {
  {label = "SGD train", y = sgd.train_loss, color = "blue"},
  {label = "SGD validation", y = sgd.val_loss, color = "blue", linestyle = "--"},
  {label = "Adam train", y = adam.train_loss, color = "orange"},
  {label = "Adam validation", y = adam.val_loss, color = "orange", linestyle = "--"}}}
  :save(out .. "/loss.png")
plot.lines{title = "Validation accuracy", xlabel = "epoch", ylabel = "accuracy", grid = true,
           markers = true, series = {{label = "SGD", y = sgd.val_acc}, {label = "Adam", y = adam.val_acc}}}
  :save(out .. "/accuracy.png")
plot.lines{title = "Learning rate", xlabel = "epoch", ylabel = "learning rate", logy = true, grid = true,
           series = {{label = "SGD + StepLR", y = sgd.lr}, {label = "Adam + cosine", y = adam.lr}}}
  :save(out .. "/lr.png")

-- one test image per class, shown as it looks before Normalize
local images, names, found = {}, {}, 0
for i = 1, #test do
  local x, y = test:get(i)
  if not images[y] then images[y], names[y], found = x, test.classes[y], found + 1 end
  if found == #test.classes then break end
end
plot.image_grid{images = images, labels = names, rows = 2, cols = 5, mean = {0.286}, std = {0.353},
                title = "FashionMNIST test images"}:save(out .. "/samples.png")

local best_name, best_cm = "Adam", adam_cm
if sgd_acc > adam_acc then best_name, best_cm = "SGD", sgd_cm end
plot.heatmap{matrix = best_cm, xlabels = test.classes, ylabels = test.classes,
             xlabel = "predicted", ylabel = "true",
             title = string.format("Confusion matrix, %s, test accuracy %.4f", best_name,
                                   math.max(sgd_acc, adam_acc))}:save(out .. "/confusion.png")
print(string.format("figures: %s/{loss,accuracy,lr,samples,confusion}.png", out))
print(string.format("total time %.1f s", os.monotime() - started))
