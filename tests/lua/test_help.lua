-- The reference (docs/*.md, "Reference"), help() and the editor definitions
-- (make types) cover every public name: every field of the modules not
-- starting with "_", every Tensor and Generator method, and the methods of
-- nnlua's classes. The examples themselves are run by test_docs.lua.
local help = require "nnlua.help"

local public = help.public()
local entries = help.entries()

test("the public names are found by walking the modules", function()
  assert(#public > 200, #public)
  local set = {}
  for _, n in ipairs(public) do set[n] = true end
  for _, n in ipairs{"tensor.randn", "tensor.new", "tensor.cat", "Tensor:size", "Tensor:clone", "Tensor:pow",
                     "Tensor:totable", "nn.Linear", "nn.Module:parameters", "nn.functional.relu",
                     "optim.SGD", "optim.Optimizer:step", "optim.lr_scheduler.InverseTimeLR",
                     "optim.lr_scheduler.LRScheduler:get_last_lr", "data.DataLoader", "plot.lines",
                     "Generator:manual_seed"} do
    assert(set[n], n .. " is not among the public names")
  end
  for _, n in ipairs(public) do
    assert(not n:match("[.:]_"), n)
  end
end)

test("every public name has a reference entry: signature, paragraph, example", function()
  local missing = {}
  for _, n in ipairs(public) do
    local e = entries[n]
    if not (e and #e.signatures > 0 and e.text:match("%S") and e.example and e.example:match("%S")) then
      missing[#missing + 1] = n
    end
  end
  if #missing > 0 then error(#missing .. " names lack a full entry: " .. table.concat(missing, ", ")) end
end)

test("each entry's signatures name what they document", function()
  for _, n in ipairs(public) do
    local e = entries[n]
    if e and n ~= "Tensor" and n ~= "Generator" then
      local short = n:match("[%w_]+$")
      local found = false
      for _, s in ipairs(e.signatures) do
        if s:find(short, 1, true) then found = true end
      end
      assert(found, n .. ": no signature mentions " .. short)
    end
  end
end)

test("help(value) finds the entry by identity, help(name) by name", function()
  local t = help.text(tensor.randn)
  assert(t:find("tensor.randn(size..., [generator]) -> Tensor", 1, true), t)
  assert(t:find("Example:", 1, true), t)
  assert(help.text(nn.Linear):find("nn.Linear(in_features", 1, true))
  local x = tensor.zeros(2)
  local tx = help.text(x)
  assert(tx:find("A float32 tensor", 1, true) and tx:find("Methods:", 1, true), tx)
  assert(help.text(x.sum):find("x:sum([dim]", 1, true))
  assert(help.text(nn.Linear(2, 2)):find("nn.Linear(", 1, true))     -- an object: its class
  local MLP = nn.Module:extend("MLP")
  assert(help.text(MLP()):find("nn.Module", 1, true))               -- a user's class: its base
  assert(help.text("Tensor:size"):find("x:size([dim])", 1, true))
  assert(help.text(optim.SGD):find("Methods:", 1, true))
  assert(help.text():find("optim.lr_scheduler", 1, true))
  assert(help.text(nn):find("nn.Linear", 1, true))
  check_eq(help.text(42), "no help for this number (help() lists the modules)")
  check_eq(tostring(help), "help: help() lists the modules, help(x) explains x")
  check_eq(help.text("nn.Nothing"), "no help for 'nn.Nothing' (help() lists the modules)")
  check_eq(help.text("relu"), "'relu' is any of: Tensor:relu, nn.functional.relu")
  assert(help.text("kaiming_normal_"):find("nn.init.kaiming_normal_(t", 1, true))   -- one: its entry
  for _, n in ipairs(public) do
    assert(not help.text(n):find("^no help"), n)
  end
  for v, n in pairs(help.names()) do
    local text = help.text(v)
    assert(text:find(n, 1, true) or text:find(n:match("[%w_]+$"), 1, true), n)
  end
end)

test("the definitions parse as Lua and declare every public name", function()
  local defs = help.definitions()
  local all = {}
  for file, text in pairs(defs) do
    assert(text:sub(1, 8) == "---@meta", file)
    assert(load(text, "=" .. file, "t"), file)
    all[#all + 1] = text
  end
  for _, m in ipairs{"tensor", "nn", "optim", "data", "datasets", "transforms", "plot"} do
    assert(defs[m .. ".lua"], m .. ".lua")
  end
  local text = table.concat(all, "\n")
  local function has(s) return text:find(s, 1, true) ~= nil end
  for _, n in ipairs(public) do
    local cls, method = n:match("^(.*):([%w_]+)$")
    local ok
    if cls then
      local var = (cls == "Tensor" or cls == "Generator") and cls or cls:gsub("[.:]", "_")
      ok = has("function " .. var .. ":" .. method .. "(")
    else
      ok = has("function " .. n .. "(") or has("---@class " .. n .. "\n") or has("---@class " .. n .. " :")
    end
    assert(ok, n .. " has no definition")
  end
  assert(has("---@param dim? integer"), "optional parameters are marked")
  assert(has("---@return Tensor"), "return types")
  assert(has("---@class nn.Linear : nn.Module"), "classes name their base")
end)

test("make types writes the definitions to a folder", function()
  local dir = tmpdir()
  help.write_definitions(dir .. "/types")
  local text = read_file(dir .. "/types/tensor.lua")
  assert(text:find("---@class Tensor", 1, true))
  os.execute("rm -rf '" .. dir .. "'")
end)
