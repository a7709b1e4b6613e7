-- nn.Module, Sequential, the built-in layers and losses, end to end.

local function shape(t) return table.concat(t.shape, ",") end

test("modules register in assignment order and print like PyTorch", function()
  local Net = nn.Module:extend("Net")
  function Net:init()
    self.b = nn.Linear(3, 4)
    self.a = nn.Linear(4, 2, {bias = false})
    self.scale = nn.Parameter(tensor.ones(1))
    self.note = "plain field"
    self.t = tensor.zeros(2)               -- a plain tensor is not a parameter
  end
  function Net:forward(x) return self.a(self.b(x):relu()) * self.scale end
  local n = Net()
  local names = {}
  for _, p in ipairs(n:named_parameters()) do names[#names + 1] = p[1] end
  check_eq(table.concat(names, " "), "b.weight b.bias a.weight scale")
  check_eq(#n:parameters(), 4)
  check_eq(n:num_parameters(), 12 + 4 + 8 + 1)
  check_eq(#n:children(), 2)
  check_eq(#n:modules(), 3)
  check_eq(n.note, "plain field")
  check_eq(shape(n(tensor.randn(5, 3))), "5,2")
  local s = tostring(n)
  assert(s:find("Net%(\n  %(b%): Linear%(in_features=3, out_features=4, bias=true%)"), s)
  assert(s:find("%(a%): Linear%(in_features=4, out_features=2, bias=false%)"), s)
  assert(s:find("Parameters: 25"), s)
  n.b = nn.Linear(3, 4)                    -- replacing keeps the position
  check_eq(n:named_parameters()[1][1], "b.weight")
  n.a = nil
  check_eq(#n:parameters(), 3)
end)

test("Linear: PyTorch's init bounds and shapes", function()
  tensor.manual_seed(1)
  local l = nn.Linear(100, 30)
  check_eq(shape(l.weight), "30,100"); check_eq(shape(l.bias), "30")
  local b = 1 / math.sqrt(100)
  assert(l.weight:abs():max():item() <= b and l.bias:abs():max():item() <= b)
  assert(l.weight:std():item() > 0.8 * b / math.sqrt(3))
  check_eq(l.weight.requires_grad, true)
  expect_error(function() l(tensor.zeros(2, 99)) end, "Linear(100, 30): input of shape [2, 99] does not match (last dim 99 vs 100)")
  expect_error(function() nn.Linear(0, 3) end, "in_features must be a whole number >= 1")
  expect_error(function() nn.Linear(2, 3, {bais = false}) end, "Linear: unknown option 'bais'")
end)

test("Sequential: positions, names, errors name the child", function()
  local s = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
  check_eq(#s, 3)
  check_eq(s[2].__name, "Tanh")
  check_eq(s:named_parameters()[3][1], "3.weight")
  s:add(nn.Sigmoid())
  check_eq(#s, 4)
  check_eq(shape(s(tensor.randn(7, 2))), "7,1")
  expect_error(function() s(tensor.randn(7, 5)) end, "Sequential: child 1 (Linear)")
  expect_error(function() nn.Sequential(nn.ReLU(), 3) end, "Sequential: child 2 is a number, expected a module")
end)

test("train, eval, zero_grad, apply", function()
  local s = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
  check_eq(s.training, true)
  s:eval()
  check_eq(s[2].training, false)
  local x = tensor.ones(4, 2)
  check_eq(s[2](x):equal(x), true, "dropout is the identity in eval mode")
  s:train()
  check_eq(s[2].training, true)
  s(x):sum():backward()
  assert(s[1].weight.grad ~= nil)
  s:zero_grad()
  check_eq(s[1].weight.grad, nil)
  local count = 0
  s:apply(function() count = count + 1 end)
  check_eq(count, 3)
end)

test("state_dict and load_state_dict check keys and shapes", function()
  local a = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
  local sd = a:state_dict()
  local keys = {}
  for k in pairs(sd) do keys[#keys + 1] = k end
  table.sort(keys)
  check_eq(table.concat(keys, " "), "1.bias 1.weight 2.bias 2.running_mean 2.running_var 2.weight")
  local b = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
  b:load_state_dict(sd)
  check_eq(b[1].weight:equal(a[1].weight), true)
  expect_error(function() b:load_state_dict({["1.weight"] = tensor.zeros(3, 2)}) end, "missing keys: {1.bias")
  local extra = a:state_dict(); extra["9.weight"] = tensor.zeros(1)
  expect_error(function() b:load_state_dict(extra) end, "unexpected keys: {9.weight}")
  local bad = a:state_dict(); bad["1.weight"] = tensor.zeros(2, 3)
  expect_error(function() b:load_state_dict(bad) end, "'1.weight' has shape [2, 3] in the state dict but [3, 2] in the model")
  b:load_state_dict({["1.weight"] = tensor.zeros(3, 2)}, {strict = false})
  check_eq(b[1].weight:sum():item(), 0)
  expect_error(function() b:load_state_dict(sd, {strikt = true}) end, "unknown option 'strikt'")
end)

test("layers forward values", function()
  local x = tensor.new{{-2, -0.5, 0, 1}}
  check_close(nn.ReLU()(x), {{0, 0, 0, 1}})
  check_close(nn.LeakyReLU(0.1)(x), {{-0.2, -0.05, 0, 1}}, 1e-6)
  check_close(nn.Sigmoid()(x), x:sigmoid())
  check_close(nn.Tanh()(x), x:tanh())
  check_close(nn.GELU({approximate = "tanh"})(tensor.new{1}), {0.8411920}, 1e-5)
  check_close(nn.Softmax(2)(x):sum(2), {1}, 1e-6)
  check_close(nn.LogSoftmax(2)(x), x:log_softmax(2))
  check_eq(shape(nn.Flatten()(tensor.zeros(2, 1, 28, 28))), "2,784")
  check_eq(nn.Identity()(x), x)
  expect_error(function() nn.Dropout(1.5) end, "nn.Dropout: p must be a number in [0, 1], got 1.5")
  expect_error(function() nn.Softmax() end, "nn.Softmax: missing required argument 'dim'")
  expect_error(function() nn.Softmax(1.5) end, "nn.Softmax: dim must be a whole number, got 1.5")
end)

test("BatchNorm1d: batch statistics in training, running statistics in eval", function()
  local bn = nn.BatchNorm1d(2)
  local x = tensor.new{{1, 10}, {3, 30}, {5, 50}}
  local y = bn(x)
  check_close(y:mean(1), {0, 0}, 1e-6)
  check_close(bn.running_mean, {0.3, 3}, 1e-6)                -- 0.9 * 0 + 0.1 * mean
  check_close(bn.running_var, {0.9 + 0.1 * 4, 0.9 + 0.1 * 400}, 1e-4)   -- unbiased variance
  bn:eval()
  check_close(bn(x), (x - bn.running_mean) / (bn.running_var + 1e-5):sqrt(), 1e-5)
end)

test("losses: values by hand and their errors", function()
  local logits = tensor.new{{2, 0, 0}, {0, 0, 0}}
  local target = tensor.new{1, 3}
  local l1 = -math.log(math.exp(2) / (math.exp(2) + 2))
  local l2 = -math.log(1 / 3)
  check_close(nn.CrossEntropyLoss()(logits, target), (l1 + l2) / 2, 1e-5)
  check_close(nn.CrossEntropyLoss({reduction = "sum"})(logits, target), l1 + l2, 1e-5)
  check_close(nn.CrossEntropyLoss({reduction = "none"})(logits, target), {l1, l2}, 1e-5)
  check_close(nn.NLLLoss()(logits:log_softmax(2), target), (l1 + l2) / 2, 1e-5)
  check_close(nn.MSELoss()(tensor.new{1, 2}, tensor.new{0, 0}), 2.5)
  check_close(nn.L1Loss()(tensor.new{1, -2}, tensor.new{0, 0}), 1.5)
  check_close(nn.HuberLoss()(tensor.new{0.5, 3}, tensor.new{0, 0}), (0.125 + 2.5) / 2)
  check_close(nn.BCELoss()(tensor.new{0.5}, tensor.new{1}), math.log(2), 1e-6)
  check_close(nn.BCEWithLogitsLoss()(tensor.new{0}, tensor.new{1}), math.log(2), 1e-6)
  local big = nn.CrossEntropyLoss()(tensor.new{{1000, 0}}, tensor.new{2})
  check_close(big, 1000, 1e-2)
  expect_error(function() nn.CrossEntropyLoss()(logits, tensor.new{1, 4}) end, "target 4 is out of range for 3 classes (targets are 1-based)")
  expect_error(function() nn.CrossEntropyLoss()(logits, tensor.new{0, 1}) end, "target 0 is out of range")
  expect_error(function() nn.CrossEntropyLoss({reduce = "sum"}) end, "nn.CrossEntropyLoss: reduce is not supported; PyTorch deprecated it")
  expect_error(function() nn.CrossEntropyLoss({reduc = "sum"}) end, "nn.CrossEntropyLoss: unknown option 'reduc' (arguments: weight?")
  expect_error(function() nn.MSELoss()(tensor.zeros(2), tensor.zeros(3)) end, "mse_loss: input [2] and target [3] must have the same shape")
  expect_error(function() nn.MSELoss()(tensor.zeros(2), 3) end, "MSELoss: target must be a tensor, got number")
  expect_error(function() nn.BCELoss()(tensor.new{1.5}, tensor.new{1}) end, "input values must be between 0 and 1")
  expect_error(function() nn.MSELoss({reduction = "avg"})(tensor.zeros(1), tensor.zeros(1)) end, "reduction must be 'mean', 'sum' or 'none'")
end)

test("nn.init follows PyTorch's fans and gains", function()
  local w = tensor.empty(200, 100)
  nn.init.kaiming_uniform_(w, {nonlinearity = "relu"})
  local bound = math.sqrt(2) * math.sqrt(3 / 100)
  assert(w:abs():max():item() <= bound and w:abs():max():item() > 0.9 * bound)
  nn.init.xavier_normal_(w)
  check_close(w:std(), math.sqrt(2 / 300), 0.003)
  nn.init.constant_(w, 3); check_eq(w:mean():item(), 3)
  nn.init.zeros_(w); nn.init.ones_(w); check_eq(w:sum():item(), 20000)
  nn.init.normal_(w, 1, 0.1); check_close(w:mean(), 1, 0.01)
  nn.init.uniform_(w, -1, 1); assert(w:min():item() >= -1)
  nn.init.xavier_uniform_(w, 2)
  nn.init.kaiming_normal_(w, {mode = "fan_out"})
  check_close(w:std(), math.sqrt(2) / math.sqrt(200), 0.01)
  expect_error(function() nn.init.kaiming_normal_(tensor.zeros(3)) end, "at least 2 dims")
  expect_error(function() nn.init.kaiming_normal_(w, {mdoe = "fan_in"}) end, "unknown option 'mdoe'")
  check_close(nn.init.calculate_gain("leaky_relu", 0.2), math.sqrt(2 / 1.04), 1e-9)
end)

test("metrics and clip_grad_norm_", function()
  local logits = tensor.new{{1, 0}, {0, 1}, {1, 0}}
  local y = tensor.new{1, 2, 2}
  check_close(nn.metrics.accuracy(logits, y), 2 / 3, 1e-6)
  check_close(nn.metrics.confusion_matrix(logits, y, 2), {{1, 0}, {1, 1}})
  expect_error(function() nn.metrics.accuracy(logits, tensor.new{1}) end, "targets must be a [3] tensor")
  -- a target that is no class index matches no prediction: an error, not a lower accuracy
  for _, bad in ipairs{{1.5, 2, 2}, {0 / 0, 2, 2}, {1, 3, 2}, {1, 0, 2}} do
    local t = tensor.new(bad)
    expect_error(function() nn.metrics.accuracy(logits, t) end, "is not a class index in 1..2")
    expect_error(function() nn.metrics.confusion_matrix(logits, t) end, "is not a class index in 1..2")
  end
  expect_error(function() nn.metrics.accuracy(logits, tensor.new{1, 2, 0 / 0}) end,
               "target nan (sample 3) is not a class index")
  local p = tensor.zeros(2):requires_grad_()
  p.grad = tensor.new{3, 4}
  check_close(nn.utils.clip_grad_norm_({p}, 1), 5, 1e-6)
  check_close(p.grad, {0.6, 0.8}, 1e-5)
  -- a NaN max_norm compared false with everything and clipped nothing, silently
  expect_error(function() nn.utils.clip_grad_norm_({p}, 0 / 0) end, "max_norm must be a number >= 0, got")
  expect_error(function() nn.utils.clip_grad_norm_({p}, -1) end, "max_norm must be a number >= 0")
  check_close(p.grad, {0.6, 0.8}, 1e-5, "unchanged by the refused calls")
end)

test("nn.utils.gradcheck passes for a small MLP and catches a wrong gradient", function()
  local w = tensor.randn(3, 4, tensor.Generator(2)):requires_grad_()
  local x = tensor.randn(5, 4, tensor.Generator(3)):requires_grad_()
  local ok, msg = nn.utils.gradcheck(function(a, b) return a:matmul(b:t()):tanh() end, {x, w}, {eps = 1e-2})
  assert(ok, msg)
end)

local function train(model, x, y, steps, lr)
  local loss_fn = nn.CrossEntropyLoss()
  local loss
  for _ = 1, steps do
    loss = loss_fn(model(x), y)
    model:zero_grad()
    loss:backward()
    tensor.no_grad(function()
      for _, p in ipairs(model:parameters()) do p:add_(p.grad, -lr) end
    end)
  end
  return loss:item()
end

test("an MLP learns XOR with plain gradient descent", function()
  tensor.manual_seed(0)
  local x = tensor.new{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
  local y = tensor.new{1, 2, 2, 1}
  local model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
  local loss = train(model, x, y, 500, 0.5)
  check_eq(nn.metrics.accuracy(model(x), y), 1, "XOR accuracy")
  assert(loss < 0.05, "loss " .. loss)
end)

test("an MLP separates 3 blobs to 100% training accuracy", function()
  local g = tensor.Generator(5)
  local centers = tensor.new{{2, 0}, {-1, 1.7}, {-1, -1.7}}
  local labels = {}
  for i = 1, 150 do labels[i] = (i - 1) % 3 + 1 end
  local y = tensor.new(labels)
  local x = tensor.randn(150, 2, g) * 0.4 + centers:index_select(1, y)
  local model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))
  train(model, x, y, 300, 0.2)
  check_eq(nn.metrics.accuracy(model(x), y), 1, "3-class accuracy")
end)

test("memory stays flat over 10,000 training steps", function()
  local function rss() return status_kb("VmRSS") end
  local model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
  local labels = {}
  for i = 1, 32 do labels[i] = (i - 1) % 4 + 1 end
  local x, y = tensor.randn(32, 16), tensor.new(labels)
  train(model, x, y, 500, 0.01)
  local r0 = rss()
  train(model, x, y, 10000, 0.01)
  local grown = (rss() - r0) / 1024
  local limit = os.getenv("NNLUA_ASAN") == "1" and 320 or 64
  assert(grown < limit, string.format("RSS grew by %.1f MB", grown))
end)

test("errors inside modules point at the calling script line", function()
  local l = nn.Linear(4, 3)
  local line = debug.getinfo(1, "l").currentline + 1
  local err = expect_error(function() local y = l(tensor.zeros(2, 5)); return y end, "Linear(4, 3): input of shape [2, 5]")
  assert(err:find("test_nn_modules.lua:" .. line .. ":", 1, true), err)
  assert(not err:find("stdlib", 1, true), err)
  local loss_fn = nn.CrossEntropyLoss()
  err = expect_error(function() local y = loss_fn(tensor.zeros(2, 3), tensor.new{1, 7}); return y end, "target 7 is out of range")
  assert(err:find("test_nn_modules.lua:", 1, true) and not err:find("stdlib", 1, true), err)
  local Net = nn.Module:extend("Net")
  function Net:forward(x) return x + nil end
  err = expect_error(function() local y = Net()(tensor.zeros(1)); return y end, "number expected")
  assert(err:find("test_nn_modules.lua:", 1, true), err)
end)

test("save and load a model through safetensors", function()
  local dir = os.tmpname()
  os.remove(dir)
  local path = dir .. ".safetensors"
  local a = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
  a(tensor.randn(5, 3))                      -- moves the running statistics
  a:save(path)
  local b = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
  b:load(path)
  for k, t in pairs(a:state_dict()) do check_eq(b:state_dict()[k]:equal(t), true, k) end
  local c = nn.Sequential(nn.Linear(3, 5))
  expect_error(function() c:load(path) end, "load_state_dict: missing keys")
  os.remove(path)
  expect_error(function() b:load(path) end, path)
end)

-- issue 13: a module that contains itself would make every walk recurse until
-- memory runs out; it is refused when made, and walks name a cycle made behind
-- __newindex
test("a module cannot contain itself: s:add(s), self.me = self, a.b.a = a", function()
  local s = nn.Sequential(nn.Linear(2, 2))
  expect_error(function() s:add(s) end, "Sequential.2 is Sequential itself: a module cannot contain itself")
  check_eq(#s, 1)
  local MLP = nn.Module:extend("MLP")
  function MLP:init() self.fc = nn.Linear(2, 2); self.me = self end
  expect_error(function() MLP() end, "MLP.me is MLP itself")
  local A, B = nn.Module:extend("A"), nn.Module:extend("B")
  local a, b = A(), B()
  a.b = b
  expect_error(function() b.a = a end, "B.a.b is B itself")
  local shared = nn.Linear(2, 2)                      -- sharing is not a cycle
  local twice = nn.Sequential(shared, nn.Sequential(shared))
  check_eq(#twice:parameters(), 2)
  check_eq(#twice:modules(), 4)
end)

test("a cycle made behind __newindex is named by every walk", function()
  local A, B = nn.Module:extend("A"), nn.Module:extend("B")
  local a, b = A(), B()
  a.b = b
  b.w = tensor.ones(2):requires_grad_()
  rawget(b, "_modules").a = a
  table.insert(rawget(b, "_order"), "a")
  for _, f in ipairs{"parameters", "named_parameters", "named_buffers", "state_dict", "train",
                     "eval", "modules", "zero_grad", "num_parameters"} do
    expect_error(function() return a[f](a) end, "A.b.a is A itself")
  end
  expect_error(function() a:apply(function() end) end, "A.b.a is A itself")
  expect_error(function() return tostring(a) end, "A.b.a is A itself")
  expect_error(function() a:save(os.tmpname()) end, "A.b.a is A itself")
  expect_error(function() return tostring(b) end, "B.a.b is B itself")
  local C = nn.Module:extend("C")
  local c = C()
  c.a = a                                              -- a cycle below the root
  expect_error(function() return c:parameters() end, "C.a.b.a is C.a itself")
end)
