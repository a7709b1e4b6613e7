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
--                                    [--save PATH] [--resume PATH]
--   epochs         per optimizer (default 10)
--   train_samples  use only this many training samples (a quick check)
--   figures_dir    where the PNGs go (default figures)
--   --save PATH    write a checkpoint to PATH at the end of every epoch
--   --resume PATH  continue the run that PATH holds (docs/checkpoints.md)
--   --help         these options

local started = os.monotime()

---------------------------------------------------------------- options

local CHECKPOINT = "nnlua reference checkpoint"   -- the checkpoint's kind, and its layout's version
local VERSION = 1

-- a converter for argparse: a whole number >= 1, or nil and why not
local function count(what)
  return function(s)
    local n = math.tointeger(tonumber(s))
    if n == nil or n < 1 then return nil, string.format("%s must be a whole number >= 1, got '%s'", what, s) end
    return n
  end
end

local function parse_options()
  local argparse = require "argparse"
  local p = argparse("nnlua scripts/reference.lua",
    "The reference experiment: an MLP on FashionMNIST, SGD with momentum and StepLR against "
    .. "Adam with CosineAnnealingLR; curves, samples and the confusion matrix as PNGs.")
  p:help_max_width(80)
  p:argument("epochs", "Epochs per optimizer (default 10; when resuming, the checkpoint's)."):args("?")
    :convert(count("epochs"))
  p:argument("train_samples", "Train on only this many of the 50,000 training images (a quick check)."):args("?")
    :convert(count("train_samples"))
  p:argument("figures_dir", "Where the PNGs go (default figures)."):args("?")
  p:option("--save", "Write a checkpoint (model, optimizer, schedule, random states, history) "
           .. "to PATH at the end of every epoch."):argname("PATH")
  p:option("--resume", "Continue the run saved in PATH where it stopped: the same final "
           .. "numbers as a run never interrupted."):argname("PATH")
  -- for tests only: leaves after N epochs (counted across both optimizers) as
  -- if the run were killed there, right after its checkpoint was written
  p:option("--stop-after"):hidden(true):convert(count("--stop-after"))
  local o = p:parse(arg)
  if o.stop_after and not o.save then p:error("--stop-after needs --save") end
  return o
end

local opts = parse_options()

-- The checkpoint to resume, checked against the command line: the schedules
-- depend on the number of epochs and the batches on the training set, so a
-- checkpoint continues only the run that wrote it.
local function load_resume(path)
  local ck = tensor.load(path)
  if ck.kind ~= CHECKPOINT or ck.version ~= VERSION then
    error(string.format("--resume %s: not a checkpoint of scripts/reference.lua (version %d)", path, VERSION), 0)
  end
  for _, k in ipairs{"epochs", "train_samples"} do
    local given, saved = opts[k], ck[k] ~= 0 and ck[k] or nil
    if given ~= nil and given ~= saved then
      error(string.format("--resume %s: the checkpoint is of a run with %s = %s, not %s; "
                          .. "leave it out to continue that run", path, k, tostring(saved or "all"), given), 0)
    end
  end
  return ck
end

local resume = opts.resume and load_resume(opts.resume)
local epochs = resume and resume.epochs or opts.epochs or 10
local limit = resume and (resume.train_samples ~= 0 and resume.train_samples or nil) or opts.train_samples
local out = opts.figures_dir or "figures"

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

-- the two runs, in order; a checkpoint names the one it is in by its index
local RUNS = {
  {name = "SGD",
   make_opt = function(params) return optim.SGD(params, {lr = 0.05, momentum = 0.9}) end,
   make_sched = function(opt)
     return optim.lr_scheduler.StepLR(opt, {step_size = math.max(1, epochs // 3), gamma = 0.3})
   end},
  {name = "Adam",
   make_opt = function(params) return optim.Adam(params, {lr = 1e-3}) end,
   make_sched = function(opt) return optim.lr_scheduler.CosineAnnealingLR(opt, {T_max = epochs}) end},
}

-- what the runs that ended left for the figures, by run index:
-- {history, test_acc, cm}; a checkpoint carries it into the next process
local finished = resume and resume.finished or {}
local trained = 0   -- epochs trained by this process, for --stop-after

-- a copy of the model's weights: state_dict() returns the live parameters
-- (as in PyTorch), which the next steps would go on changing
local function snapshot(model)
  local sd = {}
  for k, t in pairs(model:state_dict()) do sd[k] = t:clone() end
  return sd
end

-- Writes what run r needs to go on after epoch e exactly as if it had never
-- stopped: weights, optimizer and schedule, the two random streams (the
-- global one and the loader's shuffle), the history and the best model so
-- far. tensor.save writes atomically: a run killed while writing leaves the
-- previous checkpoint whole.
local function save_checkpoint(r, e, s)
  tensor.save({kind = CHECKPOINT, version = VERSION, epochs = epochs, train_samples = limit or 0,
               run = r, optimizer_name = RUNS[r].name, epoch = e,
               model = s.model:state_dict(), optimizer = s.opt:state_dict(),
               scheduler = s.sched:state_dict(), rng = tensor.get_rng_state(),
               loader_rng = s.loader.generator:get_state(), history = s.history, best = s.best,
               finished = finished}, opts.save)
end

-- one line of the table of epochs, from the history h (a resumed run prints
-- the checkpoint's epochs too, so that its log reads as one run's)
local function print_epoch(epoch, h, times)
  print(string.format("epoch %3d  lr %.4g  train loss %.4f  val loss %.4f  val accuracy %.4f  %s",
                      epoch, h.lr[epoch], h.train_loss[epoch], h.val_loss[epoch], h.val_acc[epoch], times))
end

-- Puts run r's state s where the checkpoint ck left it, prints the epochs it
-- holds, and returns the first epoch still to train.
local function restore(ck, s)
  s.model:load_state_dict(ck.model)
  s.opt:load_state_dict(ck.optimizer)   -- refuses the state of another optimizer
  s.sched:load_state_dict(ck.scheduler)
  tensor.set_rng_state(ck.rng)
  s.loader.generator:set_state(ck.loader_rng)
  s.history, s.best = ck.history, ck.best
  print(string.format("resumed from %s after epoch %d of %d", opts.resume, ck.epoch, epochs))
  for epoch = 1, ck.epoch do print_epoch(epoch, s.history, "(from the checkpoint)") end
  return ck.epoch + 1
end

-- run r of RUNS: a fresh model (same seed), its optimizer and schedule, or
-- the checkpoint's if it stopped in this run; keeps the model that did best
-- on validation and records its test accuracy and confusion table in finished[r]
local function run(r)
  local spec = RUNS[r]
  tensor.manual_seed(7)
  local s = {model = MLP(256)}
  s.opt = spec.make_opt(s.model:parameters())
  s.sched = spec.make_sched(s.opt)
  s.loader = data.DataLoader(train, {batch_size = 64, shuffle = true, generator = tensor.Generator(1)})
  s.history, s.best = {train_loss = {}, val_loss = {}, val_acc = {}, lr = {}}, {acc = -1}
  print(string.format("\n%s: %s", spec.name, tostring(s.opt):gsub("\n%s*", " ")))
  local first = 1
  if resume and resume.run == r then first = restore(resume, s) end
  local model, opt, history = s.model, s.opt, s.history
  for epoch = first, epochs do
    local t0 = os.monotime()
    model:train()
    local total, batches = 0, 0
    for x, y in s.loader:iter() do
      local loss = loss_fn(model(x), y)
      opt:zero_grad()
      loss:backward()
      opt:step()
      total, batches = total + loss:item(), batches + 1
    end
    history.lr[epoch] = s.sched:get_last_lr()[1]
    s.sched:step()
    local train_time = os.monotime() - t0
    local vloss, vacc = evaluate(model, val_loader)
    history.train_loss[epoch], history.val_loss[epoch], history.val_acc[epoch] = total / batches, vloss, vacc
    if vacc > s.best.acc then s.best = {acc = vacc, epoch = epoch, state = snapshot(model)} end
    print_epoch(epoch, history, string.format("time %.1f s (training %.1f s)", os.monotime() - t0, train_time))
    if opts.save then save_checkpoint(r, epoch, s) end
    trained = trained + 1
    if trained == opts.stop_after then
      print(string.format("stopped (--stop-after %d); --resume %s continues", trained, opts.save))
      os.exit(0)
    end
  end
  model:load_state_dict(s.best.state)
  local cm = {}
  for i = 1, #test.classes do cm[i] = {} for j = 1, #test.classes do cm[i][j] = 0 end end
  local _, test_acc = evaluate(model, test_loader, cm)
  print(string.format("%s: best validation accuracy %.4f (epoch %d), test accuracy %.4f",
                      spec.name, s.best.acc, s.best.epoch, test_acc))
  finished[r] = {history = history, test_acc = test_acc, cm = cm}
end

print(MLP(256))
for r = 1, #RUNS do
  if resume and r < resume.run then
    print(string.format("\n%s: finished before the checkpoint, test accuracy %.4f", RUNS[r].name,
                        finished[r].test_acc))
  else
    run(r)
  end
end
local sgd, sgd_acc, sgd_cm = finished[1].history, finished[1].test_acc, finished[1].cm
local adam, adam_acc, adam_cm = finished[2].history, finished[2].test_acc, finished[2].cm
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
