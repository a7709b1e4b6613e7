-- Every tensor method and module function, called with every kind of bad
-- argument, raises a Lua error or returns: it never crashes the process.
-- (Under make test-asan this also proves there is no memory error behind them.)

local bad = {
  nil, false, true, 0, -1, 1e300, -1e300, 0/0, 1/0, 2.5, 2^53, math.mininteger,
  "", "x", "2", {}, {1, -1}, {0/0}, {1.5}, {{1}}, function() end, io.stdout,
  tensor.zeros(0), tensor.new(1), tensor.zeros(3, 0), tensor.ones(2, 3),
  tensor.ones(2, 3):t(), tensor.ones(1):expand(5), tensor.Generator(1),
  tensor.ones(2, 3):requires_grad_(), tensor.ones(3):requires_grad_() * 2,
}
local NBAD = 31   -- the table above holds nils, so count it by hand

local function methods()
  local names = {}
  local mt = getmetatable(tensor.zeros(1))
  for name in pairs(mt.__methods) do names[#names + 1] = name end
  table.sort(names)
  return names
end

local function try(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok and type(err) ~= "string" then error("non-string error: " .. tostring(err)) end
end

test("tensor methods with bad arguments", function()
  local calls = 0
  for _, name in ipairs(methods()) do
    for i = 1, NBAD do
      local self = bad[i]
      try(function() local t = tensor.ones(2, 3); return t[name](self) end)
      try(function() local t = tensor.ones(2, 3):requires_grad_(); return t[name](t, self) end)
      for j = 1, NBAD, 3 do
        try(function() local t = tensor.ones(2, 3); return t[name](t, bad[i], bad[j]) end)
        try(function() local t = tensor.ones(2, 3):t(); return t[name](t, bad[j], bad[i], bad[j]) end)
        calls = calls + 2
      end
    end
  end
  assert(calls > 5000)
end)

test("module functions with bad arguments", function()
  for name, fn in pairs(tensor) do
    -- save would write files named like the bad arguments ("x", "2"): it has its own tests
    if type(fn) == "function" and name ~= "set_num_threads" and name ~= "save" then
      for i = 1, NBAD do
        for j = 1, NBAD, 2 do
          try(fn, bad[i], bad[j])
          try(fn, bad[j], bad[i], bad[j])
        end
      end
    end
  end
  local g = tensor.Generator(1)
  for name, fn in pairs(getmetatable(g).__index) do
    for i = 1, NBAD do try(fn, g, bad[i]); try(fn, bad[i]) end
  end
  tensor.manual_seed(0)
end)

test("metamethods with bad operands", function()
  local t = tensor.ones(2, 3)
  for i = 1, NBAD do
    local v = bad[i]
    try(function() return t + v end); try(function() return v - t end)
    try(function() return t * v end); try(function() return v / t end)
    try(function() return t ^ v end); try(function() return t[v] end)
    try(function() t[v] = 1 end); try(function() t[1] = v end)
    try(function() return tostring(v) .. tostring(t) end)
  end
end)

test("a freed tensor (closed by a to-be-closed variable) errors instead of crashing", function()
  local keep
  do
    local t <close> = tensor.ones(3)
    keep = t
  end
  expect_error(function() return keep + 1 end, "tensor has been freed")
  check_eq(tostring(keep), "tensor(<freed>)")
end)

test("a random call that fails leaves its generator where it was", function()
  -- uniform_ and normal_ of an expanded tensor drew all their numbers and
  -- only then refused to write them, moving the generator: the same script
  -- with a pcall around a mistake then gave other numbers afterwards
  local cases = {
    {"uniform_ of an expanded tensor", function(g) tensor.zeros(1, 3):expand(4, 3):uniform_(0, 1, g) end,
     "uniform_: several elements of this tensor share memory"},
    {"normal_ of an expanded tensor", function(g) tensor.zeros(1, 3):expand(4, 3):normal_(0, 1, g) end,
     "normal_: several elements of this tensor share memory"},
    {"normal_ with std < 0", function(g) tensor.zeros(3):normal_(0, -1, g) end, "std must be >= 0"},
    {"uniform_ with a > b", function(g) tensor.zeros(3):uniform_(2, 1, g) end, "expected a <= b"},
    {"randint with low >= high", function(g) tensor.randint(5, 1, {3}, g) end, "expected low < high"},
    {"randn too large", function(g) tensor.randn(1e6, 1e6, g) end, "too large"},
    {"randperm of -1", function(g) tensor.randperm(-1, g) end, "size must be >= 0"},
    {"random_split with wrong lengths", function(g)
       data.random_split(data.TensorDataset(tensor.zeros(10, 2)), {3, 3}, g) end, "lengths sum to 6"},
    {"RandomCrop larger than the image", function(g)
       transforms.RandomCrop(40, {generator = g})(tensor.zeros(1, 28, 28)) end, "larger than"},
  }
  for _, c in ipairs(cases) do
    local g = tensor.Generator(5)
    local before = g:get_state()
    expect_error(function() c[2](g) end, c[3])
    check_eq(g:get_state() == before, true, c[1] .. ": the generator moved")
  end
  -- and the first numbers after such a failure are those of a fresh generator
  local g = tensor.Generator(5)
  pcall(function() tensor.zeros(1, 3):expand(4, 3):uniform_(0, 1, g) end)
  check_eq(tensor.rand(4, g):equal(tensor.rand(4, tensor.Generator(5))), true, "numbers after the failure")
end)
