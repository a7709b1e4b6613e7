-- tensor.save / tensor.load: safetensors checkpoints round-trip tensors and
-- nested tables exactly (structure, key types, leaf types), read files written
-- by PyTorch (tests/fixtures/torch_written.safetensors, made by
-- tests/fixtures/gen_safetensors.py), and reject bad values and bad files with
-- an error that names the key or the file.

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."

local function tmppath()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".safetensors"
end

-- a and b equal: same keys with the same types, same leaf types and values,
-- tensors of the same shape and values.
local function same(a, b, path)
  path = path or "value"
  if tensor.is_tensor(a) then
    assert(tensor.is_tensor(b), path .. ": expected a tensor, got " .. type(b))
    check_eq(table.concat(b.shape, ","), table.concat(a.shape, ","), path .. " shape")
    if a:numel() > 0 then check_close(b, a, 0, path) end
    return
  end
  check_eq(type(b), type(a), path .. " type")
  if type(a) == "number" then
    check_eq(math.type(b), math.type(a), path .. " number type")
    if a == a then check_eq(b, a, path) else assert(b ~= b, path .. ": expected nan") end
  elseif type(a) ~= "table" then
    check_eq(b, a, path)
  else
    for k, v in pairs(a) do
      local w = rawget(b, k)
      assert(w ~= nil, path .. ": key " .. tostring(k) .. " (" .. (math.type(k) or type(k)) .. ") missing")
      same(v, w, path .. "." .. tostring(k))
    end
    for k in pairs(b) do
      assert(rawget(a, k) ~= nil, path .. ": extra key " .. tostring(k) .. " (" .. (math.type(k) or type(k)) .. ")")
    end
  end
end

local function roundtrip(v)
  local p = tmppath()
  tensor.save(v, p)
  local w = tensor.load(p)
  os.remove(p)
  same(v, w)
  return w
end

test("a single tensor", function()
  local x = tensor.randn(3, 4)
  local y = roundtrip(x)
  assert(tensor.is_tensor(y))
  check_close(y, x, 0)
end)

test("a state_dict-like flat table", function()
  roundtrip({["fc1.weight"] = tensor.randn(4, 3), ["fc1.bias"] = tensor.randn(4),
             ["fc2.weight"] = tensor.randn(2, 4), ["fc2.bias"] = tensor.zeros(2)})
end)

test("nested tables with integer and string keys and mixed leaves", function()
  local v = {
    model = {fc1 = {weight = tensor.randn(2, 3), bias = tensor.randn(2)}},
    optim = {state = {[1] = {step = 10, exp_avg = tensor.randn(2, 3)},
                      [2] = {step = 10, exp_avg = tensor.randn(2)}},
             param_groups = {{lr = 1e-3, betas = {0.9, 0.999}, amsgrad = false, name = "adam"}}},
    [1] = "integer one", ["1"] = "string one", [-7] = 0.5, [math.maxinteger] = math.mininteger,
    empty = {}, nested_empty = {{}, {{}}},
    floats = {1.0, -0.0, 1 / 0, -1 / 0, 0 / 0, 2 ^ 60, 0.1},
    ints = {0, -1, (1 << 53) + 1, math.maxinteger},
    bools = {true, false},
    strs = {"", "héllo", "a\0b", "\255\254", "quote\" back\\ nl\n"},
    ["key.with.dots"] = tensor.ones(2), ["100%"] = tensor.ones(1),
    ["\0bin\255"] = {x = tensor.full({2}, 3)},
  }
  local w = roundtrip(v)
  check_eq(math.type(w.floats[1]), "float")
  check_eq(1 / w.floats[2], -1 / 0, "-0.0 keeps its sign")
end)

test("tensor names are dotted key paths", function()
  local p = tmppath()
  tensor.save({fc1 = {weight = tensor.ones(2, 2)}, state = {{exp_avg = tensor.zeros(1)}},
               ["a.b"] = tensor.ones(1), [1] = tensor.ones(1), ["1"] = tensor.ones(1)}, p)
  local s = read_file(p)
  os.remove(p)
  local n = string.unpack("<I8", s)
  check_eq(n % 8, 0, "header padded to 8")
  local h = s:sub(9, 8 + n)
  for _, name in ipairs({'"fc1.weight"', '"state.1.exp_avg"', '"a%2Eb"', '"1"', '"1~2"',
                         '"format":"pt"'}) do
    assert(h:find(name, 1, true), name .. " not in header " .. h)
  end
end)

test("non-contiguous tensors are saved contiguous", function()
  local base = tensor.arange(0, 24):view(2, 3, 4)
  local v = {t = base:transpose(1, 3), n = base:narrow(2, 2, 2), e = tensor.ones(3, 1):expand(3, 4)}
  local w = roundtrip(v)
  check_close(w.t, base:transpose(1, 3):contiguous(), 0)
  check_eq(w.t:size(1), 4)
end)

test("0-d and empty tensors", function()
  local w = roundtrip({s = tensor.new(2.5), e = tensor.zeros(0), e2 = tensor.zeros(3, 0, 2)})
  check_eq(w.s:dim(), 0)
  check_eq(w.s:item(), 2.5)
  check_eq(w.e2:size(2), 0)
  roundtrip(tensor.new(-1.25))
  roundtrip(tensor.zeros(0))
  roundtrip({})
end)

test("a shared subtable is saved twice, the same tensor twice", function()
  local t, sub = tensor.ones(2), {a = 1}
  local w = roundtrip({x = t, y = t, p = sub, q = sub})
  check_close(w.x, w.y, 0)
end)

test("overwriting a file", function()
  local p = tmppath()
  tensor.save({a = tensor.ones(100)}, p)
  tensor.save({b = tensor.zeros(2)}, p)
  local w = tensor.load(p)
  os.remove(p)
  assert(w.a == nil and w.b:numel() == 2)
end)

test("a file written by PyTorch loads as a flat table", function()
  local w = tensor.load(here .. "/../fixtures/torch_written.safetensors")
  local names = {}
  for k in pairs(w) do names[#names + 1] = k end
  table.sort(names)
  check_eq(table.concat(names, " "), "half linear.bias linear.weight scalar")
  check_close(w["linear.weight"], tensor.new({{-0.5, -0.25, 0.0}, {0.25, 0.5, 0.75}}), 0)
  check_close(w["linear.bias"], tensor.new({1.5, -2.25}), 0)
  check_eq(w.scalar:dim(), 0)
  check_eq(w.scalar:item(), 3.0)
  check_close(w.half, tensor.new({0.5, -1.0, 65504.0, 5.960464477539063e-08}), 0)   -- F16
end)

test("values that cannot be saved name their key", function()
  local p = tmppath()
  expect_error(function() tensor.save({a = {b = print}}, p) end, "function at key 'a.b'")
  expect_error(function() tensor.save({x = {1, 2, io.stdout}}, p) end, "at key 'x.3'")
  expect_error(function() tensor.save({x = {[1.5] = 1}}, p) end, "key 1.5 in 'x'")
  expect_error(function() tensor.save({[true] = 1}, p) end, "keys must be strings or integers")
  local c = {}
  c.self = {c}
  expect_error(function() tensor.save(c, p) end, "at key 'self.1' contains itself")
  expect_error(function() tensor.save(5, p) end, "expected a tensor or a table, got number")
  expect_error(function() tensor.save(tensor.Generator(1), p) end, "expected a tensor or a table")
  expect_error(function() tensor.save({}) end, "bad argument #2")
  expect_error(function() tensor.save({}, 5) end, "string expected, got number")
  expect_error(function() tensor.save({}, "") end, "empty path")
  expect_error(function() tensor.load(5) end, "string expected, got number")
  local f = io.open(p, "rb")
  assert(f == nil, "a failed save must not create the file")
end)

test("unwritable path, missing file", function()
  local d = tmpdir()
  write_file(d .. "/file", "")
  expect_error(function() tensor.save({a = tensor.ones(1)}, d .. "/file/x.safetensors") end,
               "cannot write '" .. d .. "/file/x.safetensors': '" .. d .. "/file' is not a folder")
  expect_error(function() tensor.load(d .. "/missing/x.safetensors") end,
               "cannot open '" .. d .. "/missing/x.safetensors': No such file or directory")
  expect_error(function() tensor.load(here) end, "not a regular file")
  os.execute("rm -rf '" .. d .. "'")
end)

test("truncated and corrupt files give errors, never crash", function()
  local p, q = tmppath(), tmppath()
  tensor.save({w = tensor.randn(3, 2), b = tensor.ones(3), n = 1}, p)
  local s = read_file(p)
  os.remove(p)
  for len = 0, #s - 1 do
    write_file(q, s:sub(1, len))
    expect_error(function() tensor.load(q) end, q)
  end
  write_file(q, "not a safetensors file at all")
  expect_error(function() tensor.load(q) end, "not a safetensors file")
  write_file(q, string.pack("<I8", 12) .. "{not json}  ")
  expect_error(function() tensor.load(q) end, "not valid JSON")
  local function file(h, data)
    return string.pack("<I8", #h) .. h .. (data or "")
  end
  write_file(q, file('{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}', ("\0"):rep(8)))
  expect_error(function() tensor.load(q) end, "unsupported dtype 'C64'")
  write_file(q, file('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', ("\0"):rep(8)))
  expect_error(function() tensor.load(q) end, "needs 12 bytes")
  write_file(q, file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' ..
                   '"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', ("\0"):rep(8)))
  expect_error(function() tensor.load(q) end, "overlap")
  -- valid layout but broken nnlua metadata
  write_file(q, file('{"__metadata__":{"nnlua":"{\\"v\\":1,\\"root\\":{\\"T\\":\\"zz\\"}}"},' ..
                   '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', ("\0"):rep(4)))
  expect_error(function() tensor.load(q) end, "tensor 'zz' named in the metadata is missing")
  write_file(q, file('{"__metadata__":{"nnlua":"{\\"v\\":1,\\"root\\":{\\"q\\":1}}"}}'))
  expect_error(function() tensor.load(q) end, "bad nnlua metadata")
  os.remove(q)
end)
