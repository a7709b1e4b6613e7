/* l_save.c -- tensor.save(value, path) and tensor.load(path).
 *
 * A checkpoint is a safetensors file (nn/io/safetensors.h). Each tensor is
 * stored under its path of keys joined with '.', unescaped, so that any
 * safetensors reader shows the names a PyTorch user expects: "fc1.weight",
 * "model.1.weight", "optim.state.1.exp_avg"; a top-level tensor is named
 * "tensor". Only the bytes a name cannot hold are written %XX: NUL, and each
 * byte >= 0x80 of a key that is not valid UTF-8 (or holds a NUL). Two paths that would get the
 * same name ({a = {b = x}, ["a.b"] = y}; integer key 1 next to string key
 * "1"), or a path named "" or "__metadata__", are an error naming the paths,
 * and nothing is written.
 *
 * Since a name alone cannot say which dots were inside a key, the structure
 * is kept in "__metadata__" (string -> string, as the format requires):
 *
 *   "format": "pt"             what PyTorch's writers put there
 *   "nnlua_format": "3"        the checkpoint format (LNN_CKPT_FORMAT)
 *   "nnlua_version": "0.1.0"   the nnlua that wrote the file (NNLUA_VERSION)
 *   "nnlua": TREE              the exact Lua value, a JSON text
 *
 *   TREE = {"root": NODE, "v": 3}      ("v" repeats the format: an nnlua
 *                                       older than nnlua_format refuses by it)
 *   NODE = {"T": "name"}             a tensor, stored under that name
 *        | {"N": "name"}             an array of NN_ST_MINARRAY or more numbers (keys 1..n),
 *                                     all integers (stored as I64) or all floats (F64)
 *        | {"i": "-42"}              an integer (decimal, exact)
 *        | {"f": "0x1.8p+1"}         a float (C99 %a: exact; "inf", "-inf", "nan")
 *        | {"b": true}               a boolean
 *        | {"s": "text"}             a string that is valid UTF-8 without NUL
 *        | {"x": "00ff"}             any other string, as hex
 *        | {"t": [[KEY, NODE], ...]} a table (integer keys ascending, then
 *                                     string keys in byte order); {"t": []} empty
 *   KEY  = "i:<decimal>" | "s:<text>" | "x:<hex>"   integer / string / other string
 *
 * The KEYs are what tells {["1.weight"] = t} (one key) from {[1] = {weight =
 * t}}: both store a tensor named "1.weight". The reader follows the tree and
 * looks tensors up by the names in it, never by splitting names.
 *
 * Older files: formats 1 and 2 (before nnlua_format; the format is the
 * tree's "v") escaped '%', '.' and control bytes inside a key as %XX
 * ("model.1%2Eweight") and renamed a taken name "~2"; they load the same way,
 * since their tree names their tensors. A file of a format above
 * LNN_CKPT_FORMAT is refused, naming both formats. A file without "nnlua"
 * metadata (written by another program) loads as a flat table name -> tensor:
 * "0.weight" stays one key, as in a PyTorch state dict.
 *
 * Both functions keep their C state in a userdata box with __gc, so a Lua
 * error at any point frees everything.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "bindings.h"
#include "common.h"
#include "l_tensor.h"
#include "l_save.h"
#include "nn/io/safetensors.h"
#include "nn/mem.h"

static const char saver_mt[] = "nn.SaveState", loader_mt[] = "nn.LoadState";
#define SAVER_MT saver_mt
#define LOADER_MT loader_mt

/* ---- a growable string inside the box ---- */

typedef struct { char *p; size_t n, cap; } buf;

static void b_add(lua_State *L, buf *b, const char *s, size_t len) {
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->n + len + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) luaL_error(L, "tensor.save: out of memory");
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}
static void b_cat(lua_State *L, buf *b, const char *s) { b_add(L, b, s, strlen(s)); }
static void b_cut(buf *b, size_t n) { b->n = n; if (b->p) b->p[n] = '\0'; }

/* 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates, NUL or code points above U+10FFFF). */
static int utf8ok(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str, *e = s + len;
  while (s < e) {
    unsigned c = *s;
    int k = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2
          : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
    if (c == 0 || k < 0 || e - s <= k) return 0;
    for (int i = 1; i <= k; i++) if ((s[i] & 0xC0) != 0x80) return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
        (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F)) return 0;
    s += k + 1;
  }
  return 1;
}

static void b_hex(lua_State *L, buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    char two[2] = {hex[(unsigned char)s[i] >> 4], hex[(unsigned char)s[i] & 15]};
    b_add(L, b, two, 2);
  }
}

/* s as the contents of a JSON string (no quotes); s is valid UTF-8 without NUL. */
static void b_json(lua_State *L, buf *b, const char *s, size_t len) {
  char esc[8];
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; b_add(L, b, esc, 2); }
    else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); b_add(L, b, esc, 6); }
    else b_add(L, b, s + i, 1);
  }
}

/* ================= save ================= */

typedef struct Saver {
  const char *tname;      /* SAVER_MT (common.h, "Userdata lifetimes") */
  buf json;               /* the "nnlua" tree */
  buf name;               /* the tensor name of the current key path */
  buf path;               /* the same path as shown in errors */
  buf disp;               /* the same path as Lua indexing (a.b, ["a.b"], [1]): tells
                             apart paths whose names collide */
  int n, cap;
  char **names;           /* owned */
  nn_tensor **ts;         /* owned references */
  int na, acap;
  nn_st_array *as;        /* number arrays; names and data owned */
} Saver;

typedef struct { int isint; lua_Integer i; const char *s; size_t len; } key;

/* Frees what S holds; safe twice. Called by tensor.save itself when done. */
static void saver_free(Saver *S) {
  for (int i = 0; i < S->n; i++) { free(S->names[i]); nn_tensor_free(S->ts[i]); }
  for (int i = 0; i < S->na; i++) { free((char *)S->as[i].name); nn_mem_free((void *)S->as[i].data); }
  free(S->names); free(S->ts); free(S->as);
  free(S->json.p); free(S->name.p); free(S->path.p); free(S->disp.p);
  memset((char *)S + sizeof S->tname, 0, sizeof *S - sizeof S->tname);
}

/* __gc: an internal box, freed by its owner or by the collector only; a
 * script that finds it (debug.getregistry() holds the metatable) and calls
 * this by hand changes nothing. */
static int saver_gc(lua_State *L) {
  Saver *S = lnn_checkudata(L, 1, SAVER_MT);
  if (lnn_finalizing(L)) saver_free(S);
  return 0;
}

static const char *where(Saver *S) { return S->path.n ? S->path.p : "(top level)"; }

/* The Lua indexing of the current path, for messages. */
static const char *shown(Saver *S) { return S->disp.n ? S->disp.p : "the value"; }

/* Pushes name nm for a message: control bytes as \ddd, so that a key with a
 * newline does not break the line. */
static const char *pushname(lua_State *L, const char *nm) {
  luaL_Buffer b;
  char esc[8];
  luaL_buffinit(L, &b);
  for (; *nm; nm++) {
    unsigned char c = (unsigned char)*nm;
    if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof esc, "\\%03u", c);
      luaL_addstring(&b, esc);
    } else luaL_addchar(&b, (char)c);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* The current name, checked and recorded in the table at index `used` (name
 * -> its path as shown), malloc'd. A name taken by another path is an error
 * naming both: a silent rename would give other readers a name nobody chose. */
static char *claim_name(lua_State *L, Saver *S, int used) {
  const char *nm = !S->disp.n ? "tensor" : S->name.n ? S->name.p : "";   /* "": key "" */
  if (nm[0] == '\0' || strcmp(nm, "__metadata__") == 0)
    luaL_error(L, "tensor.save: %s cannot be saved: a tensor under it would be named '%s', "
               "which safetensors does not allow; use another key (nothing was written)",
               shown(S), nm);
  if (lua_getfield(L, used, nm) == LUA_TSTRING) {
    const char *first = lua_tostring(L, -1), *name = pushname(L, nm);
    luaL_error(L, "tensor.save: %s and %s would both be named '%s' in the file (a tensor's "
               "name is its path of keys joined with '.'); rename one of the keys (nothing "
               "was written)", first, shown(S), name);
  }
  lua_pop(L, 1);
  lua_pushstring(L, shown(S));
  lua_setfield(L, used, nm);
  char *copy = strdup(nm);
  if (!copy) luaL_error(L, "tensor.save: out of memory");
  return copy;
}

static void add_node(lua_State *L, Saver *S, const char *tag, const char *name) {
  b_cat(L, &S->json, "{\"");
  b_cat(L, &S->json, tag);
  b_cat(L, &S->json, "\":\"");
  b_json(L, &S->json, name, strlen(name));
  b_cat(L, &S->json, "\"}");
}

/* Adds tensor t under the current name (claim_name). */
static void add_tensor(lua_State *L, Saver *S, nn_tensor *t, int used) {
  if (S->n == S->cap) {
    int cap = S->cap ? 2 * S->cap : 16;
    char **nn = realloc(S->names, (size_t)cap * sizeof *nn);
    if (nn) S->names = nn;
    nn_tensor **nt = nn ? realloc(S->ts, (size_t)cap * sizeof *nt) : NULL;
    if (!nt) luaL_error(L, "tensor.save: out of memory");
    S->ts = nt;
    S->cap = cap;
  }
  char *copy = claim_name(L, S, used);
  S->names[S->n] = copy;
  S->ts[S->n++] = nn_tensor_retain(t);
  add_node(L, S, "T", copy);
}

/* 1 if the table at t has keys exactly 1..n, n >= NN_ST_MINARRAY, and values
 * all integers (*isint = 1) or all floats; then *np = n. */
static int is_number_array(lua_State *L, int t, lua_Integer *np, int *isint) {
  lua_Unsigned n = lua_rawlen(L, t), count = 0;
  if (n < NN_ST_MINARRAY || n > (lua_Unsigned)(SIZE_MAX / 16)) return 0;
  lua_pushnil(L);
  while (lua_next(L, t)) { lua_pop(L, 1); count++; }
  if (count != n) return 0;                        /* other keys besides 1..n */
  lua_rawgeti(L, t, 1);
  *isint = lua_isinteger(L, -1);
  lua_pop(L, 1);
  for (lua_Integer i = 1; i <= (lua_Integer)n; i++) {
    int ok = lua_rawgeti(L, t, i) == LUA_TNUMBER && lua_isinteger(L, -1) == *isint;
    lua_pop(L, 1);
    if (!ok) return 0;
  }
  *np = (lua_Integer)n;
  return 1;
}

/* Adds the number array at t (is_number_array) as an I64 or F64 entry. */
static void add_array(lua_State *L, Saver *S, int t, lua_Integer n, int isint, int used) {
  if (S->na == S->acap) {
    int cap = S->acap ? 2 * S->acap : 4;
    nn_st_array *as = realloc(S->as, (size_t)cap * sizeof *as);
    if (!as) luaL_error(L, "tensor.save: out of memory");
    S->as = as;
    S->acap = cap;
  }
  nn_ctx *ctx = getctx(L);                  /* n * 8 < the table's own bytes */
  void *data = nn_mem_alloc(ctx, (size_t)n * 8, "an array of %lld numbers", (long long)n);
  if (!data) luaL_error(L, "tensor.save: %s", ctx->err);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, t, i);
    if (isint) ((int64_t *)data)[i - 1] = (int64_t)lua_tointeger(L, -1);
    else ((double *)data)[i - 1] = (double)lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  nn_st_array *a = &S->as[S->na++];
  a->data = data;
  a->n = (int64_t)n;
  a->isint = isint;
  a->name = NULL;
  a->name = claim_name(L, S, used);
  add_node(L, S, "N", a->name);
}

static void add_leaf(lua_State *L, Saver *S, int used) {
  char num[64];
  nn_tensor *t = lnn_totensor(L, -1);
  if (t) { add_tensor(L, S, t, used); return; }
  switch (lua_type(L, -1)) {
  case LUA_TNUMBER:
    if (lua_isinteger(L, -1))
      snprintf(num, sizeof num, "{\"i\":\"%lld\"}", (long long)lua_tointeger(L, -1));
    else
      snprintf(num, sizeof num, "{\"f\":\"%a\"}", (double)lua_tonumber(L, -1));
    b_cat(L, &S->json, num);
    return;
  case LUA_TBOOLEAN:
    b_cat(L, &S->json, lua_toboolean(L, -1) ? "{\"b\":true}" : "{\"b\":false}");
    return;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    int ok = utf8ok(s, len);
    b_cat(L, &S->json, ok ? "{\"s\":\"" : "{\"x\":\"");
    if (ok) b_json(L, &S->json, s, len); else b_hex(L, &S->json, s, len);
    b_cat(L, &S->json, "\"}");
    return;
  }
  default:
    if (S->path.n == 0)
      luaL_error(L, "tensor.save: expected a tensor or a table, got %s", luaL_typename(L, -1));
    luaL_error(L, "tensor.save: cannot save a %s at key '%s' (leaves must be tensors, "
               "numbers, booleans or strings)", luaL_typename(L, -1), where(S));
  }
}

static int cmpkey(const void *a, const void *b) {
  const key *x = a, *y = b;
  if (x->isint != y->isint) return y->isint - x->isint;
  if (x->isint) return x->i < y->i ? -1 : x->i > y->i;
  int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The table's keys, checked and sorted, in a userdata pushed on the stack
 * over a table of our own that keeps the key strings alive (the script's
 * table may change while we walk it: a finalizer can run at any allocation). */
static key *collect_keys(lua_State *L, Saver *S, int t, size_t *nk) {
  size_t n = 0, cap = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) { lua_pop(L, 1); cap++; }
  lua_createtable(L, 0, 0);
  int anchor = lua_gettop(L);
  key *ks = lua_newuserdatauv(L, (cap ? cap : 1) * sizeof *ks, 0);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (n == cap) luaL_error(L, "tensor.save: the table at key '%s' changed while it was saved", where(S));
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, anchor);
    key *k = &ks[n++];
    k->isint = lua_isinteger(L, -1);
    if (k->isint) k->i = lua_tointeger(L, -1);
    else if (lua_type(L, -1) == LUA_TSTRING) k->s = lua_tolstring(L, -1, &k->len);
    else {
      const char *shown = luaL_tolstring(L, -1, NULL);
      luaL_error(L, "tensor.save: key %s in '%s' is a %s (keys must be strings or integers)",
                 shown, where(S), luaL_typename(L, -2));
    }
  }
  qsort(ks, n, sizeof *ks, cmpkey);
  *nk = n;
  return ks;
}

/* 1 if s[0..len) is a Lua name ([A-Za-z_][A-Za-z0-9_]*), shown as .name */
static int is_ident(const char *s, size_t len) {
  if (len == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

/* Appends string key s to the Lua indexing of the path: .name or ["text"],
 * with what would not read as text (quotes, control bytes, bytes of invalid
 * UTF-8) as \ddd. */
static void disp_string(lua_State *L, buf *d, const char *s, size_t len, int utf8) {
  char esc[8];
  if (is_ident(s, len)) {
    if (d->n) b_cat(L, d, ".");
    b_add(L, d, s, len);
    return;
  }
  b_cat(L, d, "[\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
      snprintf(esc, sizeof esc, "\\%03u", c);
      b_cat(L, d, esc);
    } else b_add(L, d, s + i, 1);
  }
  b_cat(L, d, "\"]");
}

/* Appends string key s to the tensor name: as it is, but for NUL and, in a
 * key that is not valid UTF-8 without NUL (utf8 = 0), the bytes >= 0x80,
 * written %XX (a name in the header is a JSON string: UTF-8 only, and a C
 * string here). */
static void name_string(lua_State *L, buf *b, const char *s, size_t len, int utf8) {
  char esc[4];
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == 0 || (c >= 0x80 && !utf8)) {
      snprintf(esc, sizeof esc, "%%%02X", c);
      b_cat(L, b, esc);
    } else b_add(L, b, s + i, 1);
  }
}

/* Appends key k to the name, the shown paths and the JSON entry. */
static void add_key(lua_State *L, Saver *S, const key *k) {
  char num[32];
  if (S->name.n) b_cat(L, &S->name, ".");
  if (S->path.n) b_cat(L, &S->path, ".");
  if (k->isint) {
    snprintf(num, sizeof num, "%lld", (long long)k->i);
    b_cat(L, &S->name, num);
    b_cat(L, &S->path, num);
    b_cat(L, &S->disp, "[");
    b_cat(L, &S->disp, num);
    b_cat(L, &S->disp, "]");
    b_cat(L, &S->json, "[\"i:");
    b_cat(L, &S->json, num);
  } else {
    int ok = utf8ok(k->s, k->len);
    name_string(L, &S->name, k->s, k->len, ok);
    b_add(L, &S->path, k->s, strnlen(k->s, k->len));
    disp_string(L, &S->disp, k->s, k->len, ok);
    b_cat(L, &S->json, ok ? "[\"s:" : "[\"x:");
    if (ok) b_json(L, &S->json, k->s, k->len); else b_hex(L, &S->json, k->s, k->len);
  }
  b_cat(L, &S->json, "\",");
}

/* Appends the value on top of the stack (left there) to the tree. */
static void walk(lua_State *L, Saver *S, int used, int visiting, int depth) {
  if (lua_type(L, -1) != LUA_TTABLE) { add_leaf(L, S, used); return; }
  int t = lua_gettop(L);
  if (depth > NN_ST_MAXDEPTH || !lua_checkstack(L, 10))
    luaL_error(L, "tensor.save: tables nested more than %d deep at key '%s' (NN_ST_MAXDEPTH)",
               NN_ST_MAXDEPTH, where(S));
  lua_Integer n;
  int isint;
  if (is_number_array(L, t, &n, &isint)) { add_array(L, S, t, n, isint, used); return; }
  lua_pushvalue(L, t);
  if (lua_rawget(L, visiting) != LUA_TNIL)
    luaL_error(L, "tensor.save: the table at key '%s' contains itself", where(S));
  lua_pop(L, 1);
  lua_pushvalue(L, t);
  lua_pushboolean(L, 1);
  lua_rawset(L, visiting);
  size_t nk;
  key *ks = collect_keys(L, S, t, &nk);
  b_cat(L, &S->json, "{\"t\":[");
  for (size_t i = 0; i < nk; i++) {
    size_t nn = S->name.n, np = S->path.n, nd = S->disp.n;
    if (i) b_cat(L, &S->json, ",");
    add_key(L, S, &ks[i]);
    if (ks[i].isint) lua_pushinteger(L, ks[i].i); else lua_pushlstring(L, ks[i].s, ks[i].len);
    lua_rawget(L, t);
    walk(L, S, used, visiting, depth + 1);
    lua_pop(L, 1);
    b_cat(L, &S->json, "]");
    b_cut(&S->name, nn);
    b_cut(&S->path, np);
    b_cut(&S->disp, nd);
  }
  b_cat(L, &S->json, "]}");
  lua_pop(L, 2);                     /* the keys and their anchor */
  lua_pushvalue(L, t);
  lua_pushnil(L);
  lua_rawset(L, visiting);
}

/* the metatable of an internal box, made on first use */
static void boxmeta(lua_State *L, const char *tname, lua_CFunction gc) {
  if (luaL_newmetatable(L, tname)) {
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}

static Saver *newsaver(lua_State *L) {
  boxmeta(L, SAVER_MT, saver_gc);
  return lnn_newudata(L, sizeof(Saver), SAVER_MT);
}

int lnn_tensor_save(lua_State *L) {
  nn_ctx *ctx = getctx(L);
  luaL_checkany(L, 1);
  const char *path = lnn_checkpath(L, 2);
  lua_settop(L, 2);
  Saver *S = newsaver(L);            /* 3 */
  lua_newtable(L);                   /* 4: name -> the path that took it */
  lua_newtable(L);                   /* 5: tables on the current path */
  b_cat(L, &S->json, "{\"root\":");
  lua_pushvalue(L, 1);
  if (lua_type(L, -1) != LUA_TTABLE && !lnn_totensor(L, -1))
    return luaL_error(L, "tensor.save: expected a tensor or a table, got %s", luaL_typename(L, 1));
  walk(L, S, 4, 5, 0);
  char fmt[16];
  snprintf(fmt, sizeof fmt, "%d", LNN_CKPT_FORMAT);
  b_cat(L, &S->json, ",\"v\":");
  b_cat(L, &S->json, fmt);
  b_cat(L, &S->json, "}");
  const char *mkeys[4] = {"format", "nnlua_format", "nnlua_version", "nnlua"};
  const char *mvals[4] = {"pt", fmt, NNLUA_VERSION, S->json.p};
  int rc = nn_st_save_arrays(ctx, path, S->n, (const char *const *)S->names, S->ts, S->na,
                             S->as, 4, mkeys, mvals);
  saver_free(S);                     /* now rather than at the next collection */
  if (rc) return luaL_error(L, "tensor.save: %s", ctx->err);
  return 0;
}

/* ================= load ================= */

typedef struct Loader { const char *tname; nn_st *st; cJSON *root; } Loader;

/* Frees what D holds; safe twice. Called by tensor.load itself when done. */
static void loader_free(Loader *D) {
  nn_st_free(D->st);
  cJSON_Delete(D->root);
  D->st = NULL;
  D->root = NULL;
}

/* __gc: an internal box, as saver_gc */
static int loader_gc(lua_State *L) {
  Loader *D = lnn_checkudata(L, 1, LOADER_MT);
  if (lnn_finalizing(L)) loader_free(D);
  return 0;
}

static int badmeta(lua_State *L, const char *path, const char *why) {
  return luaL_error(L, "tensor.load: '%s': bad nnlua metadata (%s)", path, why);
}

/* Pushes the string encoded by hex text h (after its tag), or raises. */
static void pushhex(lua_State *L, const char *path, const char *h) {
  size_t n = strlen(h);
  if (n % 2) badmeta(L, path, "odd hex string");
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, n / 2 + 1);
  for (size_t i = 0; i < n; i += 2) {
    int v = 0;
    for (int j = 0; j < 2; j++) {
      char c = h[i + j];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) badmeta(L, path, "bad hex string");
      v = v * 16 + d;
    }
    p[i / 2] = (char)v;
  }
  luaL_pushresultsize(&b, n / 2);
}

static lua_Integer toint(lua_State *L, const char *path, const char *s) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end) badmeta(L, path, "bad integer");
  return (lua_Integer)v;
}

static void pushkey(lua_State *L, const char *path, const cJSON *k) {
  if (!cJSON_IsString(k) || strlen(k->valuestring) < 2 || k->valuestring[1] != ':')
    badmeta(L, path, "bad key");
  const char *s = k->valuestring + 2;
  switch (k->valuestring[0]) {
  case 'i': lua_pushinteger(L, toint(L, path, s)); break;
  case 's': lua_pushstring(L, s); break;
  case 'x': pushhex(L, path, s); break;
  default: badmeta(L, path, "bad key");
  }
}

/* Entry i of st as a float32 tensor must stand for every value in the file:
 * a whole number past 2^24 or an F64 past float32's largest would come out
 * another number without a word. (F64/I64 arrays of Lua numbers are read
 * from their exact bytes instead and never get here.) */
static void check_lost(lua_State *L, const char *path, const nn_st *st, int i) {
  if (st->lost[i]) {
    char v[32];
    long double x = st->lostval[i];
    snprintf(v, sizeof v, x == floorl(x) && fabsl(x) < 1e19L ? "%.0Lf" : "%Lg", x);
    luaL_error(L, "tensor.load: '%s': tensor '%s' holds %s at element %I, which a float32 tensor "
               "cannot hold (float32 holds whole numbers exactly only up to 2^24, and ends at 3.4e38); "
               "nothing was loaded", path, st->names[i], v, (lua_Integer)st->lost[i]);
  }
}

/* Pushes the number array stored as entry `name`: its index in st is in the
 * table at rawidx, its (float32) tensor in the table at byname. */
static void push_array(lua_State *L, const char *path, const nn_st *st, const char *name,
                       int byname, int rawidx) {
  int i = lua_getfield(L, rawidx, name) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : -1;
  lua_getfield(L, byname, name);
  const nn_tensor *t = lnn_totensor(L, -1);
  lua_pop(L, 2);
  if (i < 0 || i >= st->n || !st->raw[i] || !t)
    luaL_error(L, "tensor.load: '%s': array '%s' named in the metadata is missing or not "
               "F64/I64", path, name);
  if (t->ndim != 1) badmeta(L, path, "an array is not 1-d");
  int64_t n = t->shape[0];
  luaL_checkstack(L, 4, "tensor.load: out of stack");
  lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
  for (int64_t k = 0; k < n; k++) {
    if (st->rawint[i]) lua_pushinteger(L, (lua_Integer)((const int64_t *)st->raw[i])[k]);
    else lua_pushnumber(L, (lua_Number)((const double *)st->raw[i])[k]);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
}

/* Pushes the value described by node; tensors come from the table at byname,
 * number arrays from st through the table at rawidx. */
static void build(lua_State *L, const char *path, const cJSON *node, int byname,
                  const nn_st *st, int rawidx) {
  luaL_checkstack(L, 6, "tensor.load: tables nested too deeply");
  const cJSON *v = node ? node->child : NULL;
  if (!cJSON_IsObject(node) || !v || v->next) badmeta(L, path, "a node is not {tag: value}");
  const char *tag = v->string, *s = cJSON_IsString(v) ? v->valuestring : NULL;
  if (strcmp(tag, "t") == 0 && cJSON_IsArray(v)) {
    lua_createtable(L, 0, 0);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
      if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2) badmeta(L, path, "bad table entry");
      pushkey(L, path, e->child);
      build(L, path, e->child->next, byname, st, rawidx);
      lua_rawset(L, -3);
    }
  } else if (strcmp(tag, "b") == 0 && cJSON_IsBool(v)) lua_pushboolean(L, cJSON_IsTrue(v));
  else if (s && strcmp(tag, "N") == 0) push_array(L, path, st, s, byname, rawidx);
  else if (s && strcmp(tag, "T") == 0) {
    if (lua_getfield(L, byname, s) == LUA_TNIL)
      luaL_error(L, "tensor.load: '%s': tensor '%s' named in the metadata is missing", path, s);
    if (lua_getfield(L, rawidx, s) == LUA_TNUMBER) check_lost(L, path, st, (int)lua_tointeger(L, -1));
    lua_pop(L, 1);
  } else if (s && strcmp(tag, "i") == 0) lua_pushinteger(L, toint(L, path, s));
  else if (s && strcmp(tag, "f") == 0) {
    char *end;
    double d = strtod(s, &end);
    if (end == s || *end) badmeta(L, path, "bad float");
    lua_pushnumber(L, (lua_Number)d);
  } else if (s && strcmp(tag, "s") == 0) lua_pushstring(L, s);
  else if (s && strcmp(tag, "x") == 0) pushhex(L, path, s);
  else badmeta(L, path, "unknown node");
}

/* The format number in metadata entry `what` (decimal, 1 or more), or raises. */
static int format_number(lua_State *L, const char *path, const char *s, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 1 || v > INT_MAX)
    luaL_error(L, "tensor.load: '%s': bad nnlua metadata (%s is '%s', not a format number)",
               path, what, s);
  return (int)v;
}

/* The format of a file without nnlua_format: the tree's "v" (1 or 2 when
 * nnlua wrote it; any other number is checked as a format all the same). */
static int tree_format(lua_State *L, const char *path, const cJSON *ver) {
  double v = ver->valuedouble;
  if (!(v >= 1 && v <= INT_MAX) || v != (double)(int)v)
    badmeta(L, path, "\"v\" is not a format number");
  return (int)v;
}

/* Refuses a format newer than this build reads: its tree may mean something
 * else, and a guess could load wrong values silently. */
static void check_format(lua_State *L, const char *path, const nn_st *st, int format) {
  if (format <= LNN_CKPT_FORMAT) return;
  const char *by = nn_st_meta(st, "nnlua_version");
  luaL_error(L, "tensor.load: '%s' is checkpoint format %d (written by nnlua %s), newer than "
             "this nnlua %s reads (format %d and older); load it with a newer nnlua", path,
             format, by ? by : "(unknown version)", NNLUA_VERSION, LNN_CKPT_FORMAT);
}

int lnn_tensor_load(lua_State *L) {
  nn_ctx *ctx = getctx(L);
  const char *path = lnn_checkpath(L, 1);
  lua_settop(L, 1);
  boxmeta(L, LOADER_MT, loader_gc);
  Loader *D = lnn_newudata(L, sizeof(Loader), LOADER_MT);   /* 2 */
  D->st = nn_st_load(ctx, path);
  if (!D->st) return luaL_error(L, "tensor.load: %s", ctx->err);
  nn_st *st = D->st;
  lua_createtable(L, 0, st->n);                     /* 3: name -> tensor */
  lua_newtable(L);                                  /* 4: name -> index of F64/I64 bytes */
  for (int i = 0; i < st->n; i++) {
    if (!st->raw[i]) check_lost(L, path, st, i);  /* I32 and the like are only ever tensors */
    LTensor *u = lnn_newtensor(L);
    u->t = st->ts[i];
    st->ts[i] = NULL;
    lua_setfield(L, 3, st->names[i]);
    if (st->raw[i]) {
      lua_pushinteger(L, i);
      lua_setfield(L, 4, st->names[i]);
    }
  }
  lnn_gcaccount(L, ctx);
  const char *fmt = nn_st_meta(st, "nnlua_format"), *meta = nn_st_meta(st, "nnlua");
  if (fmt) check_format(L, path, st, format_number(L, path, fmt, "nnlua_format"));
  if (!meta) {                                      /* another program's file: flat, all tensors */
    for (int i = 0; i < st->n; i++) check_lost(L, path, st, i);
    lua_settop(L, 3);
    return 1;
  }
  D->root = cJSON_Parse(meta);
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(D->root, "v");
  if (!D->root || !cJSON_IsNumber(ver)) badmeta(L, path, "not JSON");
  if (!fmt) check_format(L, path, st, tree_format(L, path, ver));   /* formats 1 and 2 */
  build(L, path, cJSON_GetObjectItemCaseSensitive(D->root, "root"), 3, st, 4);
  loader_free(D);
  return 1;
}
