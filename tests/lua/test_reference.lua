-- scripts/reference.lua, the course exercise, run end to end on a small slice
-- of FashionMNIST: its options and their errors, the per-epoch lines, the
-- summary table, the search table and the configuration it picks, every
-- figure and history.csv. (--save / --resume: tests/lua/test_resume.lua.)

local NNLUA = os.getenv("NNLUA") or "./nnlua"

local sh = run_command

-- runs scripts/reference.lua with the arguments s; returns its output, asserting success
local function reference(s)
  local out, ok = sh(NNLUA .. " scripts/reference.lua " .. s)
  assert(ok, out)
  return out
end

-- runs it with arguments that must be refused; returns the message
local function refused(s, message)
  local out, ok = sh(NNLUA .. " scripts/reference.lua " .. s)
  check_eq(not ok, true, s .. " must fail:\n" .. out)
  assert(out:find(message, 1, true), "expected '" .. message .. "' for " .. s .. ", got:\n" .. out)
  return out
end

-- a CSV file (RFC 4180: quoted fields may hold commas, "" is a quote) as an
-- array of arrays of strings
local function read_csv(path)
  local text, rows, row, field, i, quoted = read_file(path), {}, {}, {}, 1, false
  while i <= #text do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' and text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1
      elseif c == '"' then quoted = false
      else field[#field + 1] = c end
    elseif c == '"' then quoted = true
    elseif c == "," then row[#row + 1] = table.concat(field); field = {}
    elseif c == "\n" then
      row[#row + 1] = table.concat(field); field = {}
      rows[#rows + 1] = row; row = {}
    elseif c ~= "\r" then field[#field + 1] = c end
    i = i + 1
  end
  check_eq(#field + #row, 0, path .. " must end with a newline")
  return rows
end

-- the rows of a CSV as records keyed by its header's names
local function records(path)
  local rows = read_csv(path)
  local header, recs = rows[1], {}
  for r = 2, #rows do
    check_eq(#rows[r], #header, path .. " row " .. r .. " fields")
    local rec = {}
    for k, name in ipairs(header) do rec[name] = rows[r][k] end
    recs[#recs + 1] = rec
  end
  return header, recs
end

local COLUMNS = "run,optimizer,lr,batch_size,hidden,epoch,train_loss,train_acc,val_loss,val_acc,learning_rate,seconds"

-- every figure is a PNG of its size
local function check_figures(dir)
  local sizes = {loss = "3,600,800", accuracy = "3,600,800", lr = "3,600,800", confusion = "3,600,800",
                 samples = "3,398,784"}
  for name, size in pairs(sizes) do
    local path = dir .. "/" .. name .. ".png"
    check_eq(read_file(path):sub(1, 8), "\137PNG\r\n\26\n", path)
    check_eq(table.concat(plot.read_image(path).shape, ","), size, path)
  end
end

-- the summary table's row of an optimizer: its fields after the optimizer's name
local function summary_row(out, optimizer)
  local header = out:find("\noptimizer%s+lr%s+batch size%s+hidden%s+schedule%s+best epoch%s+val acc%s+"
                          .. "test acc%s+s/epoch\n")
  assert(header, "no summary table in:\n" .. out)
  local line = out:match("\n(" .. optimizer:gsub("%p", "%%%0") .. "%s[^\n]*)", header)
  assert(line, optimizer .. " missing in the summary:\n" .. out)
  local f = {}
  for w in line:sub(#optimizer + 1):gmatch("%S+") do f[#f + 1] = w end
  -- lr, batch size, hidden, schedule (several words), best epoch, val acc, test acc, s/epoch
  return {lr = tonumber(f[1]), batch_size = tonumber(f[2]), hidden = f[3],
          schedule = table.concat(f, " ", 4, #f - 4), best_epoch = tonumber(f[#f - 3]),
          val_acc = tonumber(f[#f - 2]), test_acc = tonumber(f[#f - 1]), seconds = tonumber(f[#f])}
end

test("scripts/reference.lua --help lists every option; the script never shells out", function()
  local out = reference("--help")
  for _, word in ipairs{"--epochs N", "--train-samples N", "--out DIR", "--hidden W1,W2,...", "--search",
                        "--lrs LR1,LR2,...", "--batch-sizes B1,B2,...", "--search-epochs N", "--save PATH",
                        "--resume PATH", "--help", "epochs", "train_samples", "figures_dir"} do
    assert(out:find(word, 1, true), word .. " missing in:\n" .. out)
  end
  local src = read_file("scripts/reference.lua")
  for _, call in ipairs{"os.execute", "io.popen", "mkdir"} do
    assert(not src:find(call, 1, true), "scripts/reference.lua must not use " .. call)
  end
end)

test("scripts/reference.lua refuses bad options with a message naming them", function()
  refused("--hidden 256,x", "--hidden must be a comma-separated list of whole numbers >= 1, got '256,x'")
  refused("--hidden 0", "--hidden must be a comma-separated list of whole numbers >= 1, got '0'")
  refused("--hidden 256,,128", "got '256,,128'")
  refused("--hidden ''", "got ''")
  refused("--hidden 1.5", "got '1.5'")
  refused("--epochs 0", "--epochs must be a whole number >= 1, got '0'")
  refused("--train-samples many", "--train-samples must be a whole number >= 1, got 'many'")
  refused("--train-samples 50001", "train_samples must be at most 50000 (the training split), got 50001")
  refused("3 60000", "train_samples must be at most 50000 (the training split), got 60000")
  refused("3 --epochs 4", "epochs given twice: as the argument 3 and as --epochs 4; give one")
  refused("3 100 --train-samples 200", "train_samples given twice: as the argument 100 and as --train-samples 200")
  refused("3 100 dir --out other", "figures_dir given twice: as the argument dir and as --out other")
  refused("--search --lrs 0.1,-1", "--lrs must be a comma-separated list of numbers > 0, got '0.1,-1'")
  refused("--search --lrs 0.1,inf", "got '0.1,inf'")
  refused("--search --batch-sizes 64,0", "--batch-sizes must be a comma-separated list of whole numbers >= 1")
  refused("--search --search-epochs 0", "--search-epochs must be a whole number >= 1, got '0'")
  refused("--lrs 0.1", "--lrs is used only with --search")
  refused("--batch-sizes 64", "--batch-sizes is used only with --search")
  refused("--search-epochs 2", "--search-epochs is used only with --search")
  refused("--search --save ck.safetensors", "--search does not take --save or --resume")
  refused("--search --resume ck.safetensors", "--search does not take --save or --resume")
end)

test("scripts/reference.lua --epochs 1 --train-samples 2000: epoch lines with training accuracy, the summary, "
     .. "every figure and history.csv", function()
  local dir = tmpdir()
  local out = reference(string.format("--epochs 1 --train-samples 2000 --hidden 64,32 --out '%s/a/b'", dir))
  assert(out:find("train 2000, validation 10000, test 10000 images of 10 classes", 1, true), out)
  assert(out:find("(2): Linear(in_features=784, out_features=64, bias=true)", 1, true), out)
  assert(out:find("(4): Linear(in_features=64, out_features=32, bias=true)", 1, true), out)
  assert(out:find("(6): Linear(in_features=32, out_features=10, bias=true)", 1, true), out)
  -- the constants at the top of the script name the SGD configuration
  local src = read_file("scripts/reference.lua")
  local lr, bs = src:match("\nlocal SGD_LR, BATCH_SIZE = (%S+), (%d+)\n")
  assert(lr, "SGD_LR, BATCH_SIZE missing in scripts/reference.lua")
  local epochs = {}
  for line in out:gmatch("epoch +1 +lr [^\n]+") do
    local e = {}
    e.lr, e.train_loss, e.train_acc, e.val_loss, e.val_acc = line:match(
      "^epoch +1  lr (%S+)  train loss (%S+)  train acc (%S+)  val loss (%S+)  val acc (%S+)  time %S+ s")
    assert(e.lr, line)
    epochs[#epochs + 1] = e
  end
  check_eq(#epochs, 2, "one epoch per optimizer")
  check_eq(tonumber(epochs[1].lr), tonumber(lr), "SGD's learning rate")
  check_eq(tonumber(epochs[2].lr), 1e-3, "Adam's learning rate")
  local sgd, adam = summary_row(out, "SGD, momentum 0.9"), summary_row(out, "Adam")
  check_eq(sgd.lr, tonumber(lr))
  check_eq(sgd.batch_size, tonumber(bs))
  check_eq(sgd.hidden, "64,32")
  check_eq(sgd.schedule, "StepLR(step_size 1, gamma 0.3)")
  check_eq(adam.lr, 1e-3)
  check_eq(adam.batch_size, tonumber(bs))
  check_eq(adam.schedule, "CosineAnnealingLR(T_max 1)")
  for i, row in ipairs{sgd, adam} do
    check_eq(row.best_epoch, 1)
    check_eq(row.val_acc, tonumber(epochs[i].val_acc))
    assert(row.test_acc > 0.5 and row.test_acc < 1, out)
    assert(row.seconds > 0, out)
  end
  local t_sgd, t_adam = out:match("test accuracy: SGD (%S+), Adam (%S+)")
  check_eq(tonumber(t_sgd), sgd.test_acc)
  check_eq(tonumber(t_adam), adam.test_acc)
  check_figures(dir .. "/a/b")
  local header, recs = records(dir .. "/a/b/history.csv")
  check_eq(table.concat(header, ","), COLUMNS)
  check_eq(#recs, 2, "one row per epoch and run")
  for i, name in ipairs{"SGD", "Adam"} do
    local r, e = recs[i], epochs[i]
    check_eq(r.run, name)
    check_eq(r.optimizer, name)
    check_eq(r.hidden, "64,32")
    check_eq(tonumber(r.batch_size), tonumber(bs))
    check_eq(tonumber(r.epoch), 1)
    for _, k in ipairs{"train_loss", "train_acc", "val_loss", "val_acc"} do
      check_eq(string.format("%.4f", tonumber(r[k])), e[k], name .. " " .. k)
    end
    check_eq(tonumber(r.learning_rate), tonumber(e.lr))
    assert(tonumber(r.seconds) > 0, r.seconds)
  end
  check_eq(tonumber(recs[1].lr), tonumber(lr))
  check_eq(tonumber(recs[2].lr), 1e-3)
  os.execute("rm -rf '" .. dir .. "'")
end)

test("scripts/reference.lua --search on a 2 x 2 grid: the table, the pair it picks, then SGD with that pair "
     .. "against Adam", function()
  local dir = tmpdir()
  local out = reference(string.format("--search --lrs 0.05,0.1 --batch-sizes 64,128 --search-epochs 1 "
                                      .. "--epochs 1 --train-samples 2000 --hidden 32 --out '%s'", dir))
  local head = out:find("\n +lr +batch size +val loss +val acc +epoch +s/epoch\n")
  assert(head, "no search table in:\n" .. out)
  local rows, marked = {}, 0
  for line in out:sub(head + 1):gmatch("[^\n]+") do
    local lr, bs, loss, acc, epoch, s, mark = line:match("^ +(%S+) +(%d+) +(%S+) +(%S+) +(%d+) +(%S+)(.*)$")
    if lr then
      rows[#rows + 1] = {lr = tonumber(lr), bs = tonumber(bs), loss = tonumber(loss), acc = tonumber(acc),
                         epoch = tonumber(epoch), seconds = tonumber(s)}
      if mark == "  <- best" then marked = #rows end
    elseif #rows > 0 then
      break
    end
  end
  check_eq(#rows, 4, "one row per pair")
  local pairs_seen = {}
  for _, r in ipairs(rows) do
    pairs_seen[#pairs_seen + 1] = r.lr .. "/" .. r.bs
    check_eq(r.epoch, 1)
    assert(r.acc > 0.3 and r.acc < 1 and r.loss > 0 and r.seconds > 0, out)
  end
  check_eq(table.concat(pairs_seen, " "), "0.05/64 0.05/128 0.1/64 0.1/128")
  -- validation accuracies are multiples of 1/10000, printed exactly: the best
  -- is the highest, ties going to the lower loss
  local best = rows[1]
  for _, r in ipairs(rows) do
    if r.acc > best.acc or (r.acc == best.acc and r.loss < best.loss) then best = r end
  end
  check_eq(rows[marked], best, "the row marked best")
  assert(out:find(string.format("\nbest: lr %g, batch size %d (validation accuracy %.4f)\n", best.lr, best.bs,
                                best.acc), 1, true), out)
  local sgd, adam = summary_row(out, "SGD, momentum 0.9"), summary_row(out, "Adam")
  check_eq(sgd.lr, best.lr)
  check_eq(sgd.batch_size, best.bs)
  check_eq(adam.lr, 1e-3)
  check_eq(adam.batch_size, best.bs)
  check_eq(sgd.hidden, "32")
  -- the comparison's SGD run is the best search run again (same seed, pair and epochs)
  check_eq(sgd.val_acc, best.acc)
  check_figures(dir)
  local header, recs = records(dir .. "/history.csv")
  check_eq(table.concat(header, ","), COLUMNS)
  check_eq(#recs, 6, "4 search runs and 2 comparison runs of 1 epoch")
  local names = {}
  for _, r in ipairs(recs) do names[#names + 1] = r.run end
  check_eq(table.concat(names, "|"), "search lr=0.05 bs=64|search lr=0.05 bs=128|search lr=0.1 bs=64|"
                                     .. "search lr=0.1 bs=128|SGD|Adam")
  for i, r in ipairs(rows) do
    check_eq(tonumber(recs[i].lr), r.lr)
    check_eq(tonumber(recs[i].batch_size), r.bs)
    check_eq(tonumber(recs[i].val_acc), r.acc)
    check_eq(recs[i].optimizer, "SGD")
  end
  check_eq(tonumber(recs[5].batch_size), best.bs)
  check_eq(tonumber(recs[6].batch_size), best.bs)
  os.execute("rm -rf '" .. dir .. "'")
end)
