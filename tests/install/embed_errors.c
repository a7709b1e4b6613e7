/* embed_errors.c -- the embedding API's bad inputs, each a clear message and
 * no crash (tests/lua/test_install.lua builds it against the installed
 * library). Prints one line per case; exit status 0 when all hold. */
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include <nnlua.h>

static int fails;

static void expect(int cond, const char *what, const char *msg) {
  printf("%s: %s\n", cond ? "ok" : "FAIL", what);
  if (!cond) {
    printf("  got: %s\n", msg);
    fails++;
  }
}

static int has(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

int main(void) {
  lua_State *L = nnlua_newstate();
  if (L == NULL) { puts("FAIL: nnlua_newstate"); return 1; }
  int top = lua_gettop(L);
  float x[6] = {1, 2, 3, 4, 5, 6};

  expect(nnlua_pushtensor(L, x, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}) == -1 &&
         has(nnlua_errmsg(L), "ndim must be in 0..8 (got 9)"), "ndim 9 refused", nnlua_errmsg(L));
  expect(nnlua_pushtensor(L, x, 2, (int64_t[]){2, -3}) == -1 &&
         has(nnlua_errmsg(L), "size 2 is negative (-3)"), "negative size refused", nnlua_errmsg(L));
  expect(nnlua_pushtensor(L, NULL, 1, (int64_t[]){3}) == -1 && has(nnlua_errmsg(L), "data is NULL"),
         "NULL data refused", nnlua_errmsg(L));
  expect(nnlua_pushtensor(L, x, 2, (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40}) == -1 &&
         nnlua_errmsg(L)[0] != '\0', "a huge shape refused", nnlua_errmsg(L));
  expect(lua_gettop(L) == top, "failed pushes leave the stack alone", "");

  expect(nnlua_pushtensor(L, x, 0, NULL) == 0 && nnlua_istensor(L, -1), "a scalar", nnlua_errmsg(L));
  lua_pop(L, 1);
  expect(nnlua_pushtensor(L, x, 2, (int64_t[]){0, 3}) == 0, "an empty tensor", nnlua_errmsg(L));
  float none;
  expect(nnlua_copytensor(L, -1, &none, 0) == 0, "copying an empty tensor", nnlua_errmsg(L));
  lua_pop(L, 1);

  expect(nnlua_pushtensor(L, x, 2, (int64_t[]){2, 3}) == 0, "a [2, 3] tensor", nnlua_errmsg(L));
  lua_setglobal(L, "A");
  float out[6];
  lua_getglobal(L, "A");
  expect(nnlua_copytensor(L, -1, out, 5) == -1 &&
         has(nnlua_errmsg(L), "the tensor has 6 elements, the buffer 5"), "wrong buffer size refused",
         nnlua_errmsg(L));
  lua_pop(L, 1);
  lua_pushinteger(L, 3);
  expect(nnlua_copytensor(L, -1, out, 1) == -1 && has(nnlua_errmsg(L), "a tensor expected"),
         "a number is not a tensor", nnlua_errmsg(L));
  expect(nnlua_totensor(L, -1, NULL, NULL) == NULL && !nnlua_istensor(L, -1), "totensor of a number", "");
  lua_pop(L, 1);

  /* a transposed view: no direct pointer, but a copy in row-major order */
  expect(nnlua_dostring(L, "AT = A:t()", NULL) == 0, "transpose", nnlua_errmsg(L));
  lua_getglobal(L, "AT");
  expect(nnlua_totensor(L, -1, NULL, NULL) == NULL, "no pointer into a non-contiguous view", "");
  expect(nnlua_copytensor(L, -1, out, 6) == 0 && out[0] == 1 && out[1] == 4 && out[2] == 2 &&
         out[3] == 5 && out[4] == 3 && out[5] == 6, "its copy is in row-major order", nnlua_errmsg(L));
  lua_pop(L, 1);

  expect(nnlua_dofile(L, "/nonexistent/x.lua") == -1 && has(nnlua_errmsg(L), "cannot open /nonexistent/x.lua"),
         "a missing file", nnlua_errmsg(L));
  expect(nnlua_dostring(L, "x = = 1", "=snippet") == -1 && has(nnlua_errmsg(L), "snippet:1:"),
         "a syntax error", nnlua_errmsg(L));
  expect(nnlua_dostring(L, "\x1bLua", "=bin") == -1 && has(nnlua_errmsg(L), "binary"),
         "binary chunks refused", nnlua_errmsg(L));
  expect(nnlua_dostring(L, "error({})", NULL) == -1 && has(nnlua_errmsg(L), "error object is a table value"),
         "a non-string error", nnlua_errmsg(L));
  expect(nnlua_dostring(L, NULL, NULL) == -1 && has(nnlua_errmsg(L), "code is NULL"), "NULL code",
         nnlua_errmsg(L));
  expect(lua_gettop(L) == top, "failed runs leave the stack alone", "");

  nnlua_set_num_threads(1);
  expect(nnlua_get_num_threads() == 1, "one thread", "");
  nnlua_set_num_threads(0);
  expect(nnlua_get_num_threads() >= 1, "back to automatic", "");
  lua_close(L);

  /* nnlua added to the program's own state */
  L = luaL_newstate();
  luaL_openlibs(L);
  expect(nnlua_open(L) == 0 && nnlua_dostring(L, "assert(nn.Linear and tensor.ones(2):sum():item() == 2)", NULL) == 0,
         "nnlua_open on the program's own state", nnlua_errmsg(L));
  lua_close(L);
  return fails ? 1 : 0;
}
