-- Every nn constructor takes PyTorch's arguments in PyTorch's order, or by
-- PyTorch's name in one trailing table (required ones too). Table-driven:
-- each row is a class, PyTorch's argument names in order, and values to pass.
local w3 = tensor.new{1, 2, 0.5}
local CASES = {
  {"Linear", {"in_features", "out_features", "bias", "device", "dtype"}, {3, 2, false, "cpu", "float32"}},
  {"ReLU", {"inplace"}, {false}},
  {"Sigmoid", {}, {}},
  {"Tanh", {}, {}},
  {"Identity", {}, {}},
  {"LeakyReLU", {"negative_slope", "inplace"}, {0.2, false}},
  {"GELU", {"approximate"}, {"tanh"}},
  {"Softmax", {"dim"}, {2}},
  {"LogSoftmax", {"dim"}, {1}},
  {"Flatten", {"start_dim", "end_dim"}, {1, 2}},
  {"Dropout", {"p", "inplace"}, {0.25, false}},
  {"BatchNorm1d", {"num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype"},
   {3, 1e-3, 0.2, false, false, "cpu", "float32"}},
  {"CrossEntropyLoss", {"weight", "size_average", "ignore_index", "reduce", "reduction", "label_smoothing"},
   {w3, nil, -100, nil, "sum", 0.1}},
  {"NLLLoss", {"weight", "size_average", "ignore_index", "reduce", "reduction"}, {w3, nil, -100, nil, "sum"}},
  {"MSELoss", {"size_average", "reduce", "reduction"}, {nil, nil, "sum"}},
  {"L1Loss", {"size_average", "reduce", "reduction"}, {nil, nil, "none"}},
  {"BCELoss", {"weight", "size_average", "reduce", "reduction"}, {w3, nil, nil, "sum"}},
  {"BCEWithLogitsLoss", {"weight", "size_average", "reduce", "reduction", "pos_weight"}, {w3, nil, nil, "sum", nil}},
  {"HuberLoss", {"reduction", "delta"}, {"sum", 0.5}},
}

-- what an instance does: its printout, its parameters and buffers, and its
-- output on a fixed input (losses: a fixed input and target)
local function behaviour(name, m)
  local parts = {tostring(m)}
  for k, t in pairs(m:state_dict()) do parts[#parts + 1] = k .. "=" .. tostring(t) end
  table.sort(parts)
  tensor.manual_seed(3)
  local out
  if name:find("Loss$") then
    local x = tensor.rand(2, 3)
    local y = name:find("^BCE") and tensor.rand(2, 3) or name:find("Entropy") and tensor.new{1, 3}
              or name == "NLLLoss" and tensor.new{2, 3} or tensor.rand(2, 3)
    out = m(x, y)
  else
    out = m(tensor.rand(4, 3))
  end
  parts[#parts + 1] = tostring(out)
  return table.concat(parts, "\n")
end

local function build(name, ...)
  tensor.manual_seed(11)
  return nn[name](...)
end

for _, case in ipairs(CASES) do
  local name, names, values = table.unpack(case)
  local n = #names
  local named = {}
  for i = 1, n do named[names[i]] = values[i] end

  test("nn." .. name .. ": the spec lists PyTorch's arguments in PyTorch's order", function()
    local spec = nn[name].spec
    local got = {}
    for i, e in ipairs(spec) do got[i] = e[1] end
    check_eq(table.concat(got, ", "), table.concat(names, ", "))
  end)

  test("nn." .. name .. ": positional, named and mixed forms build the same module", function()
    local want = behaviour(name, build(name, table.unpack(values, 1, n)))
    check_eq(behaviour(name, build(name, named)), want, "named")
    if n >= 1 then
      local rest = {}
      for i = 2, n do rest[names[i]] = values[i] end
      check_eq(behaviour(name, build(name, values[1], rest)), want, "first positional, rest named")
    end
  end)

  test("nn." .. name .. ": errors name the argument and list the valid names", function()
    local err = expect_error(function() build(name, {bogus = 1}) end, "nn." .. name .. ": unknown option 'bogus'")
    for _, k in ipairs(names) do assert(err:find(k, 1, true), err) end
    assert(err:find("test_constructors_nn.lua:%d+:"), err)
    for i = 1, n do
      if values[i] ~= nil then
        local both = {table.unpack(values, 1, i)}
        both[i + 1] = {[names[i]] = values[i]}
        expect_error(function() build(name, table.unpack(both, 1, i + 1)) end,
                     "'" .. names[i] .. "' given twice, as argument #" .. i .. " and by name")
      end
    end
    local too_many = {}
    for i = 1, n + 1 do too_many[i] = 0 end
    expect_error(function() build(name, table.unpack(too_many, 1, n + 1)) end, "too many arguments")
  end)
end

test("required arguments: missing ones are named, and they may be given by name", function()
  expect_error(function() nn.Linear() end, "nn.Linear: missing required argument 'in_features'")
  expect_error(function() nn.Linear(3) end, "nn.Linear: missing required argument 'out_features'")
  expect_error(function() nn.Linear(3, {bias = false}) end, "missing required argument 'out_features'")
  expect_error(function() nn.BatchNorm1d() end, "nn.BatchNorm1d: missing required argument 'num_features'")
  expect_error(function() nn.Softmax() end, "nn.Softmax: missing required argument 'dim'")
  check_eq(nn.Linear{in_features = 3, out_features = 2, bias = false}.bias, nil)
  check_eq(tostring(nn.Linear(3, {out_features = 2})), "Linear(in_features=3, out_features=2, bias=true)")
end)

test("the issue's cases: Linear(3, 2, false), LeakyReLU{negative_slope}, Dropout{p}, Softmax{dim}", function()
  check_eq(nn.Linear(3, 2, false).bias, nil)
  assert(nn.Linear(3, 2, true).bias ~= nil)
  local y = nn.LeakyReLU{negative_slope = 0.1}(tensor.new{-1, 2})
  check_close(y, {-0.1, 2}, 1e-7)
  check_eq(tostring(nn.LeakyReLU{negative_slope = 0.1}), "LeakyReLU(negative_slope=0.1)")
  check_eq(nn.Dropout{p = 0.5}.p, 0.5)
  check_close(nn.Softmax{dim = 2}(tensor.new{{1, 1}}), {{0.5, 0.5}}, 1e-7)
end)

test("values are checked: types, ranges, unsupported PyTorch options", function()
  expect_error(function() nn.Linear(3, 2, "yes") end, "nn.Linear: bias must be true or false, got \"yes\"")
  expect_error(function() nn.Linear(0, 2) end, "in_features must be a whole number >= 1, got 0")
  expect_error(function() nn.Linear(2.5, 2) end, "in_features must be a whole number >= 1, got 2.5")
  expect_error(function() nn.Dropout(0 / 0) end, "nn.Dropout: p must be a number in [0, 1]")
  expect_error(function() nn.LeakyReLU("x") end, "nn.LeakyReLU: negative_slope must be a number")
  expect_error(function() nn.GELU("fast") end, "approximate must be 'none' or 'tanh', got \"fast\"")
  expect_error(function() nn.ReLU(true) end, "nn.ReLU: inplace = true is not supported")
  expect_error(function() nn.Linear(3, 2, {device = "cuda"}) end, "nn.Linear: device = \"cuda\" is not supported")
  expect_error(function() nn.MSELoss(true) end, "nn.MSELoss: size_average is not supported; PyTorch deprecated it")
  expect_error(function() nn.NLLLoss{ignore_index = 0} end, "nn.NLLLoss: ignore_index = 0 is not supported")
  expect_error(function() nn.BCEWithLogitsLoss{pos_weight = tensor.ones(1)} end, "pos_weight is not supported")
  expect_error(function() nn.CrossEntropyLoss("mean") end, "nn.CrossEntropyLoss: weight must be a tensor, got \"mean\"")
end)

test("BatchNorm1d without running statistics uses batch statistics in eval mode too", function()
  local bn = nn.BatchNorm1d(2, {affine = false, track_running_stats = false})
  check_eq(#bn:state_dict() == 0 and next(bn:state_dict()), nil, "no buffers")
  bn:eval()
  local y = bn(tensor.new{{1, 2}, {3, 6}})
  check_close(y, {{-1, -1}, {1, 1}}, 1e-4)
end)

test("a class defined with __init (a Python habit) is told to name it init", function()
  local M = nn.Module:extend("M")
  expect_error(function() function M:__init() end end, "M:__init: nnlua calls init, not __init")
end)

test("nn.Parameter(data [, requires_grad]) in order or by name", function()
  check_eq(nn.Parameter(tensor.zeros(2)).requires_grad, true)
  check_eq(nn.Parameter(tensor.zeros(2), false).requires_grad, false)
  check_eq(nn.Parameter{data = tensor.zeros(2), requires_grad = false}.requires_grad, false)
  expect_error(function() nn.Parameter() end, "nn.Parameter: missing required argument 'data'")
  expect_error(function() nn.Parameter(3) end, "nn.Parameter: data must be a tensor, got 3")
end)
