-- Every ```lua block of docs/*.md and README.md runs without error.

local function blocks(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  local out = {}
  for code in text:gmatch("```lua\n(.-)```") do out[#out + 1] = code end
  return out
end

for _, path in ipairs{"README.md", "docs/tensor.md", "docs/nn.md", "docs/optim.md", "docs/data.md"} do
  for k, code in ipairs(blocks(path)) do
    test(path .. " example " .. k, function()
      local env = setmetatable({print = function() end}, {__index = _G})
      local chunk = assert(load(code, "=" .. path .. ":example" .. k, "t", env))
      local before = tensor.get_num_threads()
      chunk()
      tensor.set_num_threads(before)
    end)
  end
end
