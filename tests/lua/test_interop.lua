-- PyTorch interop, both ways, against Debian's python3-torch in /usr/bin/python3
-- (CI installs it with `make deps`; without it these tests fail, never skip).
--
-- nnlua trains the course MLP briefly and saves it; tests/interop/torch_side.py
-- loads it into the same PyTorch architecture with tests/interop/st.py (the
-- reader docs/interop.md shows), trains a PyTorch model of its own and saves
-- it; then both models must give the same logits (each within
-- 1e-5 * max(1, |logit|)) and the same argmax on all 10,000 test images, on
-- either side. The examples of docs/interop.md run end to end too.

local PY = "/usr/bin/python3"
local FMNIST = "/usr/share/datasets/fashion-mnist"
local HERE = "tests/interop"

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- runs python with args (already quoted) in folder cwd; returns ok, output.
-- The environment is a clean one: no LD_PRELOAD or ASAN_OPTIONS from make
-- test-asan, no PYTHONPATH or virtualenv of the caller.
local function python(cwd, args)
  local cmd = string.format("cd %s && env -i PATH=/usr/bin:/bin HOME=%s LANG=C.UTF-8 %s %s 2>&1",
                            shell_quote(cwd), shell_quote(cwd), PY, args)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return ok == true, out
end

local torch_ok, torch_why = python(".", "-c 'import torch, numpy'")
local function need_torch()
  if not torch_ok then
    error("the PyTorch interop tests need " .. PY .. " with torch and numpy (`make deps` installs "
          .. "python3-torch and python3-numpy); importing them said:\n" .. torch_why, 0)
  end
end

local repo
do
  local p = assert(io.popen("pwd"))
  repo = p:read("l")
  p:close()
end

test("/usr/bin/python3 has torch and numpy", need_torch)

-- ---- nn.utils.shift_index ----

test("shift_index renumbers every whole-number part of the names, both ways", function()
  local a, b, c = tensor.zeros(1), tensor.zeros(2), tensor.zeros(3)
  local sd = {["2.weight"] = a, ["features.1.3.bias"] = b, ["fc1.weight"] = c, ["10.x"] = a,
              ["01.y"] = b, ["v2.z"] = c, ["1e3.w"] = a, ["0x1.w"] = b}
  local down = nn.utils.shift_index(sd, -1)
  local want = {["1.weight"] = a, ["features.0.2.bias"] = b, ["fc1.weight"] = c, ["9.x"] = a,
                ["01.y"] = b, ["v2.z"] = c, ["1e3.w"] = a, ["0x1.w"] = b}
  local n = 0
  for k, v in pairs(down) do
    n = n + 1
    check_eq(rawequal(v, want[k]), true, "down[" .. k .. "] is the same tensor")
  end
  check_eq(n, 8, "number of names")
  local up = nn.utils.shift_index(down, 1)
  for k, v in pairs(sd) do check_eq(rawequal(up[k], v), true, "back up: " .. k) end
  check_eq(sd["2.weight"], a, "the input is left as it was")
  check_eq(next(nn.utils.shift_index({}, 5)), nil, "empty")
  local same = nn.utils.shift_index(sd, 0)
  for k, v in pairs(sd) do check_eq(same[k], v, "delta 0: " .. k) end
  -- values need not be tensors (any table of names)
  check_eq(nn.utils.shift_index({["3"] = "x"}, -3)["0"], "x", "a bare number")
end)

test("shift_index on models: Sequential in Sequential, Sequential in a named field", function()
  local Net = nn.Module:extend("Net")
  function Net:init()
    self.features = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 4)))
    self.head = nn.Linear(4, 2)
  end
  local names = {}
  for k in pairs(nn.utils.shift_index(Net():state_dict(), -1)) do names[#names + 1] = k end
  table.sort(names)
  check_eq(table.concat(names, " "), "features.0.bias features.0.weight features.2.0.bias "
           .. "features.2.0.weight head.bias head.weight")
  local outer = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)))
  names = {}
  for k in pairs(nn.utils.shift_index(outer:state_dict(), -1)) do names[#names + 1] = k end
  table.sort(names)
  check_eq(table.concat(names, " "), "1.0.bias 1.0.weight 1.1.bias 1.1.weight")
  -- a state dict renumbered down and back loads into the model it came from
  local m = Net()
  m:load_state_dict(nn.utils.shift_index(nn.utils.shift_index(m:state_dict(), -1), 1))
end)

test("shift_index errors", function()
  expect_error(function() nn.utils.shift_index({["0.weight"] = 1}, -1) end,
               "shift_index: '0.weight': 0-1 is out of range")
  expect_error(function() nn.utils.shift_index({["a.99999999999999999999"] = 1}, 1) end, "is out of range")
  expect_error(function() nn.utils.shift_index({[math.maxinteger .. ""] = 1}, 1) end, "is out of range")
  expect_error(function() nn.utils.shift_index({[1] = 1}, 1) end, "key 1 is a integer, expected a string name")
  expect_error(function() nn.utils.shift_index({}, 0.5) end, "delta must be an integer")
  expect_error(function() nn.utils.shift_index({}) end, "delta must be an integer")
  expect_error(function() nn.utils.shift_index("sd", 1) end, "expected a state dict")
  local err = expect_error(function() nn.utils.shift_index({["0.w"] = 1}, -1) end, "out of range")
  assert(err:find("test_interop.lua:%d+:"), err)
end)

-- ---- st.py is the code docs/interop.md shows ----

local function fenced(text, lang)
  local out = {}
  for code in text:gmatch("```" .. lang .. "\n(.-)```") do out[#out + 1] = code end
  return out
end

test("docs/interop.md shows tests/interop/st.py verbatim", function()
  local doc, st = read_file("docs/interop.md"), read_file(HERE .. "/st.py")
  local found = false
  for _, code in ipairs(fenced(doc, "python")) do if code == st then found = true end end
  assert(found, "no ```python block of docs/interop.md equals tests/interop/st.py")
  local lines = select(2, st:gsub("\n", ""))
  assert(lines <= 45, "st.py has " .. lines .. " lines")
end)

-- ---- the course MLP, both ways ----

local function mlp()
  return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                       nn.Linear(128, 10))
end

local tf = transforms.Compose{transforms.ToTensor(), transforms.Normalize({0.286}, {0.353})}

local test_x, test_y
-- the 10,000 test images (and labels) as one batch, in file order
local function test_images()
  if not test_x then
    local ds = datasets.FashionMNIST{root = FMNIST, train = false, transform = tf}
    test_x, test_y = data.DataLoader(ds, {batch_size = #ds}):iter()()
  end
  return test_x, test_y
end

local function logits(model)
  model:eval()
  return tensor.no_grad(function() return model(test_images()) end)
end

-- largest |a - b| / max(1, |b|); fails on any element over 1e-5, or any argmax that differs
local function compare(a, b, what)
  check_eq(table.concat(a.shape, "x"), "10000x10", what .. ": shape")
  local rel = ((a - b):abs() / b:abs():clamp(1, math.huge)):max():item()
  if not (rel <= 1e-5) then error(string.format("%s: a logit differs by %.3g relative", what, rel), 2) end
  local same = a:argmax(2):eq(b:argmax(2)):sum():item()
  if same ~= 10000 then error(string.format("%s: argmax differs on %d images", what, 10000 - same), 2) end
  return rel
end

local dir   -- made by run_both, removed by the last test
local state   -- what the run of torch_side.py left: nil before, {model, out} after, or an error

local function run_both()
  if state then
    if state.err then error(state.err, 0) end
    return state
  end
  state = {err = "the nnlua and PyTorch halves did not finish"}
  need_torch()
  dir = tmpdir()
  -- nnlua trains: 2 epochs of 200 steps on the first 12,800 training images
  tensor.manual_seed(0)
  local train = data.Subset(datasets.FashionMNIST{root = FMNIST, train = true, transform = tf},
                            tensor.arange(1, 12801))
  local loader = data.DataLoader(train, {batch_size = 64, shuffle = true})
  local model = mlp()
  local opt = optim.SGD(model:parameters(), {lr = 0.05, momentum = 0.9})
  local loss_fn = nn.CrossEntropyLoss()
  for _ = 1, 2 do
    for x, y in loader:iter() do
      opt:zero_grad()
      loss_fn(model(x), y):backward()
      opt:step()
    end
  end
  model:save(dir .. "/nnlua.safetensors")
  tensor.save(nn.utils.shift_index(model:state_dict(), -1), dir .. "/nnlua_0based.safetensors")
  local ok, out = python(dir, shell_quote(repo .. "/" .. HERE .. "/torch_side.py") .. " "
                         .. shell_quote(dir) .. " " .. shell_quote(FMNIST))
  if not ok then
    state.err = "tests/interop/torch_side.py failed:\n" .. out
    error(state.err, 0)
  end
  state = {model = model, out = tensor.load(dir .. "/out.safetensors")}
  return state
end

local diffs = {}

test("both sides normalise the test images to the same float32 values", function()
  local s = run_both()
  check_eq(s.out.inputs:equal(test_images():narrow(1, 1, 100)), true, "first 100 test images")
end)

test("a model trained in nnlua (model:save) gives the same test predictions in PyTorch", function()
  local s = run_both()
  diffs.to_torch = compare(s.out.logits_nnlua, logits(s.model), "nnlua -> PyTorch")
  -- the model learnt something: most of the test set is right
  local acc = nn.metrics.accuracy(s.out.logits_nnlua, select(2, test_images()))
  assert(acc > 0.75, "test accuracy " .. acc)
end)

test("a PyTorch state dict loads into nnlua with the same test predictions", function()
  local s = run_both()
  -- PyTorch's names, numbered from 0: renumbered on load
  local sd = tensor.load(dir .. "/torch.safetensors")
  check_eq(tensor.is_tensor(sd["0.weight"] or sd["1.weight"]), true, "flat names from another program")
  local model = mlp()
  model:load_state_dict(nn.utils.shift_index(sd, 1))
  diffs.to_nnlua = compare(logits(model), s.out.logits_torch, "PyTorch -> nnlua")
  -- renumbered by st.shift_index(sd, 1) in Python: model:load as it is
  local again = mlp()
  again:load(dir .. "/torch_1based.safetensors")
  for k, v in pairs(model:state_dict()) do check_eq(again:state_dict()[k]:equal(v), true, k) end
  -- without renumbering, the names do not fit and nothing is loaded
  expect_error(function() mlp():load(dir .. "/torch.safetensors") end, "missing keys")
end)

-- ---- docs/interop.md, end to end: its lua and python blocks in order ----

-- runs the example blocks of docs/interop.md in order, their files in ddir;
-- returns how many ran
local function run_doc(ddir)
  local doc, st = read_file("docs/interop.md"), read_file(HERE .. "/st.py")
  write_file(ddir .. "/st.py", st)   -- next to the examples, as the page says to save it
  -- the lua blocks read and write their files in ddir, as the python ones do (cwd)
  local tsave, tload = tensor.save, tensor.load
  local function at(p) return p:sub(1, 1) == "/" and p or ddir .. "/" .. p end
  local n = 0
  for lang, code in doc:gmatch("```(%a+)\n(.-)```") do
    if lang == "lua" then
      n = n + 1
      local env = setmetatable({print = function() end}, {__index = _G})
      local chunk = assert(load(code, "=docs/interop.md:example" .. n, "t", env))
      tensor.save = function(v, p) return tsave(v, at(p)) end   -- m:save and m:load too
      tensor.load = function(p) return tload(at(p)) end
      local ok, err = pcall(chunk)
      tensor.save, tensor.load = tsave, tload
      if not ok then error("docs/interop.md example " .. n .. " (lua): " .. tostring(err), 0) end
    elseif lang == "python" and code ~= st then
      n = n + 1
      write_file(ddir .. "/example.py", code)
      local ok, out = python(ddir, "example.py")
      if not ok then error("docs/interop.md example " .. n .. " (python) failed:\n" .. out, 0) end
    end
  end
  return n
end

test("docs/interop.md examples run end to end (nnlua -> PyTorch -> nnlua)", function()
  need_torch()
  local ddir = tmpdir()
  local ok, n = pcall(run_doc, ddir)
  os.execute("rm -rf " .. shell_quote(ddir))
  if not ok then error(n, 0) end
  check_eq(n, 4, "example blocks in docs/interop.md")
end)

test("interop summary", function()
  run_both()
  if diffs.to_torch and diffs.to_nnlua then
    print(string.format("interop: largest logit difference / max(1, |logit|) over 10,000 test images: "
                        .. "nnlua -> PyTorch %.3g, PyTorch -> nnlua %.3g", diffs.to_torch, diffs.to_nnlua))
  end
  if dir then os.execute("rm -rf " .. shell_quote(dir)) end
end)
