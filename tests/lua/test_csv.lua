-- CSV files: data.write_csv, data.read_csv, datasets.CSV (docs/data.md, "CSV files").
-- The format is checked against bytes written out by hand here (RFC 4180 with
-- "\n" line ends; numbers as pandas reads them).

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function sh(cmd) return os.execute(cmd) end
local function rm(d) sh("rm -rf " .. q(d)) end
local run = command_stdout

-- writes rows (and options) to a new file and returns its bytes
local function written(rows, opts)
  local d = tmpdir()
  data.write_csv(d .. "/t.csv", rows, opts)
  local s = read_file(d .. "/t.csv")
  rm(d)
  return s
end

------------------------------------------------------------------ write_csv

test("write_csv: array rows with columns, one line each, \\n line ends", function()
  check_eq(written({{1, 0.5}, {2, 0.25}}, {columns = {"epoch", "loss"}}),
           "epoch,loss\n1,0.5\n2,0.25\n")
  check_eq(written({{1, 0.5}, {2, 0.25}}), "1,0.5\n2,0.25\n", "no header without names")
  check_eq(written({}, {columns = {"a", "b"}}), "a,b\n", "no rows: the header alone")
  check_eq(written({}), "", "nothing at all: an empty file")
end)

test("write_csv: records take their column order from the header", function()
  local rows = {{loss = 0.5, epoch = 1, run = "sgd"}, {epoch = 2, run = "adam"}}
  check_eq(written(rows, {columns = {"run", "epoch", "loss"}}),
           "run,epoch,loss\nsgd,1,0.5\nadam,2,\n")
  rows.columns = {"epoch", "run", "loss"}
  check_eq(written(rows), "epoch,run,loss\n1,sgd,0.5\n2,adam,\n", "rows.columns")
  check_eq(written(rows, {columns = {"loss", "epoch", "run"}}), "loss,epoch,run\n0.5,1,sgd\n,2,adam\n",
           "the option wins over rows.columns")
end)

test("write_csv: numbers in the shortest form that reads back, integers as integers", function()
  check_eq(written({{0.1, 0.2, 0.1 + 0.2, 1 / 3}}), "0.1,0.2,0.30000000000000004,0.3333333333333333\n")
  check_eq(written({{3, -7, 0, math.maxinteger, math.mininteger}}),
           "3,-7,0,9223372036854775807,-9223372036854775808\n")
  check_eq(written({{3.0, -0.0, 1e20, 2^53, 1e100, 1e-7, 5e-324}}),
           "3.0,-0.0,1e+20,9007199254740992.0,1e+100,1e-07,5e-324\n")
  check_eq(written({{math.huge, -math.huge, 0 / 0}}), "inf,-inf,nan\n")
  check_eq(written({{1.5e300, 123456.789, -2.5}}), "1.5e+300,123456.789,-2.5\n")
  -- every one reads back to the same double
  local rng = tensor.Generator(1)
  local row = {}
  for k = 1, 200 do
    local u = tensor.rand(1, rng):item() + tensor.rand(1, rng):item() * 2^-30
    row[k] = (u - 0.5) * 10 ^ (k % 40 - 20)
  end
  local line = written({row})
  local k = 0
  for f in line:gmatch("[^,\n]+") do
    k = k + 1
    check_eq(tonumber(f), row[k], "field " .. k)
    local digits = f:gsub("%.0$", ""):match("^-?([%d.]+)"):gsub("%.", ""):gsub("^0+", "")
    assert(#digits <= 17, f)
  end
  check_eq(k, 200)
end)

test("write_csv: booleans, nil and missing keys", function()
  check_eq(written({{true, false, nil, 1}}), "true,false,,1\n")
  check_eq(written({{nil, nil, 3}, {1}}), ",,3\n1,,\n", "short rows get empty fields")
  check_eq(written({{a = 1}, {}}, {columns = {"a", "b"}}), "a,b\n1,\n,\n")
end)

test("write_csv: strings quoted when they must be (RFC 4180)", function()
  check_eq(written({{"plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "crlf\r\n"}}),
           'plain,"a,b","say ""hi""","two\nlines","cr\rhere","crlf\r\n"\n')
  check_eq(written({{" lead", "trail ", "in side", "\ttab"}}), '" lead","trail ",in side,"\ttab"\n')
  -- empty strings and text that would read as a number are quoted, so that
  -- read_csv gives back strings (nil is the empty field)
  check_eq(written({{"", "1", "2.5", "nan", "-Inf", "1e3", "0x10", "1,5", "one"}}),
           '"","1","2.5","nan","-Inf","1e3",0x10,"1,5",one\n')
  check_eq(written({{"é, ü", "日本"}}), '"é, ü",日本\n', "UTF-8 passes through")
  -- column names are always strings: quoted only for the separators and spaces
  check_eq(written({{1}}, {columns = {"2020"}}), "2020\n1\n")
  check_eq(written({{1, 2}}, {columns = {"a,b", " c"}}), '"a,b"," c"\n1,2\n')
  -- a leading byte order mark would be skipped by read_csv at the start of the file
  check_eq(written({{1}}, {columns = {"\239\187\191x"}}), '"\239\187\191x"\n1\n')
end)

test("write_csv: misuse is an error naming the row and column", function()
  local d = tmpdir()
  local p = d .. "/x.csv"
  local function err(rows, opts, want)
    expect_error(function() data.write_csv(p, rows, opts) end, want)
  end
  err({{1, {}}}, nil, "data.write_csv: row 1, column 2 is a table")
  err({{1}, {2, print}}, nil, "row 2, column 2 is a function")
  err({{a = 1, b = tensor.ones(1)}}, {columns = {"a", "b"}},
      "row 1, column 2 ('b') is a nn.Tensor (a tensor: write x:item() for a one-element tensor)")
  err({{epoch = 1}}, nil, "row 1 is a record (keyed by column name), which needs a header: give the "
      .. "names in order, data.write_csv(path, rows, {columns = {\"epoch\", \"loss\"}}), or set rows.columns")
  err({{1}, 5}, nil, "row 2 is 5; a row is a table")
  err({{1, x = 2}}, {columns = {"x"}}, "row 1 mixes positions ([1]) and names ('x')")
  err({{[1.5] = 2}}, nil, "row 1 has the key 1.5")
  err({{a = 1, c = 2}}, {columns = {"a", "b"}}, "row 1 has the key 'c', which is not a column (columns: a, b)")
  err({{1, 2, 3}}, {columns = {"a", "b"}}, "row 1 has 3 values but there are 2 columns (a, b)")
  err({}, {columns = {"a", "a"}}, "columns[2] repeats the name 'a' (also columns[1])")
  err({}, {columns = {"a", ""}}, "columns[2] is empty")
  err({}, {columns = {"a", 3}}, "columns[2] must be a column name (a string), got 3")
  err({}, {columns = {}}, "columns is empty")
  err({}, {columns = "a,b"}, "columns must be an array of column names (strings), got \"a,b\"")
  err(setmetatable({columns = {1}}, nil), nil, "rows.columns[1] must be a column name")
  err({}, {colums = {"a"}}, "data.write_csv: unknown option 'colums'")
  err({}, 5, "data.write_csv: options must be a table, got number")
  err(nil, nil, "data.write_csv: rows must be an array of rows, got nil")
  expect_error(function() data.write_csv(nil, {}) end, "path must be a file name (a non-empty string), got nil")
  expect_error(function() data.write_csv(p .. "\0x", {}) end, "has a NUL byte inside")
  check_eq(run("ls -A " .. q(d)), "", "nothing written")
  -- the error is at the script's line
  local e = expect_error(function() data.write_csv(p, {{{}}}) end, "test_csv.lua:")
  assert(e:find("row 1, column 1 is a table", 1, true), e)
  rm(d)
end)

test("write_csv: atomic, folders made, mode kept", function()
  local d = tmpdir()
  local p = d .. "/runs/a/b/history.csv"
  data.write_csv(p, {{1}}, {columns = {"epoch"}})
  check_eq(read_file(p), "epoch\n1\n", "missing folders made")
  sh("chmod 600 " .. q(p))
  data.write_csv(p, {{1}, {2}}, {columns = {"epoch"}})
  check_eq(read_file(p), "epoch\n1\n2\n")
  check_eq(run("stat -c %a " .. q(p)), "600", "the mode kept")
  check_eq(run("ls -A " .. q(d .. "/runs/a/b")), "history.csv", "no temporary left")
  -- a failed write (a bad value) leaves the old file as it was
  expect_error(function() data.write_csv(p, {{1}, {{}}}, {columns = {"epoch"}}) end, "row 2")
  check_eq(read_file(p), "epoch\n1\n2\n")
  expect_error(function() data.write_csv(d .. "/runs", {{1}}) end, "it is a folder")
  rm(d)
end)

-- FIFOs, devices, sockets, links, long names: test_files.lua runs write_csv with every writer

------------------------------------------------------------------- read_csv

-- the rows read_csv gives for the bytes s
local function read(s)
  local d = tmpdir()
  write_file(d .. "/t.csv", s)
  local ok, rows = pcall(data.read_csv, d .. "/t.csv")
  rm(d)
  if not ok then error(rows, 2) end
  return rows
end

-- the error read_csv raises for the bytes s, which must contain want (with
-- FILE standing for the file's path)
local function read_error(s, want)
  local d = tmpdir()
  local p = d .. "/bad.csv"
  write_file(p, s)
  local e = expect_error(function() data.read_csv(p) end, (want:gsub("FILE", p)))
  rm(d)
  return e
end

local function same(a, b, what)
  if a ~= b and not (a ~= a and b ~= b) then
    error(string.format("%s: expected %s (%s), got %s (%s)", what, tostring(b), math.type(b) or type(b),
                        tostring(a), math.type(a) or type(a)), 2)
  end
  check_eq(math.type(a) or type(a), math.type(b) or type(b), what)
end

test("read_csv: records keyed by the header's names, with .columns", function()
  local rows = read("epoch,loss,run\n1,0.5,sgd\n2,0.25,adam\n")
  check_eq(#rows, 2)
  check_eq(table.concat(rows.columns, "|"), "epoch|loss|run")
  same(rows[1].epoch, 1, "integer")
  same(rows[1].loss, 0.5, "float")
  same(rows[2].run, "adam", "string")
  local n = 0
  for _ in pairs(rows[1]) do n = n + 1 end
  check_eq(n, 3, "only the columns as keys")
end)

test("read_csv: numbers as tonumber reads them, inf/nan, empty fields nil", function()
  local rows = read("a,b,c,d,e,f,g,h,i,j\n"
                    .. "1,-2.5,1e3,.5,3.,inf,-Infinity,NaN,+inf,-nan\n"
                    .. ",0x10, 7 ,1_0,1e,abc,--1,1.5.2,INF,nan \n")
  local r = rows[1]
  same(r.a, 1, "a"); same(r.b, -2.5, "b"); same(r.c, 1000.0, "c"); same(r.d, 0.5, "d")
  same(r.e, 3.0, "e"); same(r.f, math.huge, "f"); same(r.g, -math.huge, "g"); same(r.h, 0 / 0, "h")
  same(r.i, math.huge, "i"); same(r.j, 0 / 0, "j")
  r = rows[2]
  same(r.a, nil, "empty")
  same(r.b, "0x10", "hex is text")
  same(r.c, 7, "spaces around a number, as tonumber")
  same(r.d, "1_0", "d"); same(r.e, "1e", "e"); same(r.f, "abc", "f"); same(r.g, "--1", "g")
  same(r.h, "1.5.2", "h"); same(r.i, math.huge, "INF"); same(r.j, 0 / 0, "nan and a space")
  same(read("x\n9223372036854775807\n9223372036854775808\n")[2].x, 9223372036854775808.0,
       "beyond integers: a float, as tonumber")
end)

test("read_csv: RFC 4180 quoting; quoted fields stay strings", function()
  local rows = read('name,note,n\n"a,b","say ""hi""","12"\n"two\nlines","",3\n"x"'
                    .. ',"cr\r\nlf",""\n')
  check_eq(#rows, 3)
  same(rows[1].name, "a,b", "comma")
  same(rows[1].note, 'say "hi"', "doubled quotes")
  same(rows[1].n, "12", "a quoted number is a string")
  same(rows[2].name, "two\nlines", "newline inside")
  same(rows[2].note, "", "a quoted empty field is an empty string")
  same(rows[2].n, 3, "after a multi-line field")
  same(rows[3].name, "x", "quoted")
  same(rows[3].note, "cr\r\nlf", "CRLF inside quotes kept")
  same(rows[3].n, "", "quoted empty")
  -- a quote inside an unquoted field is kept as it is
  same(read('a,b\nab"c,d\n')[1].a, 'ab"c', "a stray quote")
  -- quoted header names
  check_eq(table.concat(read('"a,1","b ""x"""\n1,2\n').columns, "|"), 'a,1|b "x"')
end)

test("read_csv: \\r\\n line ends, a BOM, no final newline, blank lines", function()
  local rows = read("\239\187\191a,b\r\n1,2\r\n3,4")
  check_eq(rows.columns[1], "a", "the BOM is skipped")
  check_eq(#rows, 2)
  same(rows[2].b, 4, "a last line without newline")
  rows = read("a,b\r1,2\r3,4\r")
  check_eq(#rows, 2, "a lone \\r ends a line too")
  rows = read("\n\na,b\n1,2\n\n3,4\n\n")
  check_eq(#rows, 2, "blank lines skipped")
  same(rows[2].a, 3, "after the blank line")
  -- with one column, a blank line is a row whose field is empty
  rows = read("x\n1\n\n2\n")
  check_eq(#rows, 3)
  same(rows[2].x, nil, "blank = empty")
  same(rows[3].x, 2, "x")
  check_eq(#read("a,b\n"), 0, "a header alone: no rows")
  check_eq(#read("a,b"), 0, "a header without newline")
end)

test("read_csv: errors name the file and the line", function()
  read_error("", "data.read_csv: 'FILE' is empty: a CSV file starts with a header line")
  read_error("\n\r\n", "'FILE' is empty")
  read_error("a,b\n1,2\n3\n", "data.read_csv: 'FILE' line 3 has 1 field but the header has 2")
  read_error("a,b\n1,2,3\n", "'FILE' line 2 has 3 fields but the header has 2")
  read_error("a,b\n1,\"x\ny\",3\n4,5\n", "'FILE' line 2 has 3 fields but the header has 2")
  read_error("a,b\n1,\"x\ny\"\n4,5,6\n", "'FILE' line 4 has 3 fields", "after a two-line field")
  read_error('a,b\n1,2\n3,"open\n\n', "'FILE' line 3: the quoted field that starts here (column 2) "
             .. "is never closed: it runs to the end of the file")
  read_error('a,b\n1,"x"y\n', "'FILE' line 2, column 2: text after the closing quote")
  read_error("a,b,a\n1,2,3\n", "'FILE' line 1: column 3 repeats the name 'a' of column 1")
  read_error("\na,,c\n", "'FILE' line 2: column 2 of the header has no name")
  read_error('a,""\n', "column 2 of the header has no name")
  local d = tmpdir()
  expect_error(function() data.read_csv(d .. "/missing.csv") end,
               "data.read_csv: cannot open '" .. d .. "/missing.csv': No such file or directory")
  expect_error(function() data.read_csv(d) end, "data.read_csv: cannot read '" .. d .. "': it is a directory")
  assert(sh("mkfifo " .. q(d .. "/p.csv")))
  local t0 = os.monotime()
  expect_error(function() data.read_csv(d .. "/p.csv") end, "it is a FIFO (named pipe), not a regular file")
  assert(os.monotime() - t0 < 5, "did not wait on the FIFO")
  expect_error(function() data.read_csv(d .. "/x\0.csv") end, "data.read_csv: path \"")
  expect_error(function() data.read_csv(5) end, "data.read_csv: path must be a file name")
  expect_error(function() data.read_csv(d .. "/x.csv", {sep = ";"}) end,
               "data.read_csv: takes one argument, the path (got 1 more)")
  rm(d)
end)

test("round trips: write then read gives the values, read then write the bytes", function()
  local d = tmpdir()
  local p = d .. "/r.csv"
  local rows = {
    {id = 1, x = 0.1, s = "plain", b = true},
    {id = 2, x = 1 / 3, s = "a, \"quoted\"\nvalue"},
    {id = 3, x = -0.0, s = ""},
    {id = 4, x = math.huge, s = "42"},
    {id = 5, x = 0 / 0, s = " padded "},
    {id = math.maxinteger, x = 5e-324, s = "nan"},
    {id = -7, x = 2.0, s = "日本"},
    {},
  }
  data.write_csv(p, rows, {columns = {"id", "x", "s", "b"}})
  local back = data.read_csv(p)
  check_eq(#back, #rows)
  check_eq(table.concat(back.columns, ","), "id,x,s,b")
  for i, r in ipairs(rows) do
    for _, c in ipairs{"id", "x", "s"} do same(back[i][c], r[c], string.format("row %d %s", i, c)) end
    same(back[i].b, r.b and "true" or nil, "booleans read back as text")
  end
  check_eq(1 / back[3].x, -math.huge, "-0.0 keeps its sign")
  -- read then write: the same bytes
  local bytes = read_file(p)
  data.write_csv(p, back)
  check_eq(read_file(p), bytes, "read_csv's result writes back unchanged")
  local hand = 'a,b,"c,d"\n1,2.5,x\n-3,,"y ""z"""\n1e+20,nan,""\n'
  write_file(p, hand)
  data.write_csv(p, data.read_csv(p))
  check_eq(read_file(p), hand, "a file in write_csv's own forms comes back byte for byte")
  rm(d)
end)

test("read_csv on random bytes: a value or an error, and what it reads writes back the same", function()
  local d = tmpdir()
  local p = d .. "/f.csv"
  local alphabet = {"a", "1", ",", '"', "\n", "\r", " ", "\0", ".", "e", "-", "x", "n", "i", "f",
                    "\239\187\191"}
  local rng = tensor.Generator(7)
  local read_ok = 0
  for _ = 1, 400 do
    local t = {}
    local n = math.floor(tensor.rand(1, rng):item() * 40)
    for k = 1, n do t[k] = alphabet[math.floor(tensor.rand(1, rng):item() * #alphabet) + 1] end
    local text = table.concat(t)
    write_file(p, text)
    local ok, rows = pcall(data.read_csv, p)
    if ok then
      read_ok = read_ok + 1
      data.write_csv(p, rows)
      local back = data.read_csv(p)
      check_eq(#back, #rows, string.format("%q", text))
      check_eq(table.concat(back.columns, "|"), table.concat(rows.columns, "|"))
      for i, r in ipairs(rows) do
        for _, c in ipairs(rows.columns) do
          same(back[i][c], r[c], string.format("%q row %d column %s", text, i, c))
        end
      end
    else
      assert(tostring(rows):find("data.read_csv: '" .. p .. "'", 1, true), rows)
    end
    local ok2, e2 = pcall(datasets.CSV, p, "a")
    if not ok2 then assert(tostring(e2):find("datasets.CSV: ", 1, true), e2) end
  end
  assert(read_ok > 50 and read_ok < 350, read_ok)
  rm(d)
end)

test("read_csv: thousands of rows, quickly", function()
  local d = tmpdir()
  local p = d .. "/big.csv"
  local rows = {}
  for i = 1, 20000 do rows[i] = {i, i / 7, "run" .. i % 3} end
  local t0 = os.monotime()
  data.write_csv(p, rows, {columns = {"step", "loss", "run"}})
  local back = data.read_csv(p)
  local dt = os.monotime() - t0
  check_eq(#back, 20000)
  same(back[20000].loss, 20000 / 7, "last row")
  assert(dt < 5, "20000 rows took " .. dt .. " s")
  rm(d)
end)

---------------------------------------------------------------- datasets.CSV

local IRIS = "sepal_length,sepal_width,petal_length,petal_width,species\n"
  .. "5.1,3.5,1.4,0.2,1\n"
  .. "4.9,3.0,1.4,0.2,1\n"
  .. "7.0,3.2,4.7,1.4,2\n"
  .. "6.4,3.2,4.5,1.5,2\n"
  .. "6.3,3.3,6.0,2.5,3\n"

-- a folder with iris.csv (IRIS) in it; returns the folder and the path
local function iris(text)
  local d = tmpdir()
  write_file(d .. "/iris.csv", text or IRIS)
  return d, d .. "/iris.csv"
end

test("datasets.CSV: features and target from the columns", function()
  local d, p = iris()
  local ds = datasets.CSV{path = p, target = "species"}
  check_eq(#ds, 5)
  check_eq(table.concat(ds.features, ","), "sepal_length,sepal_width,petal_length,petal_width")
  check_eq(ds.target, "species")
  check_eq(table.concat(ds.data.shape, ","), "5,4")
  check_eq(table.concat(ds.targets.shape, ","), "5")
  local x, y = ds:get(3)
  check_close(x, tensor.new{7.0, 3.2, 4.7, 1.4}, 0, "row 3")
  check_eq(math.type(y), "integer", "a whole target is an integer")
  check_eq(y, 2)
  check_close(ds.targets, tensor.new{1, 1, 2, 2, 3}, 0)
  -- positional arguments, features chosen and ordered
  local ds2 = datasets.CSV(p, "petal_width", {"petal_length", "sepal_length"})
  local x2, y2 = ds2:get(5)
  check_close(x2, tensor.new{6.0, 6.3}, 0)
  check_eq(math.type(y2), "float")
  check_close(y2, 2.5, 1e-6, "a float32 target")
  check_eq(table.concat(ds2.features, ","), "petal_length,sepal_length")
  -- the target in the middle
  local ds3 = datasets.CSV{path = p, target = "sepal_width"}
  check_eq(table.concat(ds3.features, ","), "sepal_length,petal_length,petal_width,species")
  check_close(ds3:get(1), tensor.new{5.1, 1.4, 0.2, 1}, 0)
  assert(tostring(ds):find("Number of datapoints: 5", 1, true), tostring(ds))
  assert(tostring(ds):find("Target: species", 1, true), tostring(ds))
  expect_error(function() return ds[1] end, "use ds:get(1)")
  rm(d)
end)

test("datasets.CSV: batches [B, F] and targets [B] from a DataLoader, Subset, random_split", function()
  local d, p = iris()
  local ds = datasets.CSV{path = p, target = "species"}
  local n, seen = 0, 0
  for x, y in data.DataLoader(ds, {batch_size = 2}):iter() do
    n = n + 1
    check_eq(x:dim(), 2)
    check_eq(x.shape[2], 4)
    check_eq(y:dim(), 1)
    check_eq(y.shape[1], x.shape[1])
    seen = seen + x.shape[1]
    if n == 1 then
      check_close(x, tensor.new{{5.1, 3.5, 1.4, 0.2}, {4.9, 3.0, 1.4, 0.2}}, 0)
      check_close(y, tensor.new{1, 1}, 0)
    end
  end
  check_eq(n, 3)
  check_eq(seen, 5)
  -- with a transform the samples go one by one: the same batches
  local tds = datasets.CSV{path = p, target = "species", transform = function(x) return x * 2 end,
                           target_transform = function(y) return y + 10 end}
  local x1, y1 = tds:get(1)
  check_close(x1, tensor.new{10.2, 7.0, 2.8, 0.4}, 1e-6)
  check_eq(y1, 11)
  for x, y in data.DataLoader(tds, 5):iter() do
    check_close(x, ds.data * 2, 1e-6)
    check_close(y, ds.targets + 10, 0)
  end
  -- shuffled: every row once, features matching targets
  local g = tensor.Generator(3)
  local total = 0
  for x, y in data.DataLoader(ds, {batch_size = 3, shuffle = true, generator = g}):iter() do
    for i = 1, x.shape[1] do
      local row
      for r = 1, #ds do if ds.data[r]:equal(x[i]) then row = r end end
      assert(row, "a row of the file")
      check_eq(y[i], ds.targets[row])
      total = total + 1
    end
  end
  check_eq(total, 5)
  local train, val = data.random_split(ds, {3, 2}, tensor.Generator(0))
  for x, y in data.DataLoader(val, 2):iter() do
    check_eq(x.shape[1], 2)
    check_eq(y.shape[1], 2)
  end
  local sub = data.Subset(ds, {5, 1})
  local x, y = sub:get(1)
  check_close(x, tensor.new{6.3, 3.3, 6.0, 2.5}, 0)
  check_eq(y, 3)
  for bx, by in data.DataLoader(sub, 2):iter() do
    check_close(bx, tensor.new{{6.3, 3.3, 6.0, 2.5}, {5.1, 3.5, 1.4, 0.2}}, 0)
    check_close(by, tensor.new{3, 1}, 0)
  end
  check_eq(#train, 3)
  -- a model trains on it
  tensor.manual_seed(0)
  local model = nn.Linear(4, 3)
  local loss = nn.CrossEntropyLoss()(model(ds.data), ds.targets)
  check_eq(loss:dim(), 0)
  rm(d)
end)

test("datasets.CSV: a field that is not a number names the line and the column", function()
  local d = tmpdir()
  local p = d .. "/iris.csv"
  local function err(text, want, opts)
    write_file(p, text)
    local o = {path = p, target = "species"}
    for k, v in pairs(opts or {}) do o[k] = v end
    return expect_error(function() datasets.CSV(o) end, (want:gsub("FILE", p)))
  end
  err(IRIS .. "5.0,3.6,1.4,abc,1\n",
      "datasets.CSV: 'FILE' line 7, column 4 ('petal_width'): 'abc' is not a number")
  err(IRIS .. "5.0,3.6,1.4,0.2,setosa\n", "'FILE' line 7, column 5 ('species'): 'setosa' is not a number")
  err(IRIS .. "5.0,,1.4,0.2,1\n", "'FILE' line 7, column 2 ('sepal_width'): the field is empty")
  err(IRIS .. '5.0,"",1.4,0.2,1\n', "'FILE' line 7, column 2 ('sepal_width'): the field is empty")
  err(IRIS .. "5.0,1e39,1.4,0.2,1\n", "'FILE' line 7, column 2 ('sepal_width'): 1e39 is outside float32's range")
  err(IRIS .. "5.0,0x10,1.4,0.2,1\n", "line 7, column 2 ('sepal_width'): '0x10' is not a number")
  err(IRIS .. "5.0," .. ("y"):rep(100) .. ",1.4,0.2,1\n", "'" .. ("y"):rep(40) .. "...' is not a number")
  err('a,species\n"1\n2",3\n4,x\n', "'FILE' line 2, column 1 ('a'): '1\n2' is not a number")
  err('a,b,species\n1,"x\ny",3\n4,5,z\n', "'FILE' line 4, column 3 ('species'): 'z' is not a number",
      {features = {"a"}})      -- lines counted past a field of two lines; b is not read
  -- a column left out may hold anything
  write_file(p, "name,x,species\nsetosa,1.5,1\n\"a, b\",2.5,2\n")
  local ds = datasets.CSV{path = p, target = "species", features = {"x"}}
  check_close(ds.data, tensor.new{{1.5}, {2.5}}, 0)
  -- quoted numbers, spaces, inf and nan are numbers here too
  write_file(p, 'a,b,species\n"1.5", 2 ,1\ninf,nan,2\n')
  ds = datasets.CSV{path = p, target = "species"}
  check_eq(ds.data[1][1], 1.5)
  check_eq(ds.data[1][2], 2)
  check_eq(ds.data[2][1], math.huge)
  assert(ds.data[2][2] ~= ds.data[2][2], "nan")
  -- the file's structure: the same errors as read_csv
  err("a,species\n1,2\n3\n", "datasets.CSV: 'FILE' line 3 has 1 field but the header has 2")
  err('a,species\n1,"2\n', "'FILE' line 2: the quoted field that starts here (column 2) is never closed")
  err("a,a,species\n1,2,3\n", "'FILE' line 1: column 2 repeats the name 'a' of column 1")
  err("a,species\n", "datasets.CSV: 'FILE' has no rows after its header")
  err("", "datasets.CSV: 'FILE' is empty")
  rm(d)
end)

test("datasets.CSV: columns that are not there, and argument errors", function()
  local d, p = iris()
  local cols = "its columns are: sepal_length, sepal_width, petal_length, petal_width, species"
  expect_error(function() datasets.CSV{path = p, target = "class"} end,
               "datasets.CSV: '" .. p .. "' has no column 'class' (the target); " .. cols)
  expect_error(function() datasets.CSV{path = p, target = "species", features = {"sepal_length", "petal"}} end,
               "datasets.CSV: '" .. p .. "' has no column 'petal' (features[2]); " .. cols)
  expect_error(function() datasets.CSV{path = p, target = "species", features = {"species"}} end,
               "datasets.CSV: features[1] is 'species', the target column")
  expect_error(function() datasets.CSV{path = p, target = "species", features = {"a", "a"}} end,
               "datasets.CSV: features[2] repeats 'a' (also features[1])")
  expect_error(function() datasets.CSV{path = p, target = "species", features = {}} end,
               "features must be a non-empty array of column names")
  expect_error(function() datasets.CSV{path = p, target = "species", features = {1}} end,
               "features[1] must be a column name (a non-empty string), got 1")
  expect_error(function() datasets.CSV{path = p} end, "datasets.CSV: missing required argument 'target'")
  expect_error(function() datasets.CSV{target = "species"} end, "missing required argument 'path'")
  expect_error(function() datasets.CSV{path = p, target = 5} end, "target must be a column name")
  expect_error(function() datasets.CSV{path = p, target = "species", root = "."} end,
               "datasets.CSV: unknown option 'root' (arguments: path, target, features?, transform?, target_transform?")
  expect_error(function() datasets.CSV(p, "species", {target = "x"}) end, "'target' given twice")
  expect_error(function() datasets.CSV{path = p, target = "species", transform = 3} end,
               "transform must be a function or a transform")
  expect_error(function() datasets.CSV{path = d .. "/none.csv", target = "y"} end,
               "datasets.CSV: cannot open '" .. d .. "/none.csv': No such file or directory")
  write_file(p, "y\n1\n")
  expect_error(function() datasets.CSV{path = p, target = "y"} end,
               "datasets.CSV: '" .. p .. "' has no column besides the target 'y'")
  rm(d)
end)
