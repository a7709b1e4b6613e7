-- CSV files: data.write_csv, data.read_csv, datasets.CSV (docs/data.md, "CSV files").
-- The format is checked against bytes written out by hand here (RFC 4180 with
-- "\n" line ends; numbers as pandas reads them).

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function sh(cmd) return os.execute(cmd) end
local function rm(d) sh("rm -rf " .. q(d)) end
local function run(cmd)
  local f = assert(io.popen(cmd))
  local s = f:read("a")
  f:close()
  return (s:gsub("\n$", ""))
end

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

test("write_csv: a FIFO is written through, never replaced", function()
  local d = tmpdir()
  local fifo = d .. "/pipe.csv"
  assert(sh("mkfifo " .. q(fifo)))
  expect_error(function() data.write_csv(fifo, {{1}}) end, "a FIFO with no reader")
  check_eq(run("stat -c %F " .. q(fifo)), "fifo")
  sh("cat " .. q(fifo) .. " > " .. q(d .. "/copy.csv") .. " &")
  local ok, err
  for _ = 1, 100 do                                -- until the reader has opened the FIFO
    ok, err = pcall(data.write_csv, fifo, {{1, "a"}, {2, "b"}}, {columns = {"n", "s"}})
    if ok or not tostring(err):find("no reader", 1, true) then break end
    sh("sleep 0.05")
  end
  assert(ok, err)
  local got
  for _ = 1, 100 do
    got = read_file(d .. "/copy.csv")
    if got == "n,s\n1,a\n2,b\n" then break end
    sh("sleep 0.05")
  end
  check_eq(got, "n,s\n1,a\n2,b\n")
  check_eq(run("stat -c %F " .. q(fifo)), "fifo")
  rm(d)
end)
