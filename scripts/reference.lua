-- scripts/reference.lua -- the reference experiment: the course exercise.
--
-- An MLP on FashionMNIST (Debian's dataset-fashion-mnist), the 60,000 training
-- images split 50,000 / 10,000 into train and validation. Two runs from the
-- same initial weights: SGD with momentum 0.9 and a step schedule, against
-- Adam (lr 1e-3) with a cosine schedule. Per epoch: the average training loss
-- and the training accuracy, both counted on the fly over the epoch's batches
-- (the model's predictions on each batch before its step, as PyTorch's
-- tutorials count them), validation loss and accuracy, learning rate and
-- seconds. Each run keeps the model that did best on validation and reports
-- its test accuracy.
--
-- The SGD learning rate and the batch size are hyperparameters: --search
-- trains SGD for every pair of --lrs x --batch-sizes for --search-epochs epochs
-- from the same seed, scores each by its best validation accuracy (ties: the
-- lower validation loss), prints the table and then compares the best pair
-- with Adam. Without --search the run uses the pair a full search picked
-- (SGD_LR and BATCH_SIZE below). Adam trains with the same batch size, so the
-- two runs differ in the optimizer and its schedule only.
--
-- Written to the folder OUT (default figures): loss.png and accuracy.png
-- (training and validation curves of both runs), lr.png (the schedules),
-- samples.png (one test image per class), confusion.png (the confusion matrix
-- of the better model on the test set), and history.csv (one row per epoch and
-- run, search runs included). Times are wall-clock seconds (os.monotime;
-- os.clock would sum CPU time over all threads).
--
-- Run: ./nnlua scripts/reference.lua [options] [epochs [train_samples [figures_dir]]]
--   --help lists the options; docs/checkpoints.md explains --save / --resume.

local started = os.monotime()

---------------------------------------------------------------- configuration

-- The default run's SGD configuration: what the full search picked,
--   ./nnlua scripts/reference.lua --search
-- (lr {0.01, 0.05, 0.1} x batch size {32, 64, 128}, 3 epochs each, all 50,000
-- training images, hidden 256,128; run on 2026-12-06, its table is in
-- README.md): lr 0.05 with batch size 64, validation accuracy 0.8841, ahead of
-- 0.01 with 32 (0.8830) and 0.1 with 128 (0.8827). Run the search again after
-- changing anything it depends on, and set these from its "best:" line.
local SGD_LR, BATCH_SIZE = 0.05, 64
local MOMENTUM = 0.9
local ADAM_LR = 1e-3
local HIDDEN = {256, 128}                   -- the course MLP: 784-256-128-10
local EPOCHS = 10                           -- per optimizer
local TRAIN_SIZE, VAL_SIZE = 50000, 10000   -- FashionMNIST's 60,000 training images, split
local SEARCH_LRS, SEARCH_BATCH_SIZES, SEARCH_EPOCHS = {0.01, 0.05, 0.1}, {32, 64, 128}, 3
local STEP_GAMMA = 0.3                      -- SGD's StepLR: x0.3 every third of the run

local CHECKPOINT = "nnlua reference checkpoint"   -- the checkpoint's kind, and its layout's version
local VERSION = 2

---------------------------------------------------------------- options

-- converters for argparse: the value, or nil and why not

-- a whole number >= 1
local function count(what)
  return function(s)
    local n = math.tointeger(tonumber(s))
    if n == nil or n < 1 then return nil, string.format("%s must be a whole number >= 1, got '%s'", what, s) end
    return n
  end
end

-- a comma-separated list of values, each through convert (which returns nil
-- for a bad one), of the kind that description names
local function list(what, convert, description)
  return function(s)
    local t = {}
    for item in (s .. ","):gmatch("([^,]*),") do
      local v = convert(item:match("^%s*(.-)%s*$"))
      if v == nil then
        return nil, string.format("%s must be a comma-separated list of %s, got '%s'", what, description, s)
      end
      t[#t + 1] = v
    end
    return t
  end
end

local function whole(s)
  local n = math.tointeger(tonumber(s))
  return n and n >= 1 and n or nil
end

local function positive(s)
  local x = tonumber(s)
  return x and x > 0 and x < math.huge and x or nil
end

local function parse_options()
  local argparse = require "argparse"
  local p = argparse("nnlua scripts/reference.lua",
    "The reference experiment: an MLP on FashionMNIST, SGD with momentum and StepLR against "
    .. "Adam with CosineAnnealingLR; training and validation curves, a CSV of every epoch, "
    .. "samples and the confusion matrix as PNGs.")
  p:help_max_width(80)
  p:argument("epochs", "Same as --epochs."):args("?"):convert(count("epochs"))
  p:argument("train_samples", "Same as --train-samples."):args("?"):convert(count("train_samples"))
  p:argument("figures_dir", "Same as --out."):args("?")
  p:option("--epochs", string.format("Epochs per optimizer (default %d; when resuming, the checkpoint's).",
                                     EPOCHS)):argname("N"):target("epochs_opt"):convert(count("--epochs"))
  p:option("--train-samples", "Train on only this many of the 50,000 training images (a quick check; "
           .. "when resuming, the checkpoint's).")
    :argname("N"):target("train_samples_opt"):convert(count("--train-samples"))
  p:option("--out", "Where the figures and history.csv go (default figures)."):argname("DIR")
  p:option("--hidden", string.format("Widths of the hidden layers (default %s; when resuming, the "
                                     .. "checkpoint's).", table.concat(HIDDEN, ",")))
    :argname("W1,W2,..."):convert(list("--hidden", whole, "whole numbers >= 1"))
  p:flag("--search", string.format("First search SGD's learning rate and batch size on the validation "
                                   .. "set, then compare the best with Adam (instead of lr %g, batch size %d).",
                                   SGD_LR, BATCH_SIZE))
  p:option("--lrs", string.format("The learning rates --search tries (default %s).",
                                  table.concat(SEARCH_LRS, ","))):argname("LR1,LR2,...")
    :convert(list("--lrs", positive, "numbers > 0"))
  p:option("--batch-sizes", string.format("The batch sizes --search tries (default %s).",
                                          table.concat(SEARCH_BATCH_SIZES, ",")))
    :argname("B1,B2,..."):convert(list("--batch-sizes", whole, "whole numbers >= 1"))
  p:option("--search-epochs", string.format("Epochs of each --search run (default %d).", SEARCH_EPOCHS))
    :argname("N"):convert(count("--search-epochs"))
  p:option("--save", "Write a checkpoint (model, optimizer, schedule, random states, history) "
           .. "to PATH at the end of every epoch."):argname("PATH")
  p:option("--resume", "Continue the run saved in PATH where it stopped: the same final "
           .. "numbers as a run never interrupted."):argname("PATH")
  -- for tests only: leaves after N epochs (counted across both optimizers) as
  -- if the run were killed there, right after its checkpoint was written
  p:option("--stop-after"):hidden(true):convert(count("--stop-after"))
  local o = p:parse(arg)
  for _, k in ipairs{{"epochs", "epochs_opt", "--epochs"}, {"train_samples", "train_samples_opt", "--train-samples"},
                     {"figures_dir", "out", "--out"}} do
    local pos, opt, name = o[k[1]], o[k[2]], k[3]
    if pos ~= nil and opt ~= nil then
      p:error(string.format("%s given twice: as the argument %s and as %s %s; give one", k[1], pos, name, opt))
    end
    o[k[1]] = pos or opt
  end
  if o.train_samples and o.train_samples > TRAIN_SIZE then
    p:error(string.format("train_samples must be at most %d (the training split), got %d", TRAIN_SIZE,
                          o.train_samples))
  end
  if o.stop_after and not o.save then p:error("--stop-after needs --save") end
  if o.search and (o.save or o.resume) then
    p:error("--search does not take --save or --resume: run the search, then checkpoint the comparison "
            .. "run without --search")
  end
  for _, k in ipairs{{"lrs", "--lrs"}, {"batch_sizes", "--batch-sizes"}, {"search_epochs", "--search-epochs"}} do
    if o[k[1]] ~= nil and not o.search then p:error(k[2] .. " is used only with --search") end
  end
  return o
end

local opts = parse_options()

local function widths(h) return table.concat(h, ",") end

-- The checkpoint to resume, checked against the command line and the
-- configuration above: the schedules depend on the number of epochs, the
-- batches on the training set and the batch size, the weights on the layers,
-- so a checkpoint continues only the run that wrote it.
local function load_resume(path)
  local ck = tensor.load(path)
  if ck.kind ~= CHECKPOINT then
    error(string.format("--resume %s: not a checkpoint of scripts/reference.lua", path), 0)
  end
  if ck.version ~= VERSION then
    error(string.format("--resume %s: a checkpoint of layout version %s, written by an older "
                        .. "scripts/reference.lua; this one reads version %d only (start the run again)",
                        path, tostring(ck.version), VERSION), 0)
  end
  local given = {epochs = opts.epochs, train_samples = opts.train_samples,
                 hidden = opts.hidden and widths(opts.hidden)}
  local saved = {epochs = ck.epochs, train_samples = ck.train_samples ~= 0 and ck.train_samples or nil,
                 hidden = widths(ck.hidden)}
  for _, k in ipairs{"epochs", "train_samples", "hidden"} do
    if given[k] ~= nil and given[k] ~= saved[k] then
      error(string.format("--resume %s: the checkpoint is of a run with %s = %s, not %s; "
                          .. "leave it out to continue that run", path, k, tostring(saved[k] or "all"),
                          given[k]), 0)
    end
  end
  if ck.sgd_lr ~= SGD_LR or ck.batch_size ~= BATCH_SIZE or ck.adam_lr ~= ADAM_LR then
    error(string.format("--resume %s: the checkpoint is of a run with SGD lr %g, batch size %d and Adam "
                        .. "lr %g, but this script now says SGD lr %g, batch size %d and Adam lr %g",
                        path, ck.sgd_lr, ck.batch_size, ck.adam_lr, SGD_LR, BATCH_SIZE, ADAM_LR), 0)
  end
  return ck
end

local resume = opts.resume and load_resume(opts.resume)
local epochs = resume and resume.epochs or opts.epochs or EPOCHS
local limit = resume and (resume.train_samples ~= 0 and resume.train_samples or nil) or opts.train_samples
local hidden = resume and resume.hidden or opts.hidden or HIDDEN
local out = opts.figures_dir or "figures"

---------------------------------------------------------------- data and model

-- data: ToTensor + Normalize with FashionMNIST's mean and std; batches assembled in C
local tf = transforms.Compose{transforms.ToTensor(), transforms.Normalize({0.286}, {0.353})}
local full = datasets.FashionMNIST{train = true, transform = tf}
local test = datasets.FashionMNIST{train = false, transform = tf}
local train, val = data.random_split(full, {TRAIN_SIZE, VAL_SIZE}, tensor.Generator(42))
if limit then train = data.Subset(train, tensor.arange(1, limit + 1)) end
print(string.format("train %d, validation %d, test %d images of %d classes",
                    #train, #val, #test, #full.classes))

-- 784 - hidden[1] - ... - 10 with ReLU between the layers
local function make_model()
  local layers, width = {nn.Flatten()}, 28 * 28
  for _, h in ipairs(hidden) do
    layers[#layers + 1] = nn.Linear(width, h)
    layers[#layers + 1] = nn.ReLU()
    width = h
  end
  layers[#layers + 1] = nn.Linear(width, #full.classes)
  return nn.Sequential(table.unpack(layers))
end

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

---------------------------------------------------------------- runs

-- A run: {name, optimizer = "SGD" | "Adam", lr, batch_size, epochs}. SGD has
-- momentum and StepLR (x STEP_GAMMA after every third of its epochs); Adam
-- has CosineAnnealingLR over its epochs. A search run is an SGD run with the
-- same schedule over its own (fewer) epochs.
local function step_size(n) return math.max(1, n // 3) end

local function make_optimizer(spec, params)
  if spec.optimizer == "SGD" then return optim.SGD(params, {lr = spec.lr, momentum = MOMENTUM}) end
  return optim.Adam(params, {lr = spec.lr})
end

local function make_schedule(spec, opt)
  if spec.optimizer == "SGD" then
    return optim.lr_scheduler.StepLR(opt, {step_size = step_size(spec.epochs), gamma = STEP_GAMMA})
  end
  return optim.lr_scheduler.CosineAnnealingLR(opt, {T_max = spec.epochs})
end

local function describe_optimizer(spec)
  return spec.optimizer == "SGD" and string.format("SGD, momentum %g", MOMENTUM) or "Adam"
end

local function describe_schedule(spec)
  if spec.optimizer == "SGD" then
    return string.format("StepLR(step_size %d, gamma %g)", step_size(spec.epochs), STEP_GAMMA)
  end
  return string.format("CosineAnnealingLR(T_max %d)", spec.epochs)
end

-- a copy of the model's weights: state_dict() returns the live parameters
-- (as in PyTorch), which the next steps would go on changing
local function snapshot(model)
  local sd = {}
  for k, t in pairs(model:state_dict()) do sd[k] = t:clone() end
  return sd
end

-- one line of the table of epochs, from the history h (a resumed run prints
-- the checkpoint's epochs too, so that its log reads as one run's)
local function print_epoch(epoch, h, times)
  print(string.format("epoch %3d  lr %.4g  train loss %.4f  train acc %.4f  val loss %.4f  val acc %.4f  %s",
                      epoch, h.lr[epoch], h.train_loss[epoch], h.train_acc[epoch], h.val_loss[epoch],
                      h.val_acc[epoch], times))
end

local function mean(t)
  local s = 0
  for _, v in ipairs(t) do s = s + v end
  return s / #t
end

-- The comparison runs, in order; a checkpoint names the one it is in by its
-- index. finished[r] holds what run r left for the figures and the summary
-- ({history, best = {acc, loss, epoch}, test_acc, cm}); a checkpoint carries
-- it into the next process.
local finished = resume and resume.finished or {}
local trained = 0   -- epochs trained by this process, for --stop-after

-- Writes what comparison run r needs to go on after epoch e exactly as if it
-- had never stopped: weights, optimizer and schedule, the two random streams
-- (the global one and the loader's shuffle), the history and the best model
-- so far. tensor.save writes atomically: a run killed while writing leaves the
-- previous checkpoint whole.
local function save_checkpoint(spec, r, e, s)
  tensor.save({kind = CHECKPOINT, version = VERSION, epochs = epochs, train_samples = limit or 0,
               hidden = hidden, sgd_lr = SGD_LR, batch_size = BATCH_SIZE, adam_lr = ADAM_LR,
               run = r, optimizer_name = spec.name, epoch = e,
               model = s.model:state_dict(), optimizer = s.opt:state_dict(),
               scheduler = s.sched:state_dict(), rng = tensor.get_rng_state(),
               loader_rng = s.loader.generator:get_state(), history = s.history, best = s.best,
               finished = finished}, opts.save)
end

-- Puts run state s where the checkpoint ck left it, prints the epochs it
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

-- Trains spec from a fresh model (the same seed for every run) or from the
-- checkpoint if it stopped in comparison run r; returns the history and the
-- best epoch on validation {acc, loss, epoch, state}, state (the weights)
-- only when keep is true. Ties in accuracy go to the lower validation loss.
local function train_run(spec, r, keep)
  tensor.manual_seed(7)
  local s = {model = make_model()}
  s.opt = make_optimizer(spec, s.model:parameters())
  s.sched = make_schedule(spec, s.opt)
  s.loader = data.DataLoader(train, {batch_size = spec.batch_size, shuffle = true,
                                     generator = tensor.Generator(1)})
  s.history = {train_loss = {}, train_acc = {}, val_loss = {}, val_acc = {}, lr = {}, seconds = {}}
  s.best = {acc = -1, loss = math.huge, epoch = 0}
  local first = 1
  if r and resume and resume.run == r then first = restore(resume, s) end
  local model, opt, history = s.model, s.opt, s.history
  for epoch = first, spec.epochs do
    local t0 = os.monotime()
    model:train()
    local total, batches, correct, n = 0, 0, 0, 0
    for x, y in s.loader:iter() do
      local logits = model(x)
      local loss = loss_fn(logits, y)
      opt:zero_grad()
      loss:backward()
      opt:step()
      total, batches = total + loss:item(), batches + 1
      correct, n = correct + logits:argmax(2):eq(y):sum():item(), n + x:size(1)
    end
    history.lr[epoch] = s.sched:get_last_lr()[1]
    s.sched:step()
    local train_time = os.monotime() - t0
    local vloss, vacc = evaluate(model, val_loader)
    history.train_loss[epoch], history.train_acc[epoch] = total / batches, correct / n
    history.val_loss[epoch], history.val_acc[epoch] = vloss, vacc
    history.seconds[epoch] = os.monotime() - t0
    if vacc > s.best.acc or (vacc == s.best.acc and vloss < s.best.loss) then
      s.best = {acc = vacc, loss = vloss, epoch = epoch, state = keep and snapshot(model) or nil}
    end
    print_epoch(epoch, history, string.format("time %.1f s (training %.1f s)", history.seconds[epoch], train_time))
    if r and opts.save then save_checkpoint(spec, r, epoch, s) end
    if r then
      trained = trained + 1
      if trained == opts.stop_after then
        print(string.format("stopped (--stop-after %d); --resume %s continues", trained, opts.save))
        os.exit(0)
      end
    end
  end
  return s
end

---------------------------------------------------------------- the search

-- every run's rows for history.csv, in the order they ran
local csv_rows = {}
local COLUMNS = {"run", "optimizer", "lr", "batch_size", "hidden", "epoch", "train_loss", "train_acc",
                 "val_loss", "val_acc", "learning_rate", "seconds"}

local function add_rows(name, spec, history)
  for epoch = 1, #history.train_loss do
    csv_rows[#csv_rows + 1] = {run = name, optimizer = spec.optimizer, lr = spec.lr,
      batch_size = spec.batch_size, hidden = widths(hidden), epoch = epoch,
      train_loss = history.train_loss[epoch], train_acc = history.train_acc[epoch],
      val_loss = history.val_loss[epoch], val_acc = history.val_acc[epoch],
      learning_rate = history.lr[epoch], seconds = history.seconds[epoch]}
  end
end

-- SGD for every lr x batch size; returns the best pair by validation accuracy
-- (ties: lower validation loss; then the first tried)
local function search()
  local lrs, sizes = opts.lrs or SEARCH_LRS, opts.batch_sizes or SEARCH_BATCH_SIZES
  local n = opts.search_epochs or SEARCH_EPOCHS
  local results, k = {}, 0
  for _, lr in ipairs(lrs) do
    for _, bs in ipairs(sizes) do
      k = k + 1
      local spec = {name = string.format("search lr=%g bs=%d", lr, bs), optimizer = "SGD", lr = lr,
                    batch_size = bs, epochs = n}
      print(string.format("\nsearch %d of %d: SGD lr %g, batch size %d, %d epochs", k, #lrs * #sizes, lr, bs, n))
      local s = train_run(spec)
      add_rows(spec.name, spec, s.history)
      results[k] = {lr = lr, batch_size = bs, best = s.best, seconds = mean(s.history.seconds)}
    end
  end
  local best = results[1]
  for _, res in ipairs(results) do
    if res.best.acc > best.best.acc or (res.best.acc == best.best.acc and res.best.loss < best.best.loss) then
      best = res
    end
  end
  print(string.format("\nsearch: SGD (momentum %g, %s), %d epochs each, scored by the best validation "
                      .. "accuracy (its epoch's validation loss breaks ties)",
                      MOMENTUM, describe_schedule{optimizer = "SGD", epochs = n}, n))
  print(string.format("%10s  %10s  %8s  %8s  %7s  %7s", "lr", "batch size", "val loss", "val acc", "epoch",
                      "s/epoch"))
  for _, res in ipairs(results) do
    print(string.format("%10g  %10d  %8.4f  %8.4f  %7d  %7.2f%s", res.lr, res.batch_size, res.best.loss,
                        res.best.acc, res.best.epoch, res.seconds, res == best and "  <- best" or ""))
  end
  print(string.format("best: lr %g, batch size %d (validation accuracy %.4f)", best.lr, best.batch_size,
                      best.best.acc))
  return best.lr, best.batch_size
end

---------------------------------------------------------------- the comparison

local sgd_lr, batch_size = SGD_LR, BATCH_SIZE
if opts.search then sgd_lr, batch_size = search() end

local RUNS = {
  {name = "SGD", optimizer = "SGD", lr = sgd_lr, batch_size = batch_size, epochs = epochs},
  {name = "Adam", optimizer = "Adam", lr = ADAM_LR, batch_size = batch_size, epochs = epochs},
}

print("\n" .. tostring(make_model()))
for r, spec in ipairs(RUNS) do
  if resume and r < resume.run then
    print(string.format("\n%s: finished before the checkpoint, test accuracy %.4f", spec.name,
                        finished[r].test_acc))
  else
    print(string.format("\n%s: %s, lr %g, batch size %d, %s", spec.name, describe_optimizer(spec), spec.lr,
                        spec.batch_size, describe_schedule(spec)))
    local s = train_run(spec, r, true)
    s.model:load_state_dict(s.best.state)
    local cm = {}
    for i = 1, #test.classes do cm[i] = {} for j = 1, #test.classes do cm[i][j] = 0 end end
    local _, test_acc = evaluate(s.model, test_loader, cm)
    print(string.format("%s: best validation accuracy %.4f (epoch %d), test accuracy %.4f",
                        spec.name, s.best.acc, s.best.epoch, test_acc))
    finished[r] = {history = s.history, test_acc = test_acc, cm = cm,
                   best = {acc = s.best.acc, loss = s.best.loss, epoch = s.best.epoch}}
  end
  add_rows(spec.name, spec, finished[r].history)
end
local sgd, adam = finished[1], finished[2]
print(string.format("\ntest accuracy: SGD %.4f, Adam %.4f", sgd.test_acc, adam.test_acc))

-- the summary: one line per run
print(string.format("\n%-20s  %7s  %10s  %-9s  %-32s  %10s  %7s  %8s  %7s", "optimizer", "lr", "batch size",
                    "hidden", "schedule", "best epoch", "val acc", "test acc", "s/epoch"))
for r, spec in ipairs(RUNS) do
  local f = finished[r]
  print(string.format("%-20s  %7g  %10d  %-9s  %-32s  %10d  %7.4f  %8.4f  %7.2f", describe_optimizer(spec),
                      spec.lr, spec.batch_size, widths(hidden), describe_schedule(spec), f.best.epoch,
                      f.best.acc, f.test_acc, mean(f.history.seconds)))
end

---------------------------------------------------------------- files

data.write_csv(out .. "/history.csv", csv_rows, {columns = COLUMNS})

local function curves(title, ylabel, key, file)
  plot.lines{title = title, xlabel = "epoch", ylabel = ylabel, grid = true, markers = true, series = {
    {label = "SGD train", y = sgd.history["train_" .. key], color = "blue"},
    {label = "SGD validation", y = sgd.history["val_" .. key], color = "blue", linestyle = "--"},
    {label = "Adam train", y = adam.history["train_" .. key], color = "orange"},
    {label = "Adam validation", y = adam.history["val_" .. key], color = "orange", linestyle = "--"}}}
    :save(out .. "/" .. file)
end
curves("Loss", "cross-entropy loss", "loss", "loss.png")
curves("Accuracy", "accuracy", "acc", "accuracy.png")
plot.lines{title = "Learning rate", xlabel = "epoch", ylabel = "learning rate", logy = true, grid = true,
           series = {{label = "SGD + StepLR", y = sgd.history.lr}, {label = "Adam + cosine", y = adam.history.lr}}}
  :save(out .. "/lr.png")

-- one test image per class, shown as it looks before Normalize; image_grid
-- sizes the figure from the grid (docs/plot.md): thumbnails of 140 pixels,
-- every class name whole
local images, names, found = {}, {}, 0
for i = 1, #test do
  local x, y = test:get(i)
  if not images[y] then images[y], names[y], found = x, test.classes[y], found + 1 end
  if found == #test.classes then break end
end
local rows, cols = 2, 5
plot.image_grid{images = images, labels = names, rows = rows, cols = cols, mean = {0.286}, std = {0.353},
                title = "FashionMNIST test images"}
  :save(out .. "/samples.png")

local better = sgd.test_acc > adam.test_acc and RUNS[1] or RUNS[2]
local best_acc = math.max(sgd.test_acc, adam.test_acc)
plot.heatmap{matrix = (better == RUNS[1] and sgd or adam).cm, xlabels = test.classes, ylabels = test.classes,
             xlabel = "predicted", ylabel = "true",
             title = string.format("Confusion matrix, %s, test accuracy %.4f", better.name, best_acc)}
  :save(out .. "/confusion.png")
print(string.format("\nwritten: %s/{loss,accuracy,lr,samples,confusion}.png, %s/history.csv", out, out))
print(string.format("total time %.1f s", os.monotime() - started))
