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

------------------------------------------------------------- limits and relatives

test("a history of a million numbers saves and loads exactly (F64/I64 data, not JSON)", function()
  local p = tmppath()
  local floats, ints = {}, {}
  for i = 1, 1000000 do floats[i] = i / 3; ints[i] = i * 7 - 3 end
  floats[5], floats[6], floats[7], floats[8] = 0 / 0, 1 / 0, -1 / 0, -0.0
  ints[9] = math.mininteger
  tensor.save({log = floats, steps = ints, model = {w = tensor.ones(2)}}, p)
  local size = #read_file(p)
  assert(size < 17000000, "8 bytes a number, got " .. size .. " bytes")
  local w = tensor.load(p)
  os.remove(p)
  check_eq(#w.log, 1000000)
  check_eq(#w.steps, 1000000)
  check_eq(math.type(w.log[1]), "float")
  check_eq(math.type(w.steps[1]), "integer")
  check_eq(w.log[999999], 999999 / 3)
  check_eq(w.steps[1000000], 7000000 - 3)
  assert(w.log[5] ~= w.log[5] and w.log[6] == 1 / 0 and w.log[7] == -1 / 0)
  check_eq(1 / w.log[8], -1 / 0, "-0.0 keeps its sign")
  check_eq(w.steps[9], math.mininteger)
  check_eq(w.model.w:sum():item(), 2)
end)

test("tables that are not number arrays still round-trip", function()
  local mixed, holes, extra, strs = {}, {}, {}, {}
  for i = 1, 100 do
    mixed[i] = i % 2 == 0 and i or i + 0.5          -- integers and floats: JSON
    extra[i] = i * 1.0
    strs[i] = "s" .. i
  end
  for i = 1, 100, 2 do holes[i] = i end
  extra.name = "x"
  local short = {1.5, 2.5}                           -- below NN_ST_MINARRAY: JSON
  roundtrip({mixed = mixed, holes = holes, extra = extra, strs = strs, short = short,
             nested = {{1, 2}, {3.5}}, ["a.b"] = {["c.d"] = extra}, ["nul\0key"] = strs})
end)

test("over a limit: refused before the old file is touched, naming the limit", function()
  local p = tmppath()
  tensor.save({keep = tensor.ones(3)}, p)
  local before = read_file(p)
  local e = expect_error(function() tensor.save({[("k"):rep(100000001)] = 1}, p) end, "NN_ST_MAXHEADER")
  assert(e:find("100000000", 1, true) and e:find(p, 1, true), e)
  check_eq(read_file(p) == before, true, "the old file is untouched")
  -- nesting: 200 levels save and load, 201 are refused
  local deep, cur = {}, nil
  cur = deep
  for _ = 1, 200 do cur.x = {}; cur = cur.x end
  cur.v = tensor.ones(1)
  tensor.save(deep, p)
  local back = tensor.load(p)
  for _ = 1, 200 do back = back.x end
  check_eq(back.v:item(), 1)
  cur.x = {{}}
  expect_error(function() tensor.save(deep, p) end, "nested more than 200 deep")
  expect_error(function() tensor.save(deep, p) end, "NN_ST_MAXDEPTH")
  check_eq(tensor.load(p).x ~= nil, true, "the file of the last good save")
  os.remove(p)
end)

test("a file over the header limit is refused naming it; a newer version is named", function()
  local p = tmppath()
  write_file(p, string.pack("<I8", 100000008) .. ("{"):rep(16))
  expect_error(function() tensor.load(p) end, "header length")
  local f = assert(io.open(p, "wb"))
  f:write(string.pack("<I8", 100000008))
  f:seek("set", 8 + 100000008 - 1)
  f:write(" ")
  f:close()
  expect_error(function() tensor.load(p) end, "over the 100000000 that safetensors readers accept")
  local h = '{"__metadata__":{"nnlua":"{\\"v\\":3,\\"root\\":{\\"b\\":true}}"}}'
  write_file(p, string.pack("<I8", #h) .. h)
  expect_error(function() tensor.load(p) end, "version 3")
  h = '{"__metadata__":{"nnlua":"{\\"v\\":2,\\"root\\":{\\"N\\":\\"a\\"}}"},' ..
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
  write_file(p, string.pack("<I8", #h) .. h .. ("\0"):rep(4))
  expect_error(function() tensor.load(p) end, "array 'a' named in the metadata is missing or not F64/I64")
  os.remove(p)
end)

------------------------------------------------------------- load_state_dict: all or nothing

local function snapshot(m)
  local s = {}
  for k, t in pairs(m:state_dict()) do s[k] = t:clone() end
  return s
end

local function unchanged(m, s)
  for k, t in pairs(m:state_dict()) do check_eq(t:equal(s[k]), true, k .. " unchanged") end
end

test("load_state_dict: one bad entry changes nothing; the error lists every problem in order", function()
  local m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
  local before = snapshot(m)
  local sd = {}
  for k, t in pairs(m:state_dict()) do sd[k] = tensor.full(t.shape, 7) end
  sd["3.weight"] = tensor.zeros(5, 5)                -- wrong shape, last in the order
  sd["1.bias"] = "nope"                              -- not a tensor
  sd["2.running_var"] = nil                          -- missing
  sd["9.extra"], sd[4] = tensor.ones(1), tensor.ones(1)   -- unexpected
  local e = expect_error(function() m:load_state_dict(sd) end, "nothing was loaded")
  unchanged(m, before)
  local want = "load_state_dict: missing keys: {2.running_var}; unexpected keys: {4 (a integer), 9.extra}; " ..
               "'1.bias' is a string in the state dict, not a tensor; " ..
               "'3.weight' has shape [5, 5] in the state dict but [2, 3] in the model (nothing was loaded)"
  assert(e:find(want, 1, true), e)
  -- not strict: missing and unexpected are returned, a wrong shape still changes nothing
  e = expect_error(function() m:load_state_dict(sd, {strict = false}) end, "'3.weight' has shape [5, 5]")
  assert(not e:find("missing keys", 1, true), e)
  unchanged(m, before)
  sd["3.weight"], sd["1.bias"] = tensor.full({2, 3}, 7), tensor.full({3}, 7)
  local missing, unexpected = m:load_state_dict(sd, {strict = false})
  check_eq(table.concat(missing, ","), "2.running_var")
  check_eq(#unexpected, 2)
  check_eq(m[1].weight:sum():item(), 42)
  expect_error(function() m:load_state_dict(5) end, "expected a table")
  expect_error(function() m:load_state_dict({}, {strict = false, x = 1}) end, "unknown option 'x'")
end)

test("load_state_dict: the same mistake gives the same message in every process", function()
  local exe = os.getenv("NNLUA") or arg[-1]
  local script = os.tmpname()
  write_file(script, [[
    local m = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4))
    local sd = {}
    for k, t in pairs(m:state_dict()) do sd[k] = tensor.zeros(9) end
    for i = 1, 20 do sd["x" .. i] = 1 end
    local ok, e = pcall(m.load_state_dict, m, sd)
    print(e)
  ]])
  local seen = {}
  for _ = 1, 6 do
    local f = assert(io.popen("'" .. exe .. "' " .. script))
    seen[f:read("a")] = true
    f:close()
  end
  os.remove(script)
  local n = 0
  for _ in pairs(seen) do n = n + 1 end
  check_eq(n, 1, "different messages")
end)

test("load_state_dict of the model's own tensors, swapped, reads the old values", function()
  local m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
  local a, b = m[1].weight:clone(), m[2].weight:clone()
  local sd = m:state_dict()
  sd["1.weight"], sd["2.weight"] = sd["2.weight"], sd["1.weight"]
  m:load_state_dict(sd)
  check_close(m[1].weight, b, 0)
  check_close(m[2].weight, a, 0)
end)

test("m:load of a file that does not fit changes nothing", function()
  local p = tmppath()
  local small = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
  small:save(p)
  local other = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2))
  local before = snapshot(other)
  expect_error(function() other:load(p) end, "'2.weight' has shape [1, 3] in the state dict but [2, 3]")
  unchanged(other, before)
  os.remove(p)
end)
