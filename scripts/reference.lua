-- scripts/reference.lua -- the reference experiment.
--
-- The full course exercise (an MLP on FashionMNIST, SGD against Adam,
-- schedules, curves, a sample grid, test accuracy) grows here as nnlua's
-- pieces land. Today the tensor core is in, without autograd, so this fits a
-- linear least-squares model with the gradient written out by hand:
--   loss(w) = |X w - y|^2 / (2 n),   grad = X^T (X w - y) / n
-- Run: ./nnlua scripts/reference.lua [steps]

local steps = tonumber(arg and arg[1]) or 200
local n, d = 4096, 32
tensor.manual_seed(42)

local X = tensor.randn(n, d)
local w_true = tensor.randn(d, 1)
local y = X:matmul(w_true) + tensor.randn(n, 1) * 0.1

local w = tensor.zeros(d, 1)
local lr = 0.5
print(string.format("least squares: X %s, %d steps of gradient descent, lr %g",
                    table.concat(X.shape, "x"), steps, lr))
for step = 1, steps do
  local r = X:matmul(w) - y                     -- residuals [n, 1]
  local grad = X:t():matmul(r) / n              -- transposed view, no copy
  w:add_(grad, -lr)
  if step == 1 or step % 50 == 0 then
    print(string.format("step %4d  loss %.6f", step, (r ^ 2):mean():item() / 2))
  end
end

local err = (w - w_true):abs():max():item()
print(string.format("largest weight error %.4f (noise level 0.1)", err))
print("first weights, fitted vs true:")
print(tensor.cat({w:narrow(1, 1, 4), w_true:narrow(1, 1, 4)}, 2))
