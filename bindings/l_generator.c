/* l_generator.c -- the nn.Generator userdata: an independent random stream. */
#include "lnn.h"
#include "l_tensor.h"
#include "nn/rng.h"

static LGenerator *checkgen(lua_State *L) {
  return lnn_checkself(L, GENERATOR_MT);
}

static uint64_t checkseed(lua_State *L, int arg) {
  int isint;
  lua_Integer s = lua_tointegerx(L, arg, &isint);
  if (!isint) luaL_argerror(L, arg, "seed must be an integer");
  return (uint64_t)s;
}

int lnn_generator_new(lua_State *L) {
  uint64_t seed = lua_isnoneornil(L, 1) ? 0 : checkseed(L, 1);
  LGenerator *g = lua_newuserdatauv(L, sizeof *g, 0);
  luaL_setmetatable(L, GENERATOR_MT);
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
static int g_get_state(lua_State *L) {
  LGenerator *g = checkgen(L);
  char buf[32];
  for (int i = 0; i < 32; i++) buf[i] = (char)(g->rng.s[i / 8] >> (8 * (i % 8)));
  lua_pushlstring(L, buf, sizeof buf);
  return 1;
}

static int g_set_state(lua_State *L) {
  LGenerator *g = checkgen(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  if (len != sizeof g->rng.s) luaL_argerror(L, 2, "not a generator state (expected 32 bytes)");
  for (int i = 0; i < 4; i++) {
    uint64_t w = 0;
    for (int b = 7; b >= 0; b--) w = (w << 8) | (unsigned char)s[i * 8 + b];
    g->rng.s[i] = w;
  }
  lua_settop(L, 1);
  return 1;
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
