-- nn.utils: gradient clipping, a finite-difference gradient check, and the
-- renumbering of state dict names between nnlua (1-based) and PyTorch (0-based).
local tensor = require "tensor"
local U = {}

-- Scales the gradients of params so that their joint 2-norm is at most max_norm; returns the norm.
function U.clip_grad_norm_(params, max_norm)
  if type(max_norm) ~= "number" or not (max_norm >= 0) then     -- NaN too: it would clip nothing
    error("clip_grad_norm_: max_norm must be a number >= 0, got " .. tostring(max_norm), 2)
  end
  local total = 0
  for _, p in ipairs(params) do
    if p.grad then total = total + (p.grad * p.grad):sum():item() end
  end
  total = math.sqrt(total)
  local coef = max_norm / (total + 1e-6)
  if coef < 1 then
    tensor.no_grad(function()
      for _, p in ipairs(params) do if p.grad then p.grad:mul_(coef) end end
    end)
  end
  return total
end

-- Compares the gradients autograd gives for fn(inputs...) with central finite
-- differences. fn returns a tensor; non-scalar results are reduced with fixed
-- random weights. Returns true, or false and a message naming the worst element.
function U.gradcheck(fn, inputs, opts)
  opts = opts or {}
  local eps, atol, rtol = opts.eps or 1e-3, opts.atol or 1e-3, opts.rtol or 1e-2
  for _, x in ipairs(inputs) do x.grad = nil end
  local out = fn(table.unpack(inputs))
  local w = tensor.randn(out.shape, tensor.Generator(1))
  local function objective()
    return tensor.no_grad(function() return (fn(table.unpack(inputs)) * w):sum():item() end)
  end
  ;(out * w):sum():backward()
  for k, x in ipairs(inputs) do
    if x.requires_grad then
      local flat, g = x:view(-1), x.grad and x.grad:reshape(-1)
      if not g then return false, string.format("input %d got no gradient", k) end
      for i = 1, flat:numel() do
        local v = flat[i]
        tensor.no_grad(function() flat[i] = v + eps end)
        local up = objective()
        tensor.no_grad(function() flat[i] = v - eps end)
        local down = objective()
        tensor.no_grad(function() flat[i] = v end)
        local num, ana = (up - down) / (2 * eps), g[i]
        if math.abs(num - ana) > atol + rtol * math.abs(num) then
          return false, string.format("input %d, element %d: autograd %.6g, finite differences %.6g", k, i, ana, num)
        end
      end
    end
  end
  return true
end

-- A new state dict whose names have every whole-number part moved by delta:
-- shift_index(sd, -1) turns nnlua's "2.weight" and "features.1.3.bias" into
-- PyTorch's "1.weight" and "features.0.2.bias"; shift_index(sd, 1) goes back.
-- A part is a number when it is "0" or digits without a leading zero; other
-- names are kept as they are. Values are the same tensors, not copies.
function U.shift_index(sd, delta)
  if type(sd) ~= "table" then
    error("shift_index: expected a state dict (a table of name -> tensor), got " .. type(sd), 2)
  end
  if math.type(delta) ~= "integer" then
    error("shift_index: delta must be an integer (-1: nnlua to PyTorch, 1: PyTorch to nnlua), got "
          .. (math.type(delta) or type(delta)), 2)
  end
  local out = {}
  for k, v in next, sd do
    if type(k) ~= "string" then
      error("shift_index: key " .. tostring(k) .. " is a " .. (math.type(k) or type(k))
            .. ", expected a string name such as \"1.weight\"", 2)
    end
    local parts = {}
    for part in (k .. "."):gmatch("(.-)%.") do
      if part:match("^0$") or part:match("^[1-9]%d*$") then
        local n = math.tointeger(tonumber(part))
        if n == nil or n + delta < 0 then   -- n + delta < 0 also catches wrapping past maxinteger
          error(string.format("shift_index: '%s': %s%+d is out of range (0 to %d)", k, part, delta,
                              math.maxinteger), 2)
        end
        part = tostring(n + delta)
      end
      parts[#parts + 1] = part
    end
    out[table.concat(parts, ".")] = v
  end
  return out
end

return U
