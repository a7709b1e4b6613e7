-- nn.functional layers against PyTorch: linear, leaky_relu, gelu, dropout,
-- batch_norm. Values and gradients (of sum(y * r)) come from
-- tests/fixtures/layers.lua, made by tests/fixtures/gen_layers.py; each entry
-- is {shape = {...}, data = {...}} (row-major), named "<case>.<what>".

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local fx = assert(loadfile(here .. "/../fixtures/layers.lua"))()

local F = nn.functional

local TOL = 1e-5

-- the fixture tensor called name; grad: a leaf that requires grad
local function T(name, grad)
  local e = assert(fx[name], "fixture has no " .. name)
  local t = tensor.new(e.data):view(table.unpack(e.shape))
  if grad then t.requires_grad = true end
  return t
end

-- y and the gradients of sum(y * r) for the case c; leaves: {suffix = tensor}
local function check_case(c, y, leaves, tol)
  tol = tol or TOL
  check_close(y, T(c .. ".y"), tol, c .. ".y")
  local loss = (y * T(c .. ".r")):sum()
  loss:backward()
  for s, t in pairs(leaves) do
    check_close(t.grad, T(c .. ".d" .. s), tol, c .. ".d" .. s)
  end
end

-- ---------------------------------------------------------------- linear

test("linear matches PyTorch", function()
  local x, w, b = T("lin.x", true), T("lin.w", true), T("lin.b", true)
  local y = F.linear(x, w, b)
  check_eq(y.grad_fn, "AddmmBackward0")
  check_case("lin", y, {x = x, w = w, b = b})
end)

test("linear: 3-d input, no bias", function()
  local x, w = T("lin3.x", true), T("lin3.w", true)
  local y = F.linear(x, w)
  check_eq(table.concat(y.shape, ","), "2,3,5")
  check_case("lin3", y, {x = x, w = w})
end)

test("linear: 1-d input and hand-checked values", function()
  local w = tensor.new{{1, 0, -1}, {0.5, 0.5, 0.5}}
  local b = tensor.new{10, 20}
  check_close(F.linear(tensor.new{1, 2, 3}, w, b), tensor.new{8, 23})
  check_close(F.linear(tensor.new{{1, 2, 3}, {4, 5, 6}}, w), tensor.new{{-2, 3}, {-2, 7.5}})
  -- a transposed (strided) input
  local xt = tensor.new{{1, 4}, {2, 5}, {3, 6}}:t()
  check_close(F.linear(xt, w, b), tensor.new{{8, 23}, {8, 27.5}})
end)

test("linear: shape errors name both shapes", function()
  local x, w = tensor.zeros(64, 784), tensor.zeros(256, 748)
  expect_error(function() F.linear(x, w) end,
               "input of shape [64, 784] does not match weight of shape [256, 748] (784 vs 748)")
  expect_error(function() F.linear(x, tensor.zeros(256, 784), tensor.zeros(255)) end,
               "bias of shape [255] does not match weight of shape [256, 784]")
  expect_error(function() F.linear(x) end, "linear")
end)

-- ---------------------------------------------------------------- activations

test("leaky_relu matches PyTorch", function()
  local x = T("leaky.x", true)
  local y = F.leaky_relu(x, 0.2)
  check_eq(y.grad_fn, "LeakyReluBackward0")
  check_case("leaky", y, {x = x})
end)

test("gelu (erf) matches PyTorch", function()
  local x = T("gelu.x", true)
  local y = F.gelu(x)
  check_eq(y.grad_fn, "GeluBackward0")
  check_case("gelu", y, {x = x})
  check_close(F.gelu(tensor.new{1, -1, 0}), tensor.new{0.8413447461, -0.1586552539, 0}, 1e-6)
end)

test("gelu (tanh) matches PyTorch", function()
  local x = T("gelut.x", true)
  check_case("gelut", F.gelu(x, {approximate = "tanh"}), {x = x})
  check_close(F.gelu(T("gelu.x"), {approximate = "none"}), T("gelu.y"), TOL)
end)

test("gelu: bad options", function()
  expect_error(function() F.gelu(tensor.zeros(2), {aproximate = "tanh"}) end, "aproximate")
  expect_error(function() F.gelu(tensor.zeros(2), {approximate = "fast"}) end, "fast")
end)

-- ---------------------------------------------------------------- dropout

test("dropout: inverted scaling, mask reused by backward, generator", function()
  local x = tensor.ones(100, 100)
  x.requires_grad = true
  local y = F.dropout(x, 0.25, true, tensor.Generator(7))
  check_eq(y.grad_fn, "NativeDropoutBackward0")
  local kept = y:ne(0):sum():item()
  assert(kept > 7300 and kept < 7700, "kept " .. kept .. " of 10000 at p = 0.25")
  check_close(y:masked_fill(y:eq(0), 1 / 0.75), tensor.full({100, 100}, 1 / 0.75), 1e-6)
  y:sum():backward()
  check_close(x.grad, y:detach(), 0)
  -- the same seed gives the same mask
  check_close(F.dropout(x, 0.25, true, tensor.Generator(7)), y, 0)
end)

test("dropout: eval and p = 0 return the input, p = 1 gives zeros", function()
  local x = tensor.randn(3, 4)
  check_eq(rawequal(F.dropout(x, 0.5, false), x) or F.dropout(x, 0.5, false):equal(x), true)
  check_close(F.dropout(x, 0, true), x, 0)
  check_close(F.dropout(x, 1, true), tensor.zeros(3, 4), 0)
end)

test("dropout: p outside [0, 1]", function()
  local x = tensor.zeros(2)
  expect_error(function() F.dropout(x, 1.5, true) end, "probability has to be between 0 and 1, but got 1.5")
  expect_error(function() F.dropout(x, -0.1, true) end, "probability has to be between 0 and 1")
end)

-- ---------------------------------------------------------------- batch_norm

local function bn_case(c, training)
  local x, w, b = T(c .. ".x", true), T(c .. ".w", true), T(c .. ".b", true)
  local rm, rv = T(c .. ".rm"), T(c .. ".rv")
  local y = F.batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5)
  check_eq(y.grad_fn, "NativeBatchNormBackward0")
  check_case(c, y, {x = x, w = w, b = b}, 1e-4)
  if training then
    check_close(rm, T(c .. ".rm1"), 1e-6, c .. ".running_mean")
    check_close(rv, T(c .. ".rv1"), 1e-6, c .. ".running_var")
  else
    check_close(rm, T(c .. ".rm"), 0, "eval leaves running_mean")
    check_close(rv, T(c .. ".rv"), 0, "eval leaves running_var")
  end
end

test("batch_norm training [N, C] matches PyTorch (with running stats)", function() bn_case("bn", true) end)
test("batch_norm eval matches PyTorch", function() bn_case("bne", false) end)
test("batch_norm training [N, C, L] matches PyTorch", function() bn_case("bn3", true) end)

test("batch_norm without running stats, weight or bias", function()
  local x = T("bnnw.x", true)
  check_case("bnnw", F.batch_norm(x, nil, nil, nil, nil, true, 0.1, 1e-5), {x = x}, 1e-4)
end)

test("batch_norm errors", function()
  expect_error(function() F.batch_norm(tensor.zeros(3), nil, nil, nil, nil, true, 0.1, 1e-5) end,
               "expected a 2-d or 3-d input")
  expect_error(function() F.batch_norm(tensor.zeros(1, 3), nil, nil, nil, nil, true, 0.1, 1e-5) end,
               "more than 1 value per channel")
  expect_error(function() F.batch_norm(tensor.zeros(4, 3), nil, nil, tensor.ones(2), nil, true, 0.1, 1e-5) end,
               "weight of shape [2] does not match input of shape [4, 3]")
  expect_error(function() F.batch_norm(tensor.zeros(4, 3), nil, nil, nil, nil, false, 0.1, 1e-5) end,
               "required in eval mode")
end)
