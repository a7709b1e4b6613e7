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

------------------------------------------------------------- names in the file

-- A JSON text as Lua values (objects and arrays as tables, null as nil):
-- enough to read a safetensors header.
local function json_decode(s)
  local pos, value = 1, nil
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local function char() return s:sub(pos, pos) end
  local function str()
    local out = {}
    pos = pos + 1
    while char() ~= '"' do
      if char() == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        if e == "u" then
          out[#out + 1] = utf8.char(tonumber(s:sub(pos + 2, pos + 5), 16))
          pos = pos + 6
        else
          out[#out + 1] = ({b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"})[e] or e
          pos = pos + 2
        end
      else
        out[#out + 1] = char()
        pos = pos + 1
      end
    end
    pos = pos + 1
    return table.concat(out)
  end
  local function list(close, item)
    pos = pos + 1
    ws()
    if char() == close then pos = pos + 1 return end
    repeat
      ws()
      item()
      ws()
      local c = char()
      pos = pos + 1
    until c == close
  end
  function value()
    ws()
    local c = char()
    if c == "{" then
      local t = {}
      list("}", function() local k = str(); ws(); pos = pos + 1; t[k] = value() end)
      return t
    elseif c == "[" then
      local t = {}
      list("]", function() t[#t + 1] = value() end)
      return t
    elseif c == '"' then return str()
    end
    for word, v in pairs({["true"] = true, ["false"] = false, null = false}) do
      if s:sub(pos, pos + #word - 1) == word then pos = pos + #word return v or nil end
    end
    local num = s:match("^-?[%d.eE+-]+", pos)
    pos = pos + #num
    return math.tointeger(tonumber(num)) or tonumber(num)
  end
  return value()
end

-- The header of the safetensors file at p, read from its raw bytes (a
-- little-endian u64 length, then JSON): names (sorted, "__metadata__" left
-- out), metadata, and the decoded header.
local function header(p)
  local s = read_file(p)
  local n = string.unpack("<I8", s)
  check_eq(n % 8, 0, "header padded to 8")
  local h = json_decode(s:sub(9, 8 + n))
  local names = {}
  for k in pairs(h) do if k ~= "__metadata__" then names[#names + 1] = k end end
  table.sort(names)
  return names, h.__metadata__ or {}, h
end

local function names_of(v)
  local p = tmppath()
  tensor.save(v, p)
  local names, meta = header(p)
  local back = tensor.load(p)
  os.remove(p)
  same(v, back)
  return table.concat(names, " "), meta, back
end

-- the version `nnlua -v` prints
local function nnlua_version()
  local f = assert(io.popen("'" .. (os.getenv("NNLUA") or arg[-1]) .. "' -v"))
  local v = f:read("a"):match("^nnlua (%S+)")
  f:close()
  return assert(v, "nnlua -v printed no version")
end

test("a model's file names each tensor by its state dict name, and records the versions", function()
  local m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
  local p = tmppath()
  m:save(p)
  local names, meta = header(p)
  check_eq(table.concat(names, " "), "1.bias 1.weight 3.bias 3.weight")
  check_eq(meta.format, "pt")
  check_eq(meta.nnlua_format, "3")
  check_eq(meta.nnlua_version, nnlua_version())
  local tree = json_decode(meta.nnlua)
  check_eq(tree.v, 3, "the tree repeats the format")
  local m2 = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
  m2:load(p)
  os.remove(p)
  for k, t in pairs(m:state_dict()) do check_eq(m2:state_dict()[k]:equal(t), true, k) end
  -- a flat state dict with dotted keys: one key each, names as they are
  local names2, _, back = names_of({["fc1.weight"] = tensor.ones(2, 2), ["fc1.bias"] = tensor.ones(2)})
  check_eq(names2, "fc1.bias fc1.weight")
  assert(back.fc1 == nil and tensor.is_tensor(back["fc1.weight"]))
  check_eq(names_of(tensor.ones(2)), "tensor", "a top-level tensor")
end)

test("nested tables: names are the key paths joined with '.'; non-tensor leaves stay in the metadata", function()
  local m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
  local hist = {}
  for i = 1, 70 do hist[i] = i / 7 end
  local names, meta, back = names_of({
    model = m:state_dict(), epoch = 3, lr = 0.5, done = false, tag = "run",
    optim = {state = {[1] = {step = 4, exp_avg = tensor.ones(2, 3)}, [2] = {exp_avg = tensor.ones(2)}}},
    fc1 = {weight = tensor.ones(1)}, hist = hist})
  check_eq(names, "fc1.weight hist model.1.bias model.1.weight model.3.bias model.3.weight " ..
                  "optim.state.1.exp_avg optim.state.2.exp_avg")
  check_eq(meta.nnlua_format, "3")
  check_eq(math.type(back.epoch), "integer")
  assert(tensor.is_tensor(back.model["1.weight"]) and back.model[1] == nil, "one key, not nested tables")
  assert(tensor.is_tensor(back.optim.state[1].exp_avg) and back.optim.state["1"] == nil, "integer key")
end)

test("dotted keys and keys with odd bytes round-trip; names hold them as they are", function()
  local names = names_of({["a.b"] = {["c.d"] = tensor.ones(1)}, x = {["1.weight"] = tensor.ones(2)},
                          ["100%"] = tensor.ones(1), ["é.ö"] = tensor.ones(1), ["tab\tnl\n"] = tensor.ones(1),
                          ["q\"b\\"] = tensor.ones(1), [-3] = {[0] = tensor.ones(1)}})
  check_eq(names, '-3.0 100% a.b.c.d q"b\\ tab\tnl\n x.1.weight é.ö')
  -- NUL, and the bytes >= 0x80 of a key that is not UTF-8, are all a name cannot hold: %XX
  check_eq(names_of({["n\0l"] = tensor.ones(1), ["\255.\254"] = {k = tensor.ones(1)}}), "%FF.%FE.k n%00l")
end)

test("two paths with the same name are an error naming both; nothing is written", function()
  local p = tmppath()
  local t1, t2 = tensor.ones(1), tensor.zeros(1)
  expect_error(function() tensor.save({a = {b = t1}, ["a.b"] = t2}, p) end,
               "tensor.save: a.b and [\"a.b\"] would both be named 'a.b' in the file")
  expect_error(function() tensor.save({["1.weight"] = t1, [1] = {weight = t2}}, p) end,
               "[1].weight and [\"1.weight\"] would both be named '1.weight'")
  expect_error(function() tensor.save({m = {[1] = t1, ["1"] = t2}}, p) end,
               "m[1] and m[\"1\"] would both be named 'm.1'")
  local hist = {}
  for i = 1, 64 do hist[i] = i end
  expect_error(function() tensor.save({x = {y = hist}, ["x.y"] = t1}, p) end,     -- a number array is named too
               "x.y and [\"x.y\"] would both be named 'x.y'")
  expect_error(function() tensor.save({[""] = t1}, p) end, "[\"\"] cannot be saved: a tensor under it would be named ''")
  expect_error(function() tensor.save({__metadata__ = t1}, p) end, "would be named '__metadata__'")
  assert(io.open(p, "rb") == nil, "a failed save must not create the file")
  tensor.save({keep = t1}, p)
  local before = read_file(p)
  expect_error(function() tensor.save({a = {b = t1}, ["a.b"] = t2}, p) end, "nothing was written")
  check_eq(read_file(p) == before, true, "the old file is untouched")
  os.remove(p)
  -- only tensors have names: other leaves at such paths are fine
  roundtrip({a = {b = 1}, ["a.b"] = "two", [1] = true, ["1"] = {x = 2}, [""] = 0, __metadata__ = "m"})
end)

------------------------------------------------------------- other writers, other versions

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- Writes a safetensors file laid out as nnlua's writer lays it out:
-- metadata pairs {key, value} in order, then entries {name, dtype, shape,
-- bytes} with consecutive offsets, the header padded with spaces.
local function write_st(p, meta, entries)
  local parts, data, off = {}, {}, 0
  if meta then
    local m = {}
    for i, kv in ipairs(meta) do m[i] = json_string(kv[1]) .. ":" .. json_string(kv[2]) end
    parts[1] = '"__metadata__":{' .. table.concat(m, ",") .. "}"
  end
  for _, e in ipairs(entries) do
    parts[#parts + 1] = string.format('%s:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}',
                                      json_string(e[1]), e[2], table.concat(e[3], ","), off, off + #e[4])
    off = off + #e[4]
    data[#data + 1] = e[4]
  end
  local h = "{" .. table.concat(parts, ",") .. "}"
  h = h .. (" "):rep((8 - #h % 8) % 8)
  write_file(p, string.pack("<I8", #h) .. h .. table.concat(data))
end

local function f32(...)
  local s = {}
  for i, v in ipairs({...}) do s[i] = string.pack("<f", v) end
  return table.concat(s)
end

test("a file of the old format (escaped names, no nnlua_format) loads as before", function()
  -- Byte for byte what nnlua 0.1.0 before format 3 wrote for
  --   {model = {["1.weight"] = {{1, 2}}, ["1.bias"] = {0.5}}, epoch = 3, lr = 0.25,
  --    [1] = {7}, ["1"] = {8}, ["100%"] = {9}, steps = {3, 6, ..., 192}}
  -- (tensors as tensors): a dot or '%' inside a key written %XX, a taken
  -- name renamed "~2", the format only in the tree ("v": 2 with a number
  -- array, 1 without).
  local steps = {}
  for i = 1, 64 do steps[i] = string.pack("<i8", 3 * i) end
  local tree = '{"root":{"t":[["i:1",{"T":"1"}],["s:1",{"T":"1~2"}],["s:100%",{"T":"100%25"}],' ..
               '["s:epoch",{"i":"3"}],["s:lr",{"f":"0x1p-2"}],["s:model",{"t":[["s:1.bias",' ..
               '{"T":"model.1%2Ebias"}],["s:1.weight",{"T":"model.1%2Eweight"}]]}],' ..
               '["s:steps",{"N":"steps"}]]},"v":2}'
  local entries = {{"1", "F32", {1}, f32(7)}, {"1~2", "F32", {1}, f32(8)}, {"100%25", "F32", {1}, f32(9)},
                   {"model.1%2Ebias", "F32", {1}, f32(0.5)}, {"model.1%2Eweight", "F32", {1, 2}, f32(1, 2)},
                   {"steps", "I64", {64}, table.concat(steps)}}
  local p = tmppath()
  write_st(p, {{"format", "pt"}, {"nnlua", tree}}, entries)
  local w = tensor.load(p)
  local want = {}
  for i = 1, 64 do want[i] = 3 * i end
  same({model = {["1.weight"] = tensor.new({{1, 2}}), ["1.bias"] = tensor.new({0.5})}, epoch = 3, lr = 0.25,
        [1] = tensor.new({7}), ["1"] = tensor.new({8}), ["100%"] = tensor.new({9}), steps = want}, w)
  -- format 1: the same without the number array
  tree = tree:gsub(',%["s:steps",{"N":"steps"}%]', ""):gsub('"v":2', '"v":1')
  table.remove(entries)
  write_st(p, {{"format", "pt"}, {"nnlua", tree}}, entries)
  w = tensor.load(p)
  check_eq(w.model["1.weight"]:sum():item(), 3)
  assert(w.steps == nil and w["1"]:item() == 8)
  -- a model saved by the old m:save loads into the model
  local m = nn.Sequential(nn.Linear(1, 2))
  write_st(p, {{"format", "pt"}, {"nnlua", '{"root":{"t":[["s:1.bias",{"T":"1%2Ebias"}],' ..
                                             '["s:1.weight",{"T":"1%2Eweight"}]]},"v":1}'}},
           {{"1%2Ebias", "F32", {2}, f32(5, 6)}, {"1%2Eweight", "F32", {2, 1}, f32(7, 8)}})
  m:load(p)
  os.remove(p)
  check_close(m[1].bias, tensor.new({5, 6}), 0)
  check_close(m[1].weight, tensor.new({{7}, {8}}), 0)
end)

test("a file of a newer format is refused, naming both formats and versions", function()
  local p = tmppath()
  local tree = '{"root":{"t":[["s:w",{"T":"w"}]]},"v":4}'
  write_st(p, {{"format", "pt"}, {"nnlua_format", "4"}, {"nnlua_version", "9.9.9"}, {"nnlua", tree}},
           {{"w", "F32", {1}, f32(1)}})
  local e = expect_error(function() tensor.load(p) end,
                         "tensor.load: '" .. p .. "' is checkpoint format 4 (written by nnlua 9.9.9), newer than " ..
                         "this nnlua " .. nnlua_version() .. " reads (format 3 and older)")
  -- refused by the number alone: whatever the rest looks like
  write_st(p, {{"nnlua_format", "12"}}, {{"w", "F32", {1}, f32(1)}})
  expect_error(function() tensor.load(p) end, "format 12 (written by nnlua (unknown version))")
  local m = nn.Sequential(nn.Linear(1, 1))
  expect_error(function() m:load(p) end, "is checkpoint format 12")
  -- before nnlua_format the tree's "v" was the format
  write_st(p, {{"nnlua", '{"root":{"b":true},"v":4}'}}, {})
  expect_error(function() tensor.load(p) end, "format 4 (written by nnlua (unknown version))")
  write_st(p, {{"nnlua_format", "3.5"}, {"nnlua", tree}}, {{"w", "F32", {1}, f32(1)}})
  expect_error(function() tensor.load(p) end, "bad nnlua metadata (nnlua_format is '3.5', not a format number)")
  write_st(p, {{"nnlua", '{"root":{"b":true},"v":0}'}}, {})
  expect_error(function() tensor.load(p) end, "bad nnlua metadata")
  -- format 3 is this one
  write_st(p, {{"nnlua_format", "3"}, {"nnlua", '{"root":{"t":[["s:w.x",{"T":"w.x"}]]},"v":3}'}},
           {{"w.x", "F32", {1}, f32(2)}})
  check_eq(tensor.load(p)["w.x"]:item(), 2)
  os.remove(p)
end)

test("a file of another program (no nnlua metadata) loads flat, by full names", function()
  local p = tmppath()
  -- what safetensors.torch.save_file writes for a PyTorch state dict
  write_st(p, {{"format", "pt"}}, {{"0.weight", "F32", {2, 1}, f32(1, 2)}, {"0.bias", "F32", {2}, f32(3, 4)},
                                   {"fc.w.x", "F32", {}, f32(5)}})
  local w = tensor.load(p)
  local keys = {}
  for k in pairs(w) do keys[#keys + 1] = k end
  table.sort(keys)
  check_eq(table.concat(keys, " "), "0.bias 0.weight fc.w.x")
  check_eq(w["fc.w.x"]:item(), 5)
  -- no metadata at all; a model with the same names loads it
  write_st(p, nil, {{"fc1.weight", "F32", {2, 1}, f32(1, 2)}, {"fc1.bias", "F32", {2}, f32(3, 4)}})
  local Net = nn.Module:extend("Net")
  function Net:init() self.fc1 = nn.Linear(1, 2) end
  local net = Net()
  net:load(p)
  check_close(net.fc1.weight, tensor.new({{1}, {2}}), 0)
  check_close(net.fc1.bias, tensor.new({3, 4}), 0)
  os.remove(p)
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

test("a file over the header limit is refused naming it; a newer format is named", function()
  local p = tmppath()
  write_file(p, string.pack("<I8", 100000008) .. ("{"):rep(16))
  expect_error(function() tensor.load(p) end, "header length")
  local f = assert(io.open(p, "wb"))
  f:write(string.pack("<I8", 100000008))
  f:seek("set", 8 + 100000008 - 1)
  f:write(" ")
  f:close()
  expect_error(function() tensor.load(p) end, "over the 100000000 that safetensors readers accept")
  local h = '{"__metadata__":{"nnlua":"{\\"v\\":4,\\"root\\":{\\"b\\":true}}"}}'
  write_file(p, string.pack("<I8", #h) .. h)
  expect_error(function() tensor.load(p) end, "is checkpoint format 4")
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

test("m:load of another model's checkpoint: every mismatch in the model's order, both shapes, the file", function()
  local p = tmppath()
  nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1)):save(p)
  local wide = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
  local before = snapshot(wide)
  local e = expect_error(function() wide:load(p) end, "nothing was loaded")
  local want = "load_state_dict: '1.weight' has shape [2, 3] in the state dict but [4, 3] in the model; " ..
               "'1.bias' has shape [2] in the state dict but [4] in the model; " ..
               "'3.weight' has shape [1, 2] in the state dict but [1, 4] in the model " ..
               "(nothing was loaded from '" .. p .. "')"
  assert(e:find(want, 1, true), e)
  unchanged(wide, before)
  -- other names: missing in the model's order, unexpected in natural order (2 before 10)
  local deep = nn.Sequential()
  for _ = 1, 11 do deep:add(nn.Linear(1, 1)) end
  deep:save(p)
  local shallow = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1, false), nn.Linear(1, 2))
  e = expect_error(function() shallow:load(p) end, "missing keys")
  want = "load_state_dict: missing keys: {}; unexpected keys: {2.bias, 4.bias, 4.weight, 5.bias, 5.weight, " ..
         "6.bias, 6.weight, 7.bias, 7.weight, 8.bias, 8.weight, 9.bias, 9.weight, 10.bias, 10.weight, " ..
         "11.bias, 11.weight}; '3.weight' has shape [1, 1] in the state dict but [2, 1] in the model; " ..
         "'3.bias' has shape [1] in the state dict but [2] in the model"
  assert(e:find(want, 1, true), e)
  -- a checkpoint of more than the model: the message says where the model's keys are
  local m = nn.Sequential(nn.Linear(2, 1))
  tensor.save({model = m:state_dict(), epoch = 3}, p)
  e = expect_error(function() m:load(p) end, "unexpected keys: {epoch, model}")
  assert(e:find("the table at key 'model' has this model's keys: pass that table to load_state_dict", 1, true), e)
  m:load_state_dict(tensor.load(p).model)
  os.remove(p)
end)

test("a file whose numbers float32 cannot hold is refused, not rounded", function()
  local p = tmppath()
  local function i64(...) local s = {}; for i, v in ipairs({...}) do s[i] = string.pack("<i8", v) end; return table.concat(s) end
  local function i32(...) local s = {}; for i, v in ipairs({...}) do s[i] = string.pack("<i4", v) end; return table.concat(s) end
  local function f64(...) local s = {}; for i, v in ipairs({...}) do s[i] = string.pack("<d", v) end; return table.concat(s) end
  -- another program's file (no nnlua metadata): every entry is a float32 tensor
  for _, c in ipairs{
    {"I64", i64(1, 2 ^ 24 + 1, 3), "holds 16777217 at element 2"},
    {"I64", i64(0, 0, math.maxinteger), "holds 9223372036854775807 at element 3"},
    {"I32", i32(2147483647, 0, 0), "holds 2147483647 at element 1"},
    {"F64", f64(0.5, -1e300, 0), "holds -1e+300 at element 2"},
  } do
    write_st(p, {{"format", "pt"}}, {{"ok", "F32", {1}, f32(1)}, {"labels", c[1], {3}, c[2]}})
    local err = expect_error(function() tensor.load(p) end, "tensor 'labels' " .. c[3])
    assert(err:find("nothing was loaded", 1, true), err)
  end
  -- what float32 holds exactly loads: whole numbers to 2^24, powers of two, NaN and
  -- infinities as they are, and F64 fractions rounded (that is the conversion)
  write_st(p, {{"format", "pt"}}, {{"a", "I64", {4}, i64(2 ^ 24, -2 ^ 24, 2 ^ 40, -7)},
                                   {"b", "F64", {4}, f64(0.1, 0 / 0, 1 / 0, 1e-50)},
                                   {"c", "I32", {2}, i32(-16777216, 65536)}})
  local w = tensor.load(p)
  check_eq(w.a[1], 2 ^ 24); check_eq(w.a[2], -2 ^ 24); check_eq(w.a[3], 2 ^ 40); check_eq(w.a[4], -7)
  check_eq(w.b[1], string.unpack("<f", string.pack("<f", 0.1)), "0.1 rounded to float32")
  assert(w.b[2] ~= w.b[2] and w.b[3] == 1 / 0 and w.b[4] == 0, "NaN, inf, underflow")
  check_eq(w.c[1], -16777216)
  -- nnlua's own arrays of integers past 2^24 come back exact: they are read as numbers, not tensors
  local big = {}
  for i = 1, 70 do big[i] = 2 ^ 53 // 1 - i end
  tensor.save({steps = big, w = tensor.ones(1)}, p)
  local back = tensor.load(p)
  check_eq(back.steps[70], 2 ^ 53 // 1 - 70, "exact")
  os.remove(p)
end)
