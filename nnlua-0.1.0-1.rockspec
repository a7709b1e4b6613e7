-- luarocks make (in the source tree): the stock-Lua module, require "nnlua".
-- Needs the Debian packages of make deps (oneDNN, libpng, cairo, ...); the build
-- is the one make install uses (build/dist, portable x86-64-v2).
rockspec_format = "3.0"
package = "nnlua"
version = "0.1.0-1"
source = {
  url = "git+file:///work/main",   -- luarocks make builds the tree it runs in
}
description = {
  summary = "Tensors with autograd, neural networks, optimizers, datasets and plots for Lua 5.4",
  detailed = [[
require "nnlua" sets the globals tensor, nn, optim, data, datasets, transforms
and plot, as the nnlua program has them, and returns them in a table.]],
}
dependencies = {
  "lua == 5.4",
}
build = {
  type = "make",
  build_target = "dist",
  build_variables = {},
  install_target = "install-rock",
  install_variables = {
    LUACDIR = "$(LIBDIR)",
    ROCK_LUADIR = "$(LUADIR)",
  },
}
