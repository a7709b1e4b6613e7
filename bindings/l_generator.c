/* l_generator.c -- the nn.Generator userdata: an independent random stream.
 * Its interface for the other bindings files is l_generator.h; the tensor
 * module (l_tensor.c) registers the constructor and the default stream's
 * get_rng_state / set_rng_state. */
#include "common.h"
#include "l_generator.h"
#include "nn/rng.h"

const char lnn_generator_mt[] = "nn.Generator";

static LGenerator *checkgen(lua_State *L) {
  return lnn_checkself(L, GENERATOR_MT);
}

nn_rng *lnn_optgenerator(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return &getctx(L)->rng;
  return &((LGenerator *)lnn_checkudata(L, arg, GENERATOR_MT))->rng;
}

static uint64_t checkseed(lua_State *L, int arg) {
  int isint;
  lua_Integer s = lua_tointegerx(L, arg, &isint);
  if (!isint) luaL_argerror(L, arg, "seed must be an integer");
  return (uint64_t)s;
}

int lnn_generator_new(lua_State *L) {
  uint64_t seed = lua_isnoneornil(L, 1) ? 0 : checkseed(L, 1);
  LGenerator *g = lnn_newudata(L, sizeof *g, GENERATOR_MT);
  nn_rng_seed(&g->rng, seed);
  return 1;
}

static int g_manual_seed(lua_State *L) {
  LGenerator *g = checkgen(L);
  nn_rng_seed(&g->rng, checkseed(L, 2));
  lua_settop(L, 1);
  return 1;
}

static int g_initial_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checkgen(L)->rng.seed);
  return 1;
}

/* The 32-byte state as a string (little-endian words), to save and restore a stream exactly. */
static int pushstate(lua_State *L, const nn_rng *r) {
  unsigned char buf[32];
  nn_rng_get_state(r, buf);
  lua_pushlstring(L, (const char *)buf, sizeof buf);
  return 1;
}

/* Sets r from the state string at arg; refuses what no stream can be in. */
static void setstate(lua_State *L, nn_rng *r, int arg) {
  size_t len;
  const char *s = luaL_checklstring(L, arg, &len);
  if (len != sizeof r->s) luaL_argerror(L, arg, "not a generator state (expected 32 bytes)");
  if (nn_rng_set_state(r, (const unsigned char *)s) != 0)
    luaL_argerror(L, arg, "not a generator state (all 32 bytes are zero, a state the "
                  "generator never leaves: it would give the same number forever)");
}

static int g_get_state(lua_State *L) { return pushstate(L, &checkgen(L)->rng); }

static int g_set_state(lua_State *L) {
  setstate(L, &checkgen(L)->rng, 2);
  lua_settop(L, 1);
  return 1;
}

/* tensor.get_rng_state() and tensor.set_rng_state(s): the default generator's */
int lnn_get_rng_state(lua_State *L) { return pushstate(L, &getctx(L)->rng); }

int lnn_set_rng_state(lua_State *L) {
  setstate(L, &getctx(L)->rng, 1);
  return 0;
}

static int g_tostring(lua_State *L) {
  lua_pushfstring(L, "Generator(seed=%I)", (lua_Integer)checkgen(L)->rng.seed);
  return 1;
}

static const luaL_Reg methods[] = {
  {"manual_seed", g_manual_seed}, {"initial_seed", g_initial_seed},
  {"get_state", g_get_state}, {"set_state", g_set_state},
  {NULL, NULL}
};

void lnn_generator_createmeta(lua_State *L) {
  if (!luaL_newmetatable(L, GENERATOR_MT)) {
    lua_pop(L, 1);
    return;
  }
  lua_pushcfunction(L, g_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  lnn_setmethods(L, methods, "g");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
