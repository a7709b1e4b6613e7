-- nn.functional: stateless forms of the layers and losses.
-- Functions that the C core provides fused (package "nn._C", when built in)
-- replace the composite versions below, which are written with tensor ops
-- and so get their gradients from autograd.
local F = {}

local function check_opts(fn, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" or tensor.is_tensor(opts) then
    error(fn .. ": options must be a table", 3)
  end
  for k in pairs(opts) do
    if not known[k] then error(fn .. ": unknown option '" .. tostring(k) .. "'", 3) end
  end
  return opts
end
F._check_opts = check_opts

local function reduce(fn, loss, reduction)
  reduction = reduction or "mean"
  if reduction == "mean" then return loss:mean() end
  if reduction == "sum" then return loss:sum() end
  if reduction == "none" then return loss end
  error(fn .. ": reduction must be 'mean', 'sum' or 'none', got " .. tostring(reduction), 3)
end

local function same_shape(fn, a, b)
  local sa, sb = table.concat(a.shape, ", "), table.concat(b.shape, ", ")
  if sa ~= sb then error(string.format("%s: input of shape [%s] and target of shape [%s] differ", fn, sa, sb), 3) end
end

function F.relu(x) return x:relu() end
function F.sigmoid(x) return x:sigmoid() end
function F.tanh(x) return x:tanh() end
function F.softmax(x, dim) return x:softmax(dim) end
function F.log_softmax(x, dim) return x:log_softmax(dim) end

function F.leaky_relu(x, slope)
  slope = slope or 0.01
  return x:relu() - (-x):relu() * slope
end

function F.gelu(x, opts)
  opts = check_opts("gelu", opts, {approximate = true})
  local approx = opts.approximate or "none"
  if approx == "tanh" then
    local inner = (x + x ^ 3 * 0.044715) * math.sqrt(2 / math.pi)
    return x * 0.5 * (inner:tanh() + 1)
  elseif approx ~= "none" then
    error("gelu: approximate must be 'none' or 'tanh', got " .. tostring(approx), 2)
  end
  error("gelu: the exact form needs the C core (nn._C)", 2)
end

function F.linear(x, w, b)
  local y = x:matmul(w:t())
  if b then y = y + b end
  return y
end

function F.dropout(x, p, training, generator)
  p = p or 0.5
  if type(p) ~= "number" or p < 0 or p > 1 then error("dropout: p must be in [0, 1], got " .. tostring(p), 2) end
  if training == false or p == 0 then return x end
  if p == 1 then return x * 0 end
  local keep = tensor.rand(x.shape, generator):ge(p)
  return x * keep * (1 / (1 - p))
end

local function check_target(fn, logits, target)
  if not tensor.is_tensor(target) then error(fn .. ": target must be a tensor", 3) end
  local C = logits.shape[#logits.shape]
  local lo, hi = target:min():item(), target:max():item()
  if target:numel() > 0 and (lo < 1 or hi > C) then
    error(string.format("%s: target %g is out of range for %d classes (targets are 1-based)", fn,
                        lo < 1 and lo or hi, C), 3)
  end
end

function F.nll_loss(logp, target, opts)
  opts = check_opts("nll_loss", opts, {reduction = true, weight = true})
  check_target("nll_loss", logp, target)
  local picked = logp:gather(2, target:view(-1, 1)):view(-1)
  if opts.weight then
    local w = opts.weight:index_select(1, target)
    local l = -(picked * w)
    if (opts.reduction or "mean") == "mean" then return l:sum() / w:sum() end
    return reduce("nll_loss", l, opts.reduction)
  end
  return reduce("nll_loss", -picked, opts.reduction)
end

function F.cross_entropy(logits, target, opts)
  opts = check_opts("cross_entropy", opts, {reduction = true, weight = true, label_smoothing = true})
  local logp = logits:log_softmax(#logits.shape)
  local eps = opts.label_smoothing or 0
  if #target.shape == #logits.shape then               -- probabilities
    if eps > 0 then target = target * (1 - eps) + eps / logits.shape[#logits.shape] end
    local w = opts.weight or 1
    local l = -(logp * target * w):sum(2)
    return reduce("cross_entropy", l, opts.reduction)
  end
  local nll = F.nll_loss(logp, target, {reduction = opts.reduction, weight = opts.weight})
  if eps == 0 then return nll end
  local C = logits.shape[#logits.shape]
  local smooth = opts.weight and -(logp * opts.weight):sum(2) or -logp:sum(2)
  if (opts.reduction or "mean") == "mean" and opts.weight then
    smooth = smooth:sum() / opts.weight:index_select(1, target):sum()
  else
    smooth = reduce("cross_entropy", smooth, opts.reduction)
  end
  return nll * (1 - eps) + smooth * (eps / C)
end

function F.mse_loss(a, b, opts)
  opts = check_opts("mse_loss", opts, {reduction = true})
  same_shape("mse_loss", a, b)
  return reduce("mse_loss", (a - b) ^ 2, opts.reduction)
end

function F.l1_loss(a, b, opts)
  opts = check_opts("l1_loss", opts, {reduction = true})
  same_shape("l1_loss", a, b)
  return reduce("l1_loss", (a - b):abs(), opts.reduction)
end

function F.binary_cross_entropy(p, y, opts)
  opts = check_opts("binary_cross_entropy", opts, {reduction = true, weight = true})
  same_shape("binary_cross_entropy", p, y)
  if p:numel() > 0 and (p:min():item() < 0 or p:max():item() > 1) then
    error("binary_cross_entropy: inputs must be probabilities in [0, 1]", 2)
  end
  local l = -(y * p:log():clamp(-100) + (1 - y) * (1 - p):log():clamp(-100))
  if opts.weight then l = l * opts.weight end
  return reduce("binary_cross_entropy", l, opts.reduction)
end

function F.binary_cross_entropy_with_logits(z, y, opts)
  opts = check_opts("binary_cross_entropy_with_logits", opts, {reduction = true, weight = true})
  same_shape("binary_cross_entropy_with_logits", z, y)
  -- max(z, 0) - z y + log(1 + exp(-|z|))
  local l = z:relu() - z * y + ((-z:abs()):exp() + 1):log()
  if opts.weight then l = l * opts.weight end
  return reduce("binary_cross_entropy_with_logits", l, opts.reduction)
end

function F.huber_loss(a, b, opts)
  opts = check_opts("huber_loss", opts, {reduction = true, delta = true})
  same_shape("huber_loss", a, b)
  local d = opts.delta or 1
  local e = (a - b):abs()
  local quad = e:clamp(nil, d)
  local l = quad ^ 2 * 0.5 + (e - quad) * d
  return reduce("huber_loss", l, opts.reduction)
end

-- fused C versions, when the core provides them
local ok, C = pcall(require, "nn._C")
if ok and type(C) == "table" then
  for name, fn in pairs(C) do
    local composite = F[name]
    if name == "binary_cross_entropy" or name == "binary_cross_entropy_with_logits" then
      F[name] = function(a, b, opts)          -- the C kernels take no per-element weight
        if opts and opts.weight ~= nil then return composite(a, b, opts) end
        return fn(a, b, opts)
      end
    else
      F[name] = fn
    end
  end
end

return F
