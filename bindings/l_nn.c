/* l_nn.c -- the fused layer and loss kernels of nn/layer.c and nn/loss.c, as
 * the Lua package "nn._C"; stdlib/nn/functional.lua puts them in nn.functional.
 * No userdata type of its own: arguments are tensors, numbers and option tables.
 * Each function pushes its result's userdata before it runs the op: were Lua
 * out of memory for the userdata after the op, its tensor would leak. */
#include <string.h>
#include "common.h"
#include "l_tensor.h"
#include "bindings.h"
#include "l_generator.h"
#include "nn/layer.h"
#include "nn/loss.h"

static nn_tensor *opttensor(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? NULL : lnn_checktensor(L, arg);
}

static int f_linear(lua_State *L) {
  nn_tensor *x = lnn_checktensor(L, 1), *w = lnn_checktensor(L, 2), *b = opttensor(L, 3);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_linear(getctx(L), x, w, b));
}

static int f_leaky_relu(lua_State *L) {
  nn_tensor *x = lnn_checktensor(L, 1);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_leaky_relu(getctx(L), x, (float)luaL_optnumber(L, 2, 0.01)));
}

static int f_gelu(lua_State *L) {
  static const char *const keys[] = {"approximate", NULL};
  nn_tensor *x = lnn_checktensor(L, 1);
  int tanh_form = 0;
  if (!lua_isnoneornil(L, 2)) {
    lnn_checkopts(L, 2, "gelu", keys);
    lua_getfield(L, 2, "approximate");
    const char *a = luaL_optstring(L, -1, "none");
    if (strcmp(a, "tanh") == 0) tanh_form = 1;
    else if (strcmp(a, "none") != 0) return luaL_error(L, "gelu: approximate must be 'none' or 'tanh', got '%s'", a);
  }
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_gelu(getctx(L), x, tanh_form));
}

/* dropout(x [, p = 0.5 [, training = true [, generator]]]) */
static int f_dropout(lua_State *L) {
  nn_tensor *x = lnn_checktensor(L, 1);
  float p = (float)luaL_optnumber(L, 2, 0.5);
  int training = lua_isnoneornil(L, 3) ? 1 : lua_toboolean(L, 3);
  nn_rng *r = lnn_optgenerator(L, 4);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_dropout(getctx(L), r, x, p, training));
}

/* batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps) */
static int f_batch_norm(lua_State *L) {
  nn_tensor *x = lnn_checktensor(L, 1), *rm = opttensor(L, 2), *rv = opttensor(L, 3);
  nn_tensor *w = opttensor(L, 4), *b = opttensor(L, 5);
  int training = lua_toboolean(L, 6);
  float momentum = (float)luaL_optnumber(L, 7, 0.1), eps = (float)luaL_optnumber(L, 8, 1e-5);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_batch_norm(getctx(L), x, rm, rv, w, b, training, momentum, eps));
}

/* the loss option table: reduction, and the keys one loss allows besides it */
typedef struct lossopts { enum nn_reduction red; nn_tensor *weight; float smoothing, delta; } lossopts;

static lossopts checkloss(lua_State *L, int arg, const char *fn, const char *const *keys) {
  lossopts o = {NN_RED_MEAN, NULL, 0.0f, 1.0f};
  if (lua_isnoneornil(L, arg)) return o;
  lnn_checkopts(L, arg, fn, keys);
  if (lua_getfield(L, arg, "reduction") != LUA_TNIL) {
    const char *r = lua_tostring(L, -1);
    if (r && strcmp(r, "sum") == 0) o.red = NN_RED_SUM;
    else if (r && strcmp(r, "none") == 0) o.red = NN_RED_NONE;
    else if (!r || strcmp(r, "mean") != 0)
      luaL_error(L, "%s: reduction must be 'mean', 'sum' or 'none', got %s", fn, luaL_tolstring(L, -1, NULL));
  }
  if (lua_getfield(L, arg, "weight") != LUA_TNIL) o.weight = lnn_checktensor(L, lua_gettop(L));
  if (lua_getfield(L, arg, "label_smoothing") != LUA_TNIL) o.smoothing = (float)luaL_checknumber(L, -1);
  if (lua_getfield(L, arg, "delta") != LUA_TNIL) o.delta = (float)luaL_checknumber(L, -1);
  return o;
}

static int f_cross_entropy(lua_State *L) {
  static const char *const keys[] = {"reduction", "weight", "label_smoothing", NULL};
  nn_tensor *x = lnn_checktensor(L, 1), *y = lnn_checktensor(L, 2);
  lossopts o = checkloss(L, 3, "cross_entropy", keys);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_cross_entropy(getctx(L), x, y, o.weight, o.smoothing, o.red));
}

static int f_nll_loss(lua_State *L) {
  static const char *const keys[] = {"reduction", "weight", NULL};
  nn_tensor *x = lnn_checktensor(L, 1), *y = lnn_checktensor(L, 2);
  lossopts o = checkloss(L, 3, "nll_loss", keys);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_nll_loss(getctx(L), x, y, o.weight, o.red));
}

typedef nn_tensor *(*pairloss)(nn_ctx *, nn_tensor *, nn_tensor *, enum nn_reduction);

static int pair(lua_State *L, const char *fn, pairloss f) {
  static const char *const keys[] = {"reduction", NULL};
  nn_tensor *x = lnn_checktensor(L, 1), *y = lnn_checktensor(L, 2);
  lossopts o = checkloss(L, 3, fn, keys);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, f(getctx(L), x, y, o.red));
}

static int f_mse_loss(lua_State *L) { return pair(L, "mse_loss", nn_mse_loss); }
static int f_l1_loss(lua_State *L) { return pair(L, "l1_loss", nn_l1_loss); }
static int f_bce(lua_State *L) { return pair(L, "binary_cross_entropy", nn_bce_loss); }
static int f_bce_logits(lua_State *L) { return pair(L, "binary_cross_entropy_with_logits", nn_bce_with_logits_loss); }

static int f_huber_loss(lua_State *L) {
  static const char *const keys[] = {"reduction", "delta", NULL};
  nn_tensor *x = lnn_checktensor(L, 1), *y = lnn_checktensor(L, 2);
  lossopts o = checkloss(L, 3, "huber_loss", keys);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_huber_loss(getctx(L), x, y, o.delta, o.red));
}

static const luaL_Reg funcs[] = {
  {"linear", f_linear}, {"leaky_relu", f_leaky_relu}, {"gelu", f_gelu},
  {"dropout", f_dropout}, {"batch_norm", f_batch_norm},
  {"cross_entropy", f_cross_entropy}, {"nll_loss", f_nll_loss},
  {"mse_loss", f_mse_loss}, {"l1_loss", f_l1_loss},
  {"binary_cross_entropy", f_bce}, {"binary_cross_entropy_with_logits", f_bce_logits},
  {"huber_loss", f_huber_loss},
  {NULL, NULL}
};

int luaopen_nn__C(lua_State *L) {
  luaL_newlibtable(L, funcs);
  lnn_setfuncs(L, funcs);
  return 1;
}
