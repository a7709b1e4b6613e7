-- CSV files for scripts (docs/data.md, "CSV files"):
--
--   data.write_csv(path, rows [, {columns = names}])   rows to a CSV file, atomically
--   data.read_csv(path) -> rows                        records keyed by column name
--
-- The text is made here; the file is written whole or not at all by
-- data._C.write_file (nn/io/atomic.c), which also makes missing folders,
-- keeps an existing file's mode and writes through a FIFO or device instead
-- of replacing it. Reading is data._C.csv_read (bindings/l_data.c, over the
-- parser in nn/io/csv.c), which datasets.CSV uses too.
--
-- Values are written so that read_csv gives them back: numbers in the
-- shortest form that reads back to the same double (integers without a
-- point, integral floats with ".0"; inf, -inf and nan as pandas reads them),
-- strings quoted (RFC 4180) when they hold a comma, a quote, CR or LF, start
-- or end with a space, are empty, or would read as a number; read_csv keeps
-- every quoted field a string.
local args = require "nnlua.args"
local C = require "data._C"

local csv = {}

local WRITE = "data.write_csv"

-- whether read_csv would read the unquoted text s as a number: what tonumber
-- reads in decimal (never hex), or inf, infinity, nan in any case, signed.
-- data._C.csv_read applies the same rule (nn_csv_number in nn/io/csv.c).
local function numeric(s)
  if s:find("[xX]") then return false end
  if tonumber(s) ~= nil then return true end
  local w = s:match("^%s*[+-]?(%a+)%s*$")
  w = w and w:lower()
  return w == "inf" or w == "infinity" or w == "nan"
end

-- the shortest %.Ng that reads back as v. A double with a form of 15 digits
-- or fewer gets it from %.15g (which drops trailing zeros); subnormals, with
-- fewer bits, may need fewer digits still, so they try every N.
local function format_float(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  local s
  for n = (v ~= 0 and math.abs(v) < 2.2250738585072014e-308) and 1 or 15, 17 do
    s = string.format("%." .. n .. "g", v)
    if tonumber(s) == v then break end
  end
  if s:find("^-?%d+$") then s = s .. ".0" end       -- a float stays a float: 3.0, not 3
  return s
end

local function quote(s)
  return '"' .. s:gsub('"', '""') .. '"'
end

-- a string field: quoted when it must be (and when it starts with a UTF-8
-- byte order mark, which read_csv would skip at the start of the file)
local function format_string(s, is_name)
  if s == "" or s:find('[,"\r\n]') or s:find("^%s") or s:find("%s$")
     or (not is_name and numeric(s)) or s:find("^\239\187\191") then
    return quote(s)
  end
  return s
end

local function where(r, c, names)
  if names and names[c] then
    return string.format("row %d, column %d ('%s')", r, c, names[c])
  end
  return string.format("row %d, column %d", r, c)
end

-- the text of one value, or an error naming its row and column
local function format_value(v, r, c, names)
  local t = type(v)
  if v == nil then return "" end
  if math.type(v) == "integer" then return string.format("%d", v) end
  if t == "number" then return format_float(v) end
  if t == "string" then return format_string(v) end
  if t == "boolean" then return v and "true" or "false" end
  local hint = ""
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__name == "nn.Tensor" then
    hint = " (a tensor: write x:item() for a one-element tensor)"
  end
  error(string.format("%s: %s is a %s%s; a CSV field is a number, a string, a boolean or nil",
                      WRITE, where(r, c, names), mt and mt.__name or t, hint), 3)
end

-- the column names to write: options.columns, else rows.columns, else nil;
-- checked to be distinct non-empty strings
local function header(rows, opts)
  local names, from = opts.columns, "columns"
  if names == nil then
    names, from = rawget(rows, "columns"), "rows.columns"
  end
  if names == nil then return nil end
  if type(names) ~= "table" then
    error(string.format("%s: %s must be an array of column names (strings), got %s",
                        WRITE, from, args.describe(names)), 3)
  end
  local seen = {}
  for c = 1, #names do
    local name = names[c]
    if type(name) ~= "string" then
      error(string.format("%s: %s[%d] must be a column name (a string), got %s",
                          WRITE, from, c, args.describe(name)), 3)
    end
    if name == "" then
      error(string.format("%s: %s[%d] is empty; every column needs a name", WRITE, from, c), 3)
    end
    if seen[name] then
      error(string.format("%s: %s[%d] repeats the name '%s' (also %s[%d])",
                          WRITE, from, c, name, from, seen[name]), 3)
    end
    seen[name] = c
  end
  if #names == 0 then
    error(string.format("%s: %s is empty; give the column names, or leave it out", WRITE, from), 3)
  end
  return names
end

-- "array" or "record" (a table with no keys is an array), or an error
local function kind(row, r)
  if type(row) ~= "table" then
    error(string.format("%s: row %d is %s; a row is a table: an array of values in column "
                        .. "order, or a record keyed by column name", WRITE, r, args.describe(row)), 3)
  end
  local positions, names
  for k in pairs(row) do
    if type(k) == "string" then names = names or k
    elseif math.type(k) == "integer" and k >= 1 then positions = positions or k
    else
      error(string.format("%s: row %d has the key %s; a row is an array of values or a record "
                          .. "keyed by column name (strings)", WRITE, r, args.describe(k)), 3)
    end
  end
  if positions and names then
    error(string.format("%s: row %d mixes positions ([%d]) and names ('%s'); use one or the other",
                        WRITE, r, positions, names), 3)
  end
  return names and "record" or "array"
end

-- the largest integer key of an array row (its fields, trailing nils dropped)
local function width(row)
  local n = 0
  for k in pairs(row) do
    if math.type(k) == "integer" and k > n then n = k end
  end
  return n
end

-- path must be a non-empty string without NUL bytes
local function check_path(fn, path)
  if type(path) ~= "string" or path == "" then
    error(string.format("%s: path must be a file name (a non-empty string), got %s", fn,
                        args.describe(path)), 3)
  end
  if path:find("\0", 1, true) then
    error(string.format("%s: path %q has a NUL byte inside", fn, path), 3)
  end
end

local OPTIONS = {columns = true}

function csv.write_csv(path, rows, opts)
  check_path(WRITE, path)
  if type(rows) ~= "table" then
    error(string.format("%s: rows must be an array of rows, got %s", WRITE, args.describe(rows)), 2)
  end
  opts = args.check_opts(WRITE, opts, OPTIONS)
  local names = header(rows, opts)
  local ncols = names and #names
  if not names then                         -- array rows alone: as many fields as the longest
    ncols = 0
    for r = 1, #rows do
      local row = rows[r]
      if type(row) == "table" then ncols = math.max(ncols, width(row)) end
    end
  end
  local index = {}                          -- column name -> position
  if names then for c, name in ipairs(names) do index[name] = c end end
  local lines, fields = {}, {}
  if names then
    for c = 1, ncols do fields[c] = format_string(names[c], true) end
    lines[1] = table.concat(fields, ",", 1, ncols)
  end
  for r = 1, #rows do
    local row = rows[r]
    if kind(row, r) == "record" then
      if not names then
        error(string.format("%s: row %d is a record (keyed by column name), which needs a header: "
                            .. "give the names in order, data.write_csv(path, rows, {columns = "
                            .. "{\"epoch\", \"loss\"}}), or set rows.columns", WRITE, r), 2)
      end
      for k in pairs(row) do
        if not index[k] then
          error(string.format("%s: row %d has the key '%s', which is not a column (columns: %s)",
                              WRITE, r, k, table.concat(names, ", ")), 2)
        end
      end
      for c = 1, ncols do fields[c] = format_value(row[names[c]], r, c, names) end
    else
      local n = width(row)
      if n > ncols then
        error(string.format("%s: row %d has %d values but there are %d columns (%s)", WRITE, r, n,
                            ncols, table.concat(names, ", ")), 2)
      end
      for c = 1, ncols do fields[c] = format_value(row[c], r, c, names) end
    end
    lines[#lines + 1] = table.concat(fields, ",", 1, ncols)
  end
  lines[#lines + 1] = ""                    -- every line ends with "\n"
  local text = #lines > 1 and table.concat(lines, "\n") or ""
  local ok, err = pcall(C.write_file, path, text)
  if not ok then error(string.format("%s: %s", WRITE, err), 2) end
end

local READ = "data.read_csv"

-- data.read_csv(path) -> rows: records keyed by column name, rows.columns the
-- header's names in order. Unquoted numbers become numbers, empty fields nil,
-- anything else (and every quoted field) a string.
function csv.read_csv(path, ...)
  check_path(READ, path)
  local n = select("#", ...)
  if n > 0 then
    error(string.format("%s: takes one argument, the path (got %d more)", READ, n), 2)
  end
  local ok, rows = pcall(C.csv_read, path)
  if not ok then error(string.format("%s: %s", READ, rows), 2) end
  return rows
end

return csv
