-- nn.functional losses against PyTorch: every case of tests/fixtures/losses.lua
-- (made by tests/fixtures/gen_losses.py), values and input gradients, plus
-- option handling and error messages. Class targets are 1-based.

local F = nn.functional
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local cases = assert(loadfile(here .. "/../fixtures/losses.lua"))()

-- {shape = {...}, data = {...}} -> tensor (shape {} is 0-d)
local function T(f)
  if #f.shape == 0 then return tensor.new(f.data[1]) end
  return tensor.new(f.data):reshape(table.unpack(f.shape))
end

-- the tolerance of a fixture tensor: atol + rtol * its largest magnitude
local function tol(case, f)
  local m = 0
  for _, v in ipairs(f.data) do m = math.max(m, math.abs(v)) end
  return case.atol + case.rtol * m
end

local function opts_of(case)
  local o = {}
  for k, v in pairs(case.opts) do o[k] = type(v) == "table" and T(v) or v end
  return o
end

for _, case in ipairs(cases) do
  test(case.name, function()
    local x, y = T(case.inputs[1]), T(case.inputs[2])
    x.requires_grad = true
    if case.grads[2] then y.requires_grad = true end
    local out = F[case.fn](x, y, opts_of(case))
    check_eq(table.concat(out.shape, ","), table.concat(case.expected.shape, ","), "shape")
    check_close(out, T(case.expected), tol(case, case.expected), "loss")
    if case.grad_out then out:backward(T(case.grad_out)) else out:backward() end
    check_close(x.grad, T(case.grads[1]), tol(case, case.grads[1]), "input grad")
    if case.grads[2] then check_close(y.grad, T(case.grads[2]), tol(case, case.grads[2]), "target grad") end
  end)
end

test("defaults: mean reduction, no weight, no smoothing", function()
  local z = tensor.new{{1, 2, 3}, {0.5, -1, 2}}
  local t = tensor.new{3, 1}
  local out = F.cross_entropy(z, t)
  check_eq(out:dim(), 0, "0-d")
  check_close(out, F.cross_entropy(z, t, {reduction = "mean", label_smoothing = 0}), 0)
  check_close(out, F.nll_loss(z:log_softmax(2), t), 1e-6)
  check_close(F.mse_loss(z, z * 2), (z * z):mean(), 1e-6)
  check_close(F.huber_loss(z, z * 0), F.huber_loss(z, z * 0, {delta = 1, reduction = "mean"}), 0)
end)

test("reduction none keeps the per-sample shape", function()
  local z = tensor.new{{1, 2, 3}, {0.5, -1, 2}}
  check_eq(table.concat(F.cross_entropy(z, tensor.new{3, 1}, {reduction = "none"}).shape, ","), "2")
  check_eq(table.concat(F.mse_loss(z, z, {reduction = "none"}).shape, ","), "2,3")
end)

test("large logits give a finite loss and gradient", function()
  local z = tensor.new{{1e4, -1e4, 0}, {3e4, 3e4, -5e4}}
  z.requires_grad = true
  local out = F.cross_entropy(z, tensor.new{2, 1}, {label_smoothing = 0.1})
  local v = out:item()
  check_eq(v == v and v < math.huge, true, "finite loss")
  out:backward()
  local g = z.grad:abs():max():item()
  check_eq(g == g and g < math.huge, true, "finite gradient")
end)

test("class targets are 1-based and whole", function()
  local z = tensor.zeros(2, 10)
  expect_error(function() F.cross_entropy(z, tensor.new{1, 11}) end,
               "cross_entropy: target 11 is out of range for 10 classes (targets are 1-based)")
  expect_error(function() F.cross_entropy(z, tensor.new{0, 1}) end,
               "cross_entropy: target 0 is out of range for 10 classes (targets are 1-based)")
  expect_error(function() F.cross_entropy(z, tensor.new{2.5, 1}) end,
               "cross_entropy: target 2.5 is not a whole number")
  expect_error(function() F.nll_loss(z, tensor.new{1, 11}) end,
               "nll_loss: target 11 is out of range for 10 classes")
end)

test("shape mismatches name both shapes", function()
  local a, b = tensor.zeros(2, 3), tensor.zeros(3, 2)
  for _, fn in ipairs{"mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "huber_loss"} do
    local err = expect_error(function() F[fn](a, b) end, fn)
    check_eq(err:find("[2, 3]", 1, true) ~= nil and err:find("[3, 2]", 1, true) ~= nil, true, err)
  end
  local err = expect_error(function() F.cross_entropy(tensor.zeros(2, 10), tensor.new{1, 2, 3}) end,
                           "cross_entropy")
  check_eq(err:find("[2, 10]", 1, true) ~= nil and err:find("[3]", 1, true) ~= nil, true, err)
end)

test("binary_cross_entropy wants probabilities", function()
  expect_error(function() F.binary_cross_entropy(tensor.new{0.5, 1.5}, tensor.new{1, 0}) end,
               "binary_cross_entropy: input values must be between 0 and 1")
end)

test("bad options", function()
  local z = tensor.zeros(2, 3)
  expect_error(function() F.mse_loss(z, z, {reduction = "avg"}) end, "reduction")
  expect_error(function() F.cross_entropy(z, tensor.new{1, 2}, {label_smoothing = 1.5}) end, "label_smoothing")
  expect_error(function() F.huber_loss(z, z, {delta = 0}) end, "delta")
end)
