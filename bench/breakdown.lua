-- breakdown.lua -- where one training step of make bench's workload spends its time.
--
--   nnlua bench/breakdown.lua [adam|sgd] [threads|auto] [epochs]
--
-- The loop of bench/train.lua (the MLP 784-256-128-10, batch 64, FashionMNIST
-- with ToTensor + Normalize, 782 steps an epoch) with a clock read between its
-- phases: next batch, forward, loss, zero_grad, backward, step, loss:item().
-- Prints each epoch's time, then each phase's mean over the epochs after the
-- first (a warm-up), per epoch and per step. A phase's time includes whatever
-- runs inside it: the garbage collector steps when tensor storage is
-- allocated, so its share lands mostly in "data" and "forward".
local which = arg[1] or "adam"
local auto = arg[2] == nil or arg[2] == "auto"    -- the default: as many as the machine has free
local threads = auto and tensor.get_num_threads() or tonumber(arg[2])
local epochs = tonumber(arg[3] or 4)
assert((which == "adam" or which == "sgd") and threads and epochs and epochs >= 2,
       "usage: nnlua bench/breakdown.lua [adam|sgd] [threads] [epochs >= 2]")
if not auto then tensor.set_num_threads(threads) end

local loader, model, loss_fn, opt = require("workload")(which)

local PHASES = {"data", "forward", "loss", "zero_grad", "backward", "step", "item"}
local total, steps = {}, 0
for _, k in ipairs(PHASES) do total[k] = 0 end
local clock = os.monotime

io.write(string.format("%s, %s; epoch seconds:", which,
                       auto and "threads auto" or threads .. (threads == 1 and " thread" or " threads")))
for epoch = 1, epochs do
  local timed = epoch > 1
  local it = loader:iter()
  local e0 = clock()
  local t0 = e0
  while true do
    local x, y = it()
    if not x then break end
    local t1 = clock()
    local out = model(x)
    local t2 = clock()
    local loss = loss_fn(out, y)
    local t3 = clock()
    opt:zero_grad()
    local t4 = clock()
    loss:backward()
    local t5 = clock()
    opt:step()
    local t6 = clock()
    loss:item()
    local t7 = clock()
    if timed then
      total.data, total.forward, total.loss = total.data + t1 - t0, total.forward + t2 - t1, total.loss + t3 - t2
      total.zero_grad, total.backward = total.zero_grad + t4 - t3, total.backward + t5 - t4
      total.step, total.item = total.step + t6 - t5, total.item + t7 - t6
      steps = steps + 1
    end
    t0 = t7
  end
  io.write(string.format(" %.3f", clock() - e0))
end
print()
local n = epochs - 1
local sum = 0
for _, k in ipairs(PHASES) do
  sum = sum + total[k]
  print(string.format("  %-10s %7.1f ms/epoch %7.1f us/step", k, total[k] / n * 1000, total[k] / steps * 1e6))
end
print(string.format("  %-10s %7.1f ms/epoch %7.1f us/step", "all", sum / n * 1000, sum / steps * 1e6))
