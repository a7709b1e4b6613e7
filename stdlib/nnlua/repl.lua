-- nnlua.repl: the Lua half of the REPL (vm/repl.c reads lines and calls these).
--
--   repl.new()                    -> a session: its environment and its locals
--   session:load(code, name)      -> the compiled line, or nil, message
--   session:keep(locals)          -> makes {name = value} REPL locals (nnlua -i script.lua)
--   repl.show(v)                  -> the text the REPL prints for one value
--   session:complete(text)        -> the completions of text (Tab)
--
-- Locals that last. Every line is its own chunk, so a `local` would end with
-- its line. A session compiles each line with its own environment E instead
-- of _G, after rewriting the `local` statements at the top level of the line
-- into assignments of names it marks as REPL locals:
--
--   local a, b <const> = 1, 2      becomes      a, b          = 1, 2
--   local function f() end         becomes      function f() end
--   local x                        becomes      x = nil
--
-- Only the text of the statement changes (spaces in place of `local` and of
-- the attributes), never a line break, so error messages keep their line
-- numbers. E holds the REPL locals as raw fields; any other name reads and
-- writes the global through E's metatable, so `x = 1` with no local x still
-- makes a global. A REPL local shadows a global of the same name, even
-- while nil. A statement with a `<close>` variable is left as it is: it is
-- closed at the end of its line, as a to-be-closed variable must be.
-- Locals inside blocks and functions are untouched.
--
-- Completion reads tables raw and follows metatables whose __index is a
-- table; it never calls a function the user wrote (no __index function, no
-- __pairs). Objects of nnlua's own classes are followed through their class,
-- and a module's registered submodules and parameters are listed; tensors
-- list their methods and fields.
local class = require "nnlua.class"

local repl = {}

local MODULES = {"tensor", "nn", "optim", "data", "datasets", "transforms", "plot"}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
            repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

---------------------------------------------------------------------------
-- the top-level locals of a chunk

local OPEN = {["function"] = true, ["do"] = true, ["if"] = true, ["repeat"] = true}
local CLOSE = {["end"] = true, ["until"] = true}

-- Position just after the long bracket opening at i ("[[" or "[==["), and its
-- closing text, or nil when s:sub(i) opens none.
local function long_open(s, i)
  local eq = s:match("^%[(=*)%[", i)
  if not eq then return nil end
  return i + #eq + 2, "]" .. eq .. "]"
end

-- The tokens of code that matter here: names (keywords included) and
-- punctuation, each {text, first, last}. Strings, numbers and comments are
-- skipped; an unfinished one ends the list (the parser reports it).
local function tokens(code)
  local out, i, n = {}, 1, #code
  while i <= n do
    local c = code:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif code:sub(i, i + 1) == "--" then
      local after, close = long_open(code, i + 2)
      if after then
        local e = select(2, code:find(close, after, true))
        if not e then break end
        i = e + 1
      else
        i = (code:find("\n", i, true) or n) + 1
      end
    elseif c:match("[%a_]") then
      local e = select(2, code:find("^[%w_]*", i + 1))
      out[#out + 1] = {code:sub(i, e), i, e}
      i = e + 1
    elseif c:match("%d") or (c == "." and code:sub(i + 1, i + 1):match("%d")) then
      local e = i
      while e < n do
        local d, nx = code:sub(e, e), code:sub(e + 1, e + 1)
        if nx:match("[%w_.]") or (nx:match("[+-]") and d:match("[eEpP]")) then e = e + 1
        else break end
      end
      i = e + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = code:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      if j > n then break end
      i = j + 1
    elseif c == "[" and long_open(code, i) then
      local after, close = long_open(code, i)
      local e = select(2, code:find(close, after, true))
      if not e then break end
      i = e + 1
    else
      local two = code:sub(i, i + 1)
      local len = (two == "==" or two == "~=" or two == "<=" or two == ">=" or two == "::"
                   or two == "<<" or two == ">>" or two == "//" or two == "..") and 2 or 1
      if code:sub(i, i + 2) == "..." then len = 3 end
      out[#out + 1] = {code:sub(i, i + len - 1), i, i + len - 1}
      i = i + len
    end
  end
  return out
end

-- Parses the names of the local statement whose `local` is token k.
-- Returns the names, the edits (attributes to blank out) and the index of
-- the token after the list, or nil for a <close> or anything it does not
-- know (the statement is then left alone).
local function local_names(toks, k)
  local names, blanks = {}, {}
  local j = k + 1
  while true do
    local t = toks[j]
    if not t or not t[1]:match("^[%a_][%w_]*$") or KEYWORDS[t[1]] then return nil end
    names[#names + 1] = t[1]
    j = j + 1
    if toks[j] and toks[j][1] == "<" then
      local attr, close = toks[j + 1], toks[j + 2]
      if not (attr and close and close[1] == ">") or attr[1] ~= "const" then return nil end
      blanks[#blanks + 1] = {toks[j][2], close[3]}
      j = j + 3
    end
    if not (toks[j] and toks[j][1] == ",") then break end
    j = j + 1
  end
  return names, blanks, j
end

-- Rewrites the top-level local statements of code (see the top of the file).
-- Returns the new code and the array of names it declares.
function repl.rewrite(code)
  local toks = tokens(code)
  local depth, names, edits = 0, {}, {}
  local k = 1
  while k <= #toks do
    local w = toks[k][1]
    if OPEN[w] then
      depth = depth + 1
    elseif CLOSE[w] then
      depth = math.max(depth - 1, 0)
    elseif w == "local" and depth == 0 then
      local nxt = toks[k + 1]
      if nxt and nxt[1] == "function" then
        local name = toks[k + 2]
        if name and name[1]:match("^[%a_][%w_]*$") then
          names[#names + 1] = name[1]
          edits[#edits + 1] = {toks[k][2], toks[k][3], ""}
        end
      else
        local list, blanks, after = local_names(toks, k)
        if list then
          for _, v in ipairs(list) do names[#names + 1] = v end
          edits[#edits + 1] = {toks[k][2], toks[k][3], ""}
          for _, b in ipairs(blanks) do edits[#edits + 1] = {b[1], b[2], ""} end
          if not (toks[after] and toks[after][1] == "=") then
            local last = toks[after - 1][3]
            edits[#edits + 1] = {last + 1, last, " = nil"}
          end
        end
      end
    end
    k = k + 1
  end
  table.sort(edits, function(a, b) return a[1] < b[1] end)
  local parts, pos = {}, 1
  for _, e in ipairs(edits) do
    parts[#parts + 1] = code:sub(pos, e[1] - 1)
    local removed = e[2] - e[1] + 1
    parts[#parts + 1] = e[3] ~= "" and e[3] or string.rep(" ", removed)
    pos = e[2] + 1
  end
  parts[#parts + 1] = code:sub(pos)
  return table.concat(parts), names
end

---------------------------------------------------------------------------
-- a session

local Session = {}
Session.__index = Session

function repl.new()
  local declared = {}
  local ok, help = pcall(require, "nnlua.help")
  local env = setmetatable({}, {
    __index = function(_, k)
      if declared[k] then return nil end
      return _G[k]
    end,
    __newindex = function(t, k, v)
      if declared[k] then rawset(t, k, v) else _G[k] = v end
    end,
  })
  if ok then rawset(env, "help", help) end
  return setmetatable({env = env, declared = declared}, Session)
end

-- Compiles one input; on success its top-level locals are REPL locals from
-- now on. Returns the function, or nil and the message.
function Session:load(code, name)
  local text, names = repl.rewrite(code)
  local f, err = load(text, name, "t", self.env)
  if not f then return nil, err end
  for _, v in ipairs(names) do self.declared[v] = true end
  return f
end

-- Makes the entries of locals (name -> value) REPL locals.
function Session:keep(locals)
  for k, v in pairs(locals) do
    self.declared[k] = true
    rawset(self.env, k, v)
  end
end

---------------------------------------------------------------------------
-- printing values

local MAXDEPTH = 4       -- tables nested deeper print as {...}
local MAXITEMS = 100     -- entries shown per table
local WIDTH = 80         -- a table that fits in this many columns prints on one line

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"):gsub("\r", "\\r"))
end

local function meta(v)
  local mt = debug.getmetatable(v)
  return type(mt) == "table" and mt or nil
end

local names_of    -- value -> "tensor.randn", from nnlua.help (loaded on first need)
local function qualified(v)
  if names_of == nil then
    local ok, help = pcall(require, "nnlua.help")
    names_of = ok and help.names() or {}
  end
  return names_of[v]
end

local function tensor_summary(t)
  local shape = {}
  for i, d in ipairs(t.shape) do shape[i] = tostring(d) end
  local s = "tensor(shape=[" .. table.concat(shape, ", ") .. "]"
  local fn = t.grad_fn
  if fn then s = s .. ", grad_fn=<" .. fn .. ">"
  elseif t.requires_grad then s = s .. ", requires_grad=true" end
  return s .. ")"
end

local function key_text(k)
  if type(k) == "string" then
    if k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
    return "[" .. quote(k) .. "]"
  end
  if math.type(k) == "integer" then return "[" .. k .. "]" end
  return "[" .. tostring(k) .. "]"
end

local KEYORDER = {number = 1, string = 2, boolean = 3}
local function key_less(a, b)
  local ta, tb = KEYORDER[type(a)] or 4, KEYORDER[type(b)] or 4
  if ta ~= tb then return ta < tb end
  if ta <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local show

-- v as it stands inside a table (nested: strings quoted, big tensors summed up)
local function show_table(t, depth, seen, indent)
  if seen[t] then return "<cycle>" end
  if depth >= MAXDEPTH then return next(t) == nil and "{}" or "{...}" end
  seen[t] = true
  local items, n = {}, 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_less)
  local total = n + #keys
  local inner = indent .. "  "
  for i = 1, math.min(n, MAXITEMS) do items[#items + 1] = show(rawget(t, i), depth + 1, seen, inner) end
  for i = 1, math.min(#keys, MAXITEMS - #items) do
    local k = keys[i]
    items[#items + 1] = key_text(k) .. " = " .. show(rawget(t, k), depth + 1, seen, inner)
  end
  if total > #items then items[#items + 1] = "... (" .. (total - #items) .. " more)" end
  seen[t] = nil
  if #items == 0 then return "{}" end
  local one = "{" .. table.concat(items, ", ") .. "}"
  if #one + #indent <= WIDTH and not one:find("\n") then return one end
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. "\n" .. indent .. "}"
end

-- The text of v; depth > 0 inside a table, where continuation lines get indent.
show = function(v, depth, seen, indent)
  local tv = type(v)
  if tv == "string" then return depth > 0 and quote(v) or v end
  if tv == "number" or tv == "boolean" or tv == "nil" then return tostring(v) end
  if tv == "function" then
    local name = qualified(v)
    return name and "<function " .. name .. ">" or tostring(v)
  end
  if tv == "table" and class.is_class(v) then
    return "<class " .. (qualified(v) or rawget(v, "__name") or "?") .. ">"
  end
  local mt = meta(v)
  if mt and rawget(mt, "__name") == "nn.Tensor" and depth > 0 then
    local s = tostring(v)
    return s:find("\n") and tensor_summary(v) or s
  end
  if mt and (rawget(mt, "__tostring") or rawget(mt, "__name")) or tv ~= "table" then
    return (tostring(v):gsub("\n", "\n" .. indent))
  end
  return show_table(v, depth, seen, indent)
end

function repl.show(v)
  return show(v, 0, {}, "")
end

---------------------------------------------------------------------------
-- completion

-- The value nnlua documents behind a global name (a module loads on first use).
local function lookup_global(env, k)
  local v = rawget(env, k)
  if v ~= nil then return v end
  v = rawget(_G, k)
  if v ~= nil then return v end
  for _, m in ipairs(MODULES) do
    if m == k then return _G[k] end
  end
  return nil
end

-- Calls add(key, value) for the fields of v that can be read without running
-- code: raw fields, then through metatables (an __index table, an nnlua
-- class, a module's registered children, a tensor's methods and fields).
local function each_field(v, add, seen)
  seen = seen or {}
  if seen[v] then return end
  seen[v] = true
  local mt = meta(v)
  if type(v) == "table" then
    for k, x in next, v do add(k, x) end
    if class.is_object(v) then
      for _, part in ipairs{"_modules", "_params", "_buffers"} do
        local t = rawget(v, part)
        if type(t) == "table" then for k, x in next, t do add(k, x) end end
      end
    end
  end
  if not mt then return end
  if rawget(mt, "__name") == "nn.Tensor" then
    for _, k in ipairs{"shape", "grad", "requires_grad", "grad_fn"} do add(k, nil) end
  end
  local methods = rawget(mt, "__methods")
  if type(methods) == "table" then each_field(methods, add, seen) end
  local idx = rawget(mt, "__index")
  if type(idx) == "table" then each_field(idx, add, seen)
  elseif class.is_class(mt) then each_field(mt, add, seen) end
end

-- the chunk-name prefix of nnlua's own files: this file is <stdlib>/nnlua/repl.lua
local STDLIB = debug.getinfo(1, "S").source:gsub("nnlua[/\\]repl%.lua$", "")

-- whether f is an __index function of nnlua's own (stdlib, or C for a tensor)
local function own_index(v, f)
  if type(f) ~= "function" then return false end
  local info = debug.getinfo(f, "S")
  if info.what == "C" then return rawget(meta(v), "__name") == "nn.Tensor" end
  return info.source:sub(1, #STDLIB) == STDLIB
end

-- The field k of v, read the same way, or through an __index function of
-- nnlua's own (a tensor's fields, seq[i]); nil when that would run other code.
local function field(v, k)
  local mt = meta(v)
  if mt and own_index(v, rawget(mt, "__index")) then
    local ok, x = pcall(function() return v[k] end)
    return ok and x or nil
  end
  local found
  each_field(v, function(key, x) if key == k and found == nil then found = x end end)
  return found
end

-- Completions of text: "pri", "tensor.ra", "model.fc1.we", "seq[2].we", "x:su".
function Session:complete(text)
  local path, sep, last = text:match("^(.-)([.:])([%w_]*)$")
  local out, seen = {}, {}
  local function add(k, x, prefix)
    if type(k) == "string" and k:match("^[%a_][%w_]*$") and k:sub(1, #last) == last
       and not seen[k] and not (last == "" and k:sub(1, 1) == "_") then
      if sep == ":" and type(x) ~= "function" then return end
      seen[k] = true
      out[#out + 1] = prefix .. k
    end
  end
  if not path then
    last = text:match("[%a_][%w_]*$") or ""
    if last ~= text then return {} end
    for k, x in next, self.env do add(k, x, "") end
    for k, x in next, _G do add(k, x, "") end
    for _, m in ipairs(MODULES) do add(m, true, "") end
    for k in pairs(KEYWORDS) do add(k, true, "") end
  else
    local v, rest = nil, path
    local first = rest:match("^[%a_][%w_]*")
    if not first then return {} end
    v, rest = lookup_global(self.env, first), rest:sub(#first + 1)
    while v ~= nil and rest ~= "" do
      local name = rest:match("^%.([%a_][%w_]*)")
      local index = rest:match("^%[(%d+)%]")
      if name then v, rest = field(v, name), rest:sub(#name + 2)
      elseif index then v, rest = field(v, math.tointeger(tonumber(index))), rest:sub(#index + 3)
      else return {} end
    end
    if v == nil then return {} end
    each_field(v, function(k, x) add(k, x, path .. sep) end)
  end
  table.sort(out)
  return out
end

return repl
