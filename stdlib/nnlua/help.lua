-- nnlua.help: the reference of every public name, read from the docs.
--
--   help()                  lists the modules
--   help(tensor)            lists a module's functions and classes
--   help(tensor.randn)      signature, paragraph and example of one name
--   help(nn.Linear), help(x), help(model), help("Tensor:sum")
--   help.text(v)            the same text, returned instead of printed
--   help.names()            {value = "tensor.randn", ...} for every public function and class
--   help.public()           the sorted array of every public name (what must be documented)
--   help.entries()          name -> {name, signature, text, example, page}
--   help.definitions()      {["tensor.lua"] = text, ...}: lua-language-server annotations
--   help.write_definitions(dir)  writes them (make types)
--
-- The one source is the "Reference" part of docs/tensor.md, nn.md, optim.md,
-- data.md and plot.md (found at <stdlib>/../docs, in a source tree and in an
-- installed share/nnlua). An entry is a level-3 heading naming one or more
-- public names, then one signature line per name in backquotes, then the
-- paragraph, then one ```lua example (which tests/lua/test_docs.lua runs):
--
--   ### tensor.randn
--
--   `tensor.randn(size..., [generator]) -> Tensor`
--
--   Samples of the standard normal distribution ...
--
--   ```lua
--   print(tensor.randn(2, 3))
--   ```
--
-- In a signature, [a] is optional, a = v optional with default v, a...
-- any number of them, {opts} an option table; "-> T" what it returns.
-- Methods are named Class:method (Tensor:sum, nn.Module:parameters); a
-- method that a subclass redefines is documented once, on the class that
-- defines it first.
local class = require "nnlua.class"

local help = {}

local STDLIB = debug.getinfo(1, "S").source:gsub("^@", ""):gsub("nnlua[/\\]help%.lua$", "")
help.DOCS = STDLIB .. "../docs/"
help.PAGES = {"tensor.md", "nn.md", "optim.md", "data.md", "plot.md"}

-- the modules whose fields are public, in the order help() lists them
help.MODULES = {
  {"tensor", "tensors, autograd, random numbers, saving and loading"},
  {"nn", "modules, layers and losses"},
  {"nn.functional", "layers and losses as functions"},
  {"nn.init", "initialising parameters in place"},
  {"nn.utils", "gradient clipping, gradient checks, state dict names"},
  {"nn.metrics", "accuracy and the confusion matrix"},
  {"optim", "optimizers"},
  {"optim.lr_scheduler", "learning-rate schedulers"},
  {"data", "datasets of tensors, subsets, the DataLoader, CSV files"},
  {"datasets", "FashionMNIST, MNIST, IDX files, folders of PNG images"},
  {"transforms", "image transforms for datasets"},
  {"plot", "figures written as PNG files"},
}

local function module_value(path)
  local v = _G
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

local function is_public(k)
  return type(k) == "string" and k:sub(1, 1) ~= "_"
end

-- a class's own methods, minus new and init (the class's entry covers them)
local function is_public_method(k)
  return is_public(k) and k ~= "init" and k ~= "new"
end

-- The public methods of cls: its own functions that no class above it has.
local function own_methods(cls)
  local out = {}
  for _, k in ipairs(sorted_keys(cls)) do
    local f = rawget(cls, k)
    if type(f) == "function" and is_public_method(k) then
      local up, inherited = rawget(cls, "super"), false
      while up do
        if rawget(up, k) ~= nil then inherited = true end
        up = rawget(up, "super")
      end
      if not inherited then out[#out + 1] = k end
    end
  end
  return out
end

local cache_names, cache_public
-- Walks the modules: fills names (value -> name) and public (array of names).
local function walk()
  if cache_names then return cache_names, cache_public end
  local names, public, classes = {}, {}, {}
  local function add(v, name)
    public[#public + 1] = name
    if (type(v) == "function" or type(v) == "table") and names[v] == nil then names[v] = name end
  end
  for _, m in ipairs(help.MODULES) do
    local M = module_value(m[1])
    names[M] = m[1]
    for _, k in ipairs(sorted_keys(M)) do
      local v = M[k]
      local full = m[1] .. "." .. k
      local sub = false
      for _, mm in ipairs(help.MODULES) do if mm[1] == full then sub = true end end
      if is_public(k) and not sub then
        add(v, full)
        if class.is_class(v) then classes[#classes + 1] = v end
      end
    end
  end
  -- classes: their own methods; base classes that no module exports get a
  -- name in their subclass's module (optim.lr_scheduler.LRScheduler)
  local i = 1
  while i <= #classes do
    local cls = classes[i]
    local name = names[cls]
    local up = rawget(cls, "super")
    if up and names[up] == nil then
      local base = name:gsub("[%w_]+$", "") .. rawget(up, "__name")
      add(up, base)
      classes[#classes + 1] = up
    end
    for _, k in ipairs(own_methods(cls)) do add(rawget(cls, k), name .. ":" .. k) end
    i = i + 1
  end
  -- userdata types of the tensor module
  local tmt = debug.getmetatable(require("tensor").zeros(1))
  names[tmt] = "Tensor"
  public[#public + 1] = "Tensor"
  for _, k in ipairs(sorted_keys(tmt.__methods)) do
    if is_public(k) then add(tmt.__methods[k], "Tensor:" .. k) end
  end
  local gmt = debug.getmetatable(require("tensor").Generator(1))
  names[gmt] = "Generator"
  public[#public + 1] = "Generator"
  for _, k in ipairs(sorted_keys(gmt.__index)) do
    if is_public(k) then add(gmt.__index[k], "Generator:" .. k) end
  end
  table.sort(public)
  cache_names, cache_public = names, public
  return names, public
end

function help.names() return (walk()) end
function help.public() return select(2, walk()) end

---------------------------------------------------------------------------
-- the entries in the docs

local cache_entries

-- Parses one page into entries (adds to out).
local function parse_page(text, page, out)
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = l end
  local in_ref, i = false, 1
  while i <= #lines do
    local l = lines[i]
    if l:match("^## ") then in_ref = l:match("^## Reference") ~= nil end
    local head = in_ref and l:match("^### (.+)$")
    if head then
      local names = {}
      for n in head:gmatch("[^,%s]+") do names[#names + 1] = n end
      local sigs, para, example = {}, {}, nil
      i = i + 1
      while i <= #lines and not lines[i]:match("^##") do
        local s = lines[i]
        local sig = s:match("^`(.-)`%s*$")
        if sig and #para == 0 then
          sigs[#sigs + 1] = sig
        elseif s:match("^```lua") then
          local code = {}
          i = i + 1
          while i <= #lines and not lines[i]:match("^```") do code[#code + 1] = lines[i]; i = i + 1 end
          example = example or table.concat(code, "\n")
        elseif s ~= "" or #para > 0 then
          para[#para + 1] = s
        end
        i = i + 1
      end
      while para[#para] == "" do para[#para] = nil end
      local body = table.concat(para, "\n")
      for _, n in ipairs(names) do
        local short = n:match("[%.:]([%w_]+)$") or n
        -- its own signatures: the same name, called the same way (x:outer(y)
        -- for Tensor:outer, tensor.outer(a, b) for tensor.outer)
        local mine, named = {}, {}
        local method = n:find(":", 1, true) ~= nil
        for _, s in ipairs(sigs) do
          local prefix, called = s:match("^([%w_.:]-)([%w_]+)%s*[%(%[{]")
          if not called then prefix, called = s:match("^([%w_.:]-)([%w_]+)") end
          if called == short or #sigs == 1 then
            named[#named + 1] = s
            if #sigs == 1 or (prefix or ""):sub(-1) == ":" == method then mine[#mine + 1] = s end
          end
        end
        if #mine == 0 then mine = #named > 0 and named or sigs end
        out[n] = {name = n, signatures = mine, text = body, example = example, page = page}
      end
    else
      i = i + 1
    end
  end
end

function help.entries()
  if cache_entries then return cache_entries end
  local out = {}
  for _, page in ipairs(help.PAGES) do
    local f = io.open(help.DOCS .. page, "r")
    if f then
      parse_page(f:read("a"), page, out)
      f:close()
    end
  end
  cache_entries = out
  return out
end

---------------------------------------------------------------------------
-- help()

local function indent(s, pad)
  return pad .. s:gsub("\n", "\n" .. pad)
end

local function entry_text(e)
  local parts = {table.concat(e.signatures, "\n"), "", indent(e.text, "  ")}
  if e.example then
    parts[#parts + 1] = ""
    parts[#parts + 1] = "Example:"
    parts[#parts + 1] = indent(e.example, "  ")
  end
  parts[#parts + 1] = ""
  parts[#parts + 1] = "(docs/" .. e.page .. ", \"Reference\")"
  return table.concat(parts, "\n")
end

local function module_text(mname)
  local entries, lines = help.entries(), {}
  local _, public = walk()
  lines[1] = mname .. ": " .. (function()
    for _, m in ipairs(help.MODULES) do if m[1] == mname then return m[2] end end
    return ""
  end)()
  lines[2] = ""
  local prefix = mname .. "."
  for _, name in ipairs(public) do
    if name:sub(1, #prefix) == prefix and not name:find(":") and not name:find("%.", #prefix + 1) then
      local e = entries[name]
      lines[#lines + 1] = "  " .. (e and e.signatures[1] or name)
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "help(" .. prefix .. "name) tells more."
  return table.concat(lines, "\n")
end

-- The methods of the class called name (cls its value, if a class), its
-- own and those of the classes above it.
local function class_methods_text(name, cls)
  local names, public = walk()
  local owners, seen, ms = {name}, {}, {}
  local up = cls and rawget(cls, "super")
  while up do
    if names[up] then owners[#owners + 1] = names[up] end
    up = rawget(up, "super")
  end
  for _, owner in ipairs(owners) do
    for _, n in ipairs(public) do
      local m = n:sub(1, #owner + 1) == owner .. ":" and n:sub(#owner + 2)
      if m and not seen[m] then seen[m] = true; ms[#ms + 1] = m end
    end
  end
  if #ms == 0 then return "" end
  table.sort(ms)
  local out, line = {}, "Methods:"
  for _, m in ipairs(ms) do
    if #line + #m + 2 > 78 then out[#out + 1] = line .. ","; line = " " end
    line = line .. (line == "Methods:" and " " or line == " " and "" or ", ") .. m
  end
  out[#out + 1] = line
  return "\n\n" .. table.concat(out, "\n ")
end

-- The name v is known by: a module, function, class, or an object's class.
local function name_of(v)
  local names = walk()
  if type(v) == "string" then return v end
  if names[v] then return names[v] end
  local mt = debug.getmetatable(v)
  if mt and names[mt] then return names[mt] end
  if type(v) == "table" and class.is_object(v) then
    local c = getmetatable(v)
    while c do
      if names[c] then return names[c] end
      c = rawget(c, "super")
    end
  end
  return nil
end

function help.text(...)
  if select("#", ...) == 0 then
    local lines = {"nnlua modules (help(name) lists one; help(f) explains f):", ""}
    for _, m in ipairs(help.MODULES) do lines[#lines + 1] = string.format("  %-20s %s", m[1], m[2]) end
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Full pages: docs/tensor.md, nn.md, optim.md, data.md, plot.md."
    return table.concat(lines, "\n")
  end
  local v = ...
  local name = name_of(v)
  if name == nil then
    return "no help for this " .. type(v) .. " (help() lists the modules)"
  end
  for _, m in ipairs(help.MODULES) do
    if m[1] == name then return module_text(name) end
  end
  local e = help.entries()[name]
  if e == nil and type(v) == "string" then       -- help("relu"): the names that hold it
    local _, public = walk()
    local found = {}
    for _, n in ipairs(public) do
      if n:match("[.:]" .. v:gsub("%p", "%%%0") .. "$") then found[#found + 1] = n end
    end
    if #found == 1 then return help.text(found[1]) end
    if #found > 1 then return "'" .. v .. "' is any of: " .. table.concat(found, ", ") end
  end
  if e == nil then return "no help for '" .. name .. "' (help() lists the modules)" end
  local text = entry_text(e)
  local value = (type(v) == "string" or class.is_object(v)) and module_value(name) or v
  if name == "Tensor" or name == "Generator" or class.is_class(value) then
    text = text .. class_methods_text(name, class.is_class(value) and value or nil)
  end
  return text
end

setmetatable(help, {
  __call = function(_, ...) print(help.text(...)) end,
  __tostring = function() return "help: help() lists the modules, help(x) explains x" end,
})

---------------------------------------------------------------------------
-- lua-language-server definitions

local PARAM_TYPES = {
  x = "Tensor", input = "Tensor", target = "Tensor", t = "Tensor", tensor = "Tensor",
  mask = "Tensor", index = "Tensor", idx = "Tensor", logits = "Tensor", targets = "Tensor",
  src = "Tensor", output = "Tensor", grad = "Tensor?",
  y = "Tensor|number", other = "Tensor|number", v = "Tensor|number", value = "any",
  dim = "integer", start_dim = "integer", end_dim = "integer", n = "integer", size = "integer|integer[]",
  length = "integer", start = "number", stop = "number", step = "number", rtol = "number",
  atol = "number", decay = "number", max_lr = "number", T_max = "integer", T_0 = "integer",
  milestones = "integer[]", schedulers = "table[]", m = "integer", positional = "boolean",
  k = "integer", cond = "Tensor", low = "integer", high = "integer", descending = "boolean",
  largest = "boolean", base = "number",
  param = "number", best = "number", C = "integer", lengths = "number[]", indices = "integer[]|Tensor",
  images = "string", labels = "string", root = "string", features = "string[]",
  ["datasets.CSV.target"] = "string",
  rows = "table[]", spec = "table", key = "string", group = "table", msg = "string",
  weight = "Tensor", running_mean = "Tensor", running_var = "Tensor", training = "boolean",
  data = "any", requires_grad = "boolean", inputs = "Tensor[]", delta = "integer",
  transforms = "table", lambd = "function", d1 = "integer", d2 = "integer", i = "integer",
  seed = "integer", num_classes = "integer", step_size = "integer", in_features = "integer",
  out_features = "integer", num_features = "integer", steps = "integer",
  p = "number", lr = "number", alpha = "number", eps = "number", momentum = "number",
  mean = "number|number[]", std = "number|number[]", lo = "number", hi = "number",
  a = "any", b = "any", min = "number", max = "number", gamma = "number", gain = "number",
  exponent = "number", negative_slope = "number", max_norm = "number", val = "number",
  generator = "Generator", g = "Generator",
  path = "string", name = "string", mode = "string", reduction = "string", nonlinearity = "string",
  fn = "function", closure = "function", lr_lambda = "function",
  keepdim = "boolean", bias = "boolean", strict = "boolean",
  params = "Tensor[]|table[]", optimizer = "optim.Optimizer", opt = "optim.Optimizer",
  model = "nn.Module", module = "nn.Module|function", ds = "table", dataset = "table",
  sd = "table", state = "string", state_dict = "table", tensors = "Tensor[]", options = "table",
}

local RETURN_TYPES = {
  Tensor = "Tensor", number = "number", integer = "integer", boolean = "boolean",
  string = "string", table = "table", Generator = "Generator", Figure = "plot.Figure",
}

local function split_args(s)
  local out, depth, cur = {}, 0, {}
  for c in s:gmatch(".") do
    if c == "(" or c == "[" or c == "{" then depth = depth + 1 end
    if c == ")" or c == "]" or c == "}" then depth = depth - 1 end
    if c == "," and depth == 0 then
      out[#out + 1] = table.concat(cur)
      cur = {}
    else
      cur[#cur + 1] = c
    end
  end
  local last = table.concat(cur)
  if last:match("%S") then out[#out + 1] = last end
  return out
end

-- "tensor.randn(size..., [generator]) -> Tensor" -> params, returns
local function parse_signature(sig)
  local fname = sig:match("^[%w_.:]+") or ""
  local args, ret = sig:match("^[^(]*%((.*)%)%s*%->%s*(.-)%s*$")
  if not args then args = sig:match("^[^(]*%((.*)%)%s*$") or "" end
  local params, seen = {}, {}
  for _, a in ipairs(split_args(args)) do
    a = a:gsub("^%s+", ""):gsub("%s+$", "")
    local optional = a:match("^%[") ~= nil or a:find("=", 1, true) ~= nil
    local name, kind
    if a:match("^%[?%s*{") then
      name, kind = "opts", "table"
      optional = true
    elseif a:match("%.%.%.") then
      name, kind = "...", PARAM_TYPES[a:match("[%a_][%w_]*") or ""] or "any"
    else
      name = a:match("[%a_][%w_]*")
      kind = name and (PARAM_TYPES[fname .. "." .. name] or PARAM_TYPES[name] or "any")
    end
    if name and not seen[name] then
      seen[name] = true
      params[#params + 1] = {name = name, type = kind, optional = optional}
    end
  end
  -- Lua's ... comes last: what follows it joins its type
  for k, p in ipairs(params) do
    if p.name == "..." and k < #params then
      local types = {p.type}
      for j = k + 1, #params do types[#types + 1] = params[j].type end
      p.type = table.concat(types, "|")
      for j = #params, k + 1, -1 do params[j] = nil end
      break
    end
  end
  local returns = {}
  for r in (ret or ""):gmatch("[^,]+") do
    r = r:gsub("^%s+", ""):gsub("%s+$", "")
    r = r:gsub("%.%.%.$", "")
    local arr = r:match("^(.-)%[%]$")
    returns[#returns + 1] = arr and (RETURN_TYPES[arr] or arr) .. "[]" or RETURN_TYPES[r]
                            or (r:match("^[%a_][%w_.]*$") and r) or "any"
  end
  return params, returns
end

local function var_of(name) return (name:gsub("[.:]", "_")) end

local function comment(text)
  return "--- " .. (text or ""):gsub("\n", "\n--- ")
end

local function function_lines(e, target, params, returns, lines)
  lines[#lines + 1] = comment(e.text)
  local names = {}
  for _, p in ipairs(params) do
    if p.name == "..." then
      lines[#lines + 1] = "---@param ... " .. p.type
    else
      lines[#lines + 1] = "---@param " .. p.name .. (p.optional and "? " or " ") .. p.type
    end
    names[#names + 1] = p.name
  end
  for _, r in ipairs(returns) do lines[#lines + 1] = "---@return " .. r end
  lines[#lines + 1] = "function " .. target .. "(" .. table.concat(names, ", ") .. ") end"
  lines[#lines + 1] = ""
end

-- The class a method belongs to ("nn.Module:parameters" -> "nn.Module").
local function owner(name) return name:match("^(.*):") end

-- The file a name's definition goes to: its top module.
local function file_of(name)
  if name == "Tensor" or name == "Generator" or name:match("^Tensor:") or name:match("^Generator:") then
    return "tensor.lua"
  end
  return name:match("^[%a_][%w_]*") .. ".lua"
end

function help.definitions()
  local names, public = walk()
  for v, n in pairs(names) do      -- "-> Module" in a signature is nn.Module
    local short = n:match("([%w_]+)$")
    if class.is_class(v) and (RETURN_TYPES[short] == nil or RETURN_TYPES[short] == n) then
      RETURN_TYPES[short] = n
    end
  end
  local entries = help.entries()
  local files = {}
  local function out(file)
    if not files[file] then
      files[file] = {"---@meta", "-- nnlua " .. file:gsub("%.lua$", "") ..
                     ": generated from docs/*.md by nnlua.help (make types); do not edit", ""}
    end
    return files[file]
  end
  -- module tables
  for _, m in ipairs(help.MODULES) do
    local lines = out(file_of(m[1]))
    lines[#lines + 1] = comment(m[2])
    lines[#lines + 1] = m[1] .. " = {}"
    lines[#lines + 1] = ""
  end
  local classes = {Tensor = true, Generator = true}
  for v, n in pairs(names) do
    if class.is_class(v) then classes[n] = v end
  end
  local tl = out("tensor.lua")
  for _, l in ipairs{"---@class Tensor",
                     "---@field shape integer[] the sizes of the dims (a new table)",
                     "---@field requires_grad boolean",
                     "---@field grad Tensor? the accumulated gradient",
                     "---@field grad_fn string? the op that made it",
                     "---@operator add(Tensor|number): Tensor", "---@operator sub(Tensor|number): Tensor",
                     "---@operator mul(Tensor|number): Tensor", "---@operator div(Tensor|number): Tensor",
                     "---@operator pow(Tensor|number): Tensor", "---@operator unm: Tensor",
                     "---@operator len: integer",
                     "---@field [integer] Tensor|number",
                     "local Tensor = {}", "", "---@class Generator", "local Generator = {}", ""} do
    tl[#tl + 1] = l
  end
  for _, name in ipairs(public) do
    local e = entries[name]
    local lines = out(file_of(name))
    local sig = e and e.signatures[1] or name .. "(...)"
    local params, returns = parse_signature(sig)
    if name == "Tensor" or name == "Generator" then
      -- declared above
    elseif classes[name] then
      local cls = classes[name]
      local up = rawget(cls, "super")
      local parent = up and names[up]
      lines[#lines + 1] = comment(e and e.text)
      lines[#lines + 1] = "---@class " .. name .. (parent and " : " .. parent or "")
      lines[#lines + 1] = "---@field [string] any fields set in init (weight, param_groups, ...)"
      local ps = {}
      for _, p in ipairs(params) do
        ps[#ps + 1] = (p.name == "..." and "..." or p.name .. (p.optional and "?" or "")) .. ": " .. p.type
      end
      lines[#lines + 1] = "---@overload fun(" .. table.concat(ps, ", ") .. "): " .. name
      lines[#lines + 1] = "local " .. var_of(name) .. " = {}"
      if not name:match("LRScheduler$") or module_value(name) then
        lines[#lines + 1] = name .. " = " .. var_of(name)
      end
      lines[#lines + 1] = ""
    elseif owner(name) then
      local method = name:match(":([%w_]+)$")
      local target = var_of(owner(name)) .. ":" .. method
      if owner(name) == "Tensor" or owner(name) == "Generator" then target = owner(name) .. ":" .. method end
      if e then
        -- the receiver is not a parameter
        function_lines(e, target, params, returns, lines)
      else
        function_lines({text = ""}, target, {}, {}, lines)
      end
    else
      function_lines(e or {text = ""}, name, params, returns, lines)
      for k = 2, e and #e.signatures or 0 do        -- tensor.arange(n), arange(start, stop, step)
        local ps, rs = parse_signature(e.signatures[k])
        local args = {}
        for _, p in ipairs(ps) do
          args[#args + 1] = (p.name == "..." and "..." or p.name .. (p.optional and "?" or "")) .. ": " .. p.type
        end
        table.insert(lines, #lines - 1, "---@overload fun(" .. table.concat(args, ", ") .. ")"
                     .. (#rs > 0 and ": " .. table.concat(rs, ", ") or ""))
      end
    end
  end
  local texts = {}
  for file, lines in pairs(files) do texts[file] = table.concat(lines, "\n") .. "\n" end
  return texts
end

function help.write_definitions(dir)
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  for file, text in pairs(help.definitions()) do
    local f = assert(io.open(dir .. "/" .. file, "w"))
    f:write(text)
    f:close()
  end
end

return help
