/* embed.c -- a C program that embeds nnlua: it makes its own data, hands it
 * to a training script as tensors, and reads the learnt weights back.
 *
 *   cc embed.c $(pkg-config --cflags --libs nnlua) -o embed && ./embed
 *
 * The data: 256 points (x1, x2) and y = 2 x1 - 3 x2 + 0.5 plus a little
 * noise. The script fits nn.Linear(2, 1) with SGD; the program then checks
 * that the weights are close to (2, -3) and the bias to 0.5. It also shows
 * how a script error comes back: as a string with the traceback. Exit status
 * 0 when everything holds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <nnlua.h>

#define N 256

static const char *script =
  "local model = nn.Linear(2, 1)\n"
  "local opt = optim.SGD(model:parameters(), {lr = 0.1})\n"
  "local loss_fn = nn.MSELoss()\n"
  "for epoch = 1, 300 do\n"
  "  opt:zero_grad()\n"
  "  local loss = loss_fn(model(X), Y)\n"
  "  loss:backward()\n"
  "  opt:step()\n"
  "  final_loss = loss:item()\n"
  "end\n"
  "W, B = model.weight:detach(), model.bias:detach()\n";

int main(void) {
  static float x[N * 2], y[N];
  unsigned seed = 12345;
  for (int i = 0; i < N; i++) {             /* the program's own data */
    seed = seed * 1103515245u + 12345u;
    x[2 * i] = (float)((seed >> 8) % 2001) / 1000.0f - 1.0f;
    seed = seed * 1103515245u + 12345u;
    x[2 * i + 1] = (float)((seed >> 8) % 2001) / 1000.0f - 1.0f;
    seed = seed * 1103515245u + 12345u;
    float noise = ((float)((seed >> 8) % 2001) / 1000.0f - 1.0f) * 0.01f;
    y[i] = 2.0f * x[2 * i] - 3.0f * x[2 * i + 1] + 0.5f + noise;
  }

  lua_State *L = nnlua_newstate();
  if (L == NULL) {
    fprintf(stderr, "embed: cannot open nnlua (stdlib: %s)\n",
            nnlua_stdlib() ? nnlua_stdlib() : "not found");
    return 1;
  }
  nnlua_set_num_threads(1);                 /* one OpenMP pool per process */
  printf("%s, %d thread(s)\n", nnlua_version(), nnlua_get_num_threads());

  /* data in: copies, so x and y stay the program's */
  if (nnlua_pushtensor(L, x, 2, (int64_t[]){N, 2}) != 0) goto fail;
  lua_setglobal(L, "X");
  if (nnlua_pushtensor(L, y, 2, (int64_t[]){N, 1}) != 0) goto fail;
  lua_setglobal(L, "Y");

  if (nnlua_dostring(L, script, "=train") != 0) goto fail;

  /* weights out: no copy; valid while W is a global and nothing changes it */
  int ndim;
  int64_t shape[NNLUA_MAXDIM];
  lua_getglobal(L, "W");
  const float *w = nnlua_totensor(L, -1, &ndim, shape);
  if (w == NULL || ndim != 2 || shape[0] != 1 || shape[1] != 2) {
    fprintf(stderr, "embed: W is not a [1, 2] tensor\n");
    return 1;
  }
  float wcopy[2];
  if (nnlua_copytensor(L, -1, wcopy, 2) != 0) goto fail;
  lua_pop(L, 1);
  lua_getglobal(L, "B");
  float b;
  if (nnlua_copytensor(L, -1, &b, 1) != 0) goto fail;
  lua_pop(L, 1);
  lua_getglobal(L, "final_loss");
  double loss = lua_tonumber(L, -1);
  lua_pop(L, 1);
  printf("weights %.4f %.4f, bias %.4f, loss %.6f\n", w[0], w[1], b, loss);
  int ok = fabsf(w[0] - 2.0f) < 0.05f && fabsf(w[1] + 3.0f) < 0.05f && fabsf(b - 0.5f) < 0.05f &&
           w[0] == wcopy[0] && w[1] == wcopy[1];

  /* an error comes back as a string with the user's traceback */
  if (nnlua_dostring(L, "local t = tensor.zeros(2, 3)\nlocal u = t:matmul(t)\n", "=bad") == 0) {
    fprintf(stderr, "embed: a bad matmul did not fail\n");
    ok = 0;
  } else {
    printf("error as expected:\n%s\n", nnlua_errmsg(L));
  }
  lua_close(L);
  if (!ok) fprintf(stderr, "embed: the weights were not learnt\n");
  return ok ? 0 : 1;

fail:
  fprintf(stderr, "embed: %s\n", nnlua_errmsg(L));
  lua_close(L);
  return 1;
}
