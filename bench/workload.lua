-- workload.lua -- make bench's training workload, shared by train.lua and
-- breakdown.lua: FashionMNIST (ToTensor + Normalize) split 50,000 / 10,000 as
-- scripts/reference.lua does, a shuffling DataLoader of batches of 64, the MLP
-- 784-256-128-10 with ReLU, CrossEntropyLoss, and Adam (lr 1e-3) or SGD (lr
-- 0.1, momentum 0.9).
--   local loader, model, loss_fn, opt = require("workload")(which)
return function(which)
  local tf = transforms.Compose{transforms.ToTensor(), transforms.Normalize({0.286}, {0.353})}
  local full = datasets.FashionMNIST{train = true, transform = tf}
  local train = data.random_split(full, {50000, 10000}, tensor.Generator(42))
  local loader = data.DataLoader(train, {batch_size = 64, shuffle = true, generator = tensor.Generator(1),
                                         progress = false})
  tensor.manual_seed(7)
  local model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))
  local loss_fn = nn.CrossEntropyLoss()
  local opt
  if which == "adam" then opt = optim.Adam(model:parameters(), {lr = 1e-3})
  else opt = optim.SGD(model:parameters(), {lr = 0.1, momentum = 0.9}) end
  return loader, model, loss_fn, opt
end
