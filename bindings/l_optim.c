/* l_optim.c -- the fused update kernels of nn/optim.c as the Lua package
 * "optim._C"; the optimizer classes of stdlib/optim call one per parameter.
 * No userdata type of its own: arguments are tensors (state tensors may be
 * nil where a rule does not use them), numbers and booleans, positionally.
 * The gradient (argument 2) may be true instead: the parameter's own .grad,
 * read here. Optimizer:step passes true, so that no Lua value holds the
 * gradient and zero_grad frees it at once instead of leaving it to the
 * garbage collector (common.c, GC_STEP_BYTES). */
#include "common.h"
#include "l_tensor.h"
#include "nn/optim.h"

static nn_tensor *opttensor(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? NULL : lnn_checktensor(L, arg);
}

static nn_tensor *checkgrad(lua_State *L, nn_tensor *p) {
  if (lua_type(L, 2) != LUA_TBOOLEAN) return lnn_checktensor(L, 2);
  if (!lua_toboolean(L, 2) || !p->grad)
    luaL_argerror(L, 2, lua_toboolean(L, 2) ? "the parameter has no .grad" : "expected a tensor or true");
  return p->grad;
}

/* has_grad(p) -> whether p.grad is set, without making a Lua value of it */
static int o_has_grad(lua_State *L) {
  lua_pushboolean(L, lnn_checktensor(L, 1)->grad != NULL);
  return 1;
}

/* is_live(p) -> false when p is a tensor that has been freed (closed), true for a live one */
static int o_is_live(lua_State *L) {
  lua_pushboolean(L, lnn_totensor(L, 1) != NULL);
  return 1;
}

static int64_t checkstep(lua_State *L, int arg) {
  lua_Integer s = luaL_checkinteger(L, arg);
  luaL_argcheck(L, s >= 1, arg, "step must be >= 1");
  return (int64_t)s;
}

static int done(lua_State *L, int rc) {
  if (rc != 0) return lnn_error(L);
  return 0;
}

/* sgd(p, g, buf|nil, lr, momentum, dampening, weight_decay, nesterov, first) */
static int o_sgd(lua_State *L) {
  nn_tensor *p = lnn_checktensor(L, 1), *g = checkgrad(L, p), *buf = opttensor(L, 3);
  nn_sgd_opts o = {luaL_checknumber(L, 4), luaL_checknumber(L, 5), luaL_checknumber(L, 6),
                   luaL_checknumber(L, 7), lua_toboolean(L, 8)};
  return done(L, nn_optim_sgd(getctx(L), p, g, buf, &o, lua_toboolean(L, 9)));
}

/* adam(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq|nil, step, lr, beta1, beta2, eps,
 *      weight_decay, amsgrad, decoupled [, bias_correction = true]) */
static int o_adam(lua_State *L) {
  nn_tensor *p = lnn_checktensor(L, 1), *g = checkgrad(L, p);
  nn_tensor *m = lnn_checktensor(L, 3), *v = lnn_checktensor(L, 4), *vmax = opttensor(L, 5);
  int64_t step = checkstep(L, 6);
  nn_adam_opts o = {luaL_checknumber(L, 7), luaL_checknumber(L, 8), luaL_checknumber(L, 9),
                    luaL_checknumber(L, 10), luaL_checknumber(L, 11), lua_toboolean(L, 12),
                    lua_toboolean(L, 13), lua_isnoneornil(L, 14) ? 1 : lua_toboolean(L, 14)};
  return done(L, nn_optim_adam(getctx(L), p, g, m, v, vmax, step, &o));
}

/* rmsprop(p, g, square_avg, grad_avg|nil, momentum_buffer|nil, lr, alpha, eps,
 *         weight_decay, momentum, centered) */
static int o_rmsprop(lua_State *L) {
  nn_tensor *p = lnn_checktensor(L, 1), *g = checkgrad(L, p), *sq = lnn_checktensor(L, 3);
  nn_tensor *ga = opttensor(L, 4), *buf = opttensor(L, 5);
  nn_rmsprop_opts o = {luaL_checknumber(L, 6), luaL_checknumber(L, 7), luaL_checknumber(L, 8),
                       luaL_checknumber(L, 9), luaL_checknumber(L, 10), lua_toboolean(L, 11)};
  return done(L, nn_optim_rmsprop(getctx(L), p, g, sq, ga, buf, &o));
}

/* adagrad(p, g, sum, step, lr, lr_decay, weight_decay, eps) */
static int o_adagrad(lua_State *L) {
  nn_tensor *p = lnn_checktensor(L, 1), *g = checkgrad(L, p), *sum = lnn_checktensor(L, 3);
  int64_t step = checkstep(L, 4);
  nn_adagrad_opts o = {luaL_checknumber(L, 5), luaL_checknumber(L, 6), luaL_checknumber(L, 7),
                       luaL_checknumber(L, 8)};
  return done(L, nn_optim_adagrad(getctx(L), p, g, sum, step, &o));
}

/* adadelta(p, g, square_avg, acc_delta, lr, rho, eps, weight_decay) */
static int o_adadelta(lua_State *L) {
  nn_tensor *p = lnn_checktensor(L, 1), *g = checkgrad(L, p);
  nn_tensor *sq = lnn_checktensor(L, 3), *acc = lnn_checktensor(L, 4);
  nn_adadelta_opts o = {luaL_checknumber(L, 5), luaL_checknumber(L, 6), luaL_checknumber(L, 7),
                        luaL_checknumber(L, 8)};
  return done(L, nn_optim_adadelta(getctx(L), p, g, sq, acc, &o));
}

/* adamax(p, g, exp_avg, exp_inf, step, lr, beta1, beta2, eps, weight_decay) */
static int o_adamax(lua_State *L) {
  nn_tensor *p = lnn_checktensor(L, 1), *g = checkgrad(L, p);
  nn_tensor *m = lnn_checktensor(L, 3), *u = lnn_checktensor(L, 4);
  int64_t step = checkstep(L, 5);
  nn_adamax_opts o = {luaL_checknumber(L, 6), luaL_checknumber(L, 7), luaL_checknumber(L, 8),
                      luaL_checknumber(L, 9), luaL_checknumber(L, 10)};
  return done(L, nn_optim_adamax(getctx(L), p, g, m, u, step, &o));
}

/* nadam(p, g, exp_avg, exp_avg_sq, step, mu_product, lr, beta1, beta2, eps,
 *       weight_decay, momentum_decay) -> new mu_product */
static int o_nadam(lua_State *L) {
  nn_tensor *p = lnn_checktensor(L, 1), *g = checkgrad(L, p);
  nn_tensor *m = lnn_checktensor(L, 3), *v = lnn_checktensor(L, 4);
  int64_t step = checkstep(L, 5);
  double prod = luaL_checknumber(L, 6);
  nn_nadam_opts o = {luaL_checknumber(L, 7), luaL_checknumber(L, 8), luaL_checknumber(L, 9),
                     luaL_checknumber(L, 10), luaL_checknumber(L, 11), luaL_checknumber(L, 12)};
  if (nn_optim_nadam(getctx(L), p, g, m, v, step, &prod, &o) != 0) return lnn_error(L);
  lua_pushnumber(L, prod);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"sgd", o_sgd}, {"adam", o_adam}, {"rmsprop", o_rmsprop}, {"adagrad", o_adagrad},
  {"adadelta", o_adadelta}, {"adamax", o_adamax}, {"nadam", o_nadam}, {"has_grad", o_has_grad},
  {"is_live", o_is_live},
  {NULL, NULL}
};

int luaopen_optim__C(lua_State *L);   /* the lead declares it in bindings.h */

int luaopen_optim__C(lua_State *L) {
  luaL_newlibtable(L, funcs);
  lnn_setfuncs(L, funcs);
  return 1;
}
