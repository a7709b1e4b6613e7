/* test_data.c -- nn/data/data.c and nn/data/transform.c from C: image sets
 * from IDX and PNG files, the transform kernels on known inputs, batch
 * assembly (order, labels, both batch paths against per-sample application),
 * and every error leaving nothing allocated (the suite also runs under
 * ASan/LSan). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "nn/data/data.h"
#include "nn/io/png.h"
#include "nn/rng.h"

static const char *FM_IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
static const char *FM_LABELS = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";

static float *data_of(nn_tensor *t) { return t->s->data + t->off; }

static int same(nn_tensor *a, nn_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int k = 0; k < a->ndim; k++) if (a->shape[k] != b->shape[k]) return 0;
  size_t n = 1;
  for (int k = 0; k < a->ndim; k++) n *= (size_t)a->shape[k];
  return memcmp(data_of(a), data_of(b), n * sizeof(float)) == 0;
}

TEST(imageset_idx_fashion_test_set) {
  nn_ctx *ctx = nn_ctx_new();
  nn_imageset s;
  CHECK(nn_imageset_from_idx(ctx, FM_IMAGES, FM_LABELS, NN_DATA_MAXBYTES, &s) == 0);
  CHECK(s.n == 10000 && s.c == 1 && s.h == 28 && s.w == 28 && s.nclasses == 10);
  CHECK(s.labels[0] == 9);                   /* an ankle boot */
  nn_tensor *raw = nn_imageset_raw(ctx, &s, 0);
  CHECK(raw && raw->ndim == 2 && raw->shape[0] == 28);
  CHECK(data_of(raw)[0] == (float)s.pixels[0]);
  nn_tensor_free(raw);
  CHECK(nn_imageset_raw(ctx, &s, 10000) == NULL && strstr(ctx->err, "image 10001 out of range 1..10000"));
  nn_imageset_free(&s);
  nn_imageset_free(&s);                      /* safe twice */
  CHECK(nn_imageset_from_idx(ctx, FM_IMAGES, "/nonexistent/labels", NN_DATA_MAXBYTES, &s) != 0);
  CHECK(strstr(ctx->err, "/nonexistent/labels") != NULL);
  CHECK(s.pixels == NULL && s.n == 0);
  CHECK(nn_imageset_from_idx(ctx, FM_LABELS, FM_IMAGES, NN_DATA_MAXBYTES, &s) != 0);   /* swapped: shapes disagree */
  nn_ctx_free(ctx);
}

/* every built-in step, per sample, against the batch paths */
TEST(batch_paths_equal_per_sample) {
  nn_ctx *ctx = nn_ctx_new();
  nn_imageset s;
  CHECK(nn_imageset_from_idx(ctx, FM_IMAGES, FM_LABELS, NN_DATA_MAXBYTES, &s) == 0);
  nn_tf_step tt = {.kind = NN_TF_TOTENSOR};
  nn_tf_step norm = {.kind = NN_TF_NORMALIZE, .nmean = 1, .mean = {0.286f}, .std = {0.353f}};
  nn_tf_step flat = {.kind = NN_TF_FLATTEN};
  nn_tf_step flip = {.kind = NN_TF_HFLIP, .p = 0.5f};
  nn_tf_step crop = {.kind = NN_TF_CROP, .ch = 24, .cw = 26, .pad = {1, 2, 3, 4},
                     .pad_mode = NN_PAD_REFLECT};
  nn_tf_step pipes[3][4] = {{tt, norm, flat}, {crop, flip, tt, norm}, {tt, crop, flip, flat}};
  int lens[3] = {3, 4, 4};
  int64_t idx[5] = {7, 0, 9999, 7, 4242};
  for (int p = 0; p < 3; p++) {
    nn_rng r1, r2;
    nn_rng_seed(&r1, 99);
    nn_rng_seed(&r2, 99);
    nn_tensor *x, *y;
    CHECK(nn_imageset_batch(ctx, &s, idx, 5, pipes[p], lens[p], &r1, &x, &y) == 0);
    CHECK(x->shape[0] == 5 && y->shape[0] == 5);
    CHECK(data_of(y)[2] == (float)s.labels[9999] + 1);
    for (int k = 0; k < 5; k++) {
      nn_tensor *v = nn_imageset_raw(ctx, &s, idx[k]);
      for (int j = 0; j < lens[p]; j++) {
        nn_tensor *w = nn_tf_apply(ctx, &pipes[p][j], &r2, v);
        CHECK(w != NULL);
        nn_tensor_free(v);
        v = w;
      }
      size_t per = 1;
      for (int d = 1; d < x->ndim; d++) per *= (size_t)x->shape[d];
      CHECK(memcmp(data_of(v), data_of(x) + per * (size_t)k, per * sizeof(float)) == 0);
      nn_tensor_free(v);
    }
    nn_tensor_free(x);
    nn_tensor_free(y);
  }
  nn_imageset_free(&s);
  nn_ctx_free(ctx);
}

TEST(transform_kernels) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t shape[2] = {2, 3};
  nn_tensor *x = nn_tensor_zeros(ctx, 2, shape);
  for (int k = 0; k < 6; k++) data_of(x)[k] = (float)k;   /* [[0 1 2] [3 4 5]] */
  nn_rng r;
  nn_rng_seed(&r, 1);
  nn_tf_step flip = {.kind = NN_TF_HFLIP, .p = 1};
  nn_tensor *f = nn_tf_apply(ctx, &flip, &r, x);
  CHECK(f && data_of(f)[0] == 2 && data_of(f)[3] == 5 && data_of(f)[5] == 3);
  /* crop to the padded size: no draw; edge padding of 1 on the left only */
  nn_tf_step crop = {.kind = NN_TF_CROP, .ch = 2, .cw = 4, .pad = {1, 0, 0, 0}, .pad_mode = NN_PAD_EDGE};
  nn_tensor *c = nn_tf_apply(ctx, &crop, &r, x);
  float want[8] = {0, 0, 1, 2, 3, 3, 4, 5};
  CHECK(c && c->shape[1] == 4 && memcmp(data_of(c), want, sizeof want) == 0);
  crop.pad_mode = NN_PAD_CONSTANT;
  crop.fill = -1;
  nn_tensor *c2 = nn_tf_apply(ctx, &crop, &r, x);
  CHECK(c2 && data_of(c2)[0] == -1 && data_of(c2)[4] == -1 && data_of(c2)[5] == 3);
  nn_tf_step tt = {.kind = NN_TF_TOTENSOR};
  nn_tensor *t = nn_tf_apply(ctx, &tt, &r, x);
  CHECK(t && t->ndim == 3 && t->shape[0] == 1 && data_of(t)[5] == 5.0f / 255.0f);
  nn_tensor *m = nn_tf_apply(ctx, &flip, &r, t);   /* [1, 2, 3] is [C, H, W] */
  CHECK(m && data_of(m)[0] == 2.0f / 255.0f);
  nn_tensor *c3 = same(t, t) ? nn_tensor_clone(ctx, t) : NULL;
  CHECK(c3 && same(c3, t));
  nn_tensor_free(f); nn_tensor_free(c); nn_tensor_free(c2); nn_tensor_free(t);
  nn_tensor_free(m); nn_tensor_free(c3); nn_tensor_free(x);
  nn_ctx_free(ctx);
}

TEST(transform_errors) {
  nn_ctx *ctx = nn_ctx_new();
  nn_rng r;
  nn_rng_seed(&r, 1);
  int64_t s1[1] = {5}, s3[3] = {3, 4, 4};
  nn_tensor *v = nn_tensor_zeros(ctx, 1, s1), *img = nn_tensor_zeros(ctx, 3, s3);
  nn_tf_step bad_std = {.kind = NN_TF_NORMALIZE, .nmean = 1, .mean = {0}, .std = {0}};
  CHECK(nn_tf_apply(ctx, &bad_std, &r, img) == NULL && strstr(ctx->err, "std must be non-zero"));
  nn_tf_step two = {.kind = NN_TF_NORMALIZE, .nmean = 2, .mean = {0, 0}, .std = {1, 1}};
  CHECK(nn_tf_apply(ctx, &two, &r, img) == NULL && strstr(ctx->err, "2 means and stds for 3 channels"));
  nn_tf_step tt = {.kind = NN_TF_TOTENSOR};
  CHECK(nn_tf_apply(ctx, &tt, &r, v) == NULL && strstr(ctx->err, "ToTensor: expected an image"));
  nn_tf_step p2 = {.kind = NN_TF_HFLIP, .p = 2};
  CHECK(nn_tf_apply(ctx, &p2, &r, img) == NULL && strstr(ctx->err, "p = 2 is not in [0, 1]"));
  nn_tf_step big = {.kind = NN_TF_CROP, .ch = 5, .cw = 4};
  CHECK(nn_tf_apply(ctx, &big, &r, img) == NULL && strstr(ctx->err, "larger than the padded image [4, 4]"));
  nn_tf_step sym = {.kind = NN_TF_CROP, .ch = 2, .cw = 2, .pad = {5, 0, 0, 0}, .pad_mode = NN_PAD_SYMMETRIC};
  CHECK(nn_tf_apply(ctx, &sym, &r, img) == NULL && strstr(ctx->err, "too large for 'symmetric'"));
  nn_tf_step neg = {.kind = NN_TF_CROP, .ch = 2, .cw = 2, .pad = {-1, 0, 0, 0}};
  CHECK(nn_tf_apply(ctx, &neg, &r, img) == NULL && strstr(ctx->err, "padding -1"));
  nn_tf_step odd = {.kind = 42};
  CHECK(nn_tf_apply(ctx, &odd, &r, img) == NULL && strstr(ctx->err, "unknown transform"));
  nn_tensor_free(v);
  nn_tensor_free(img);
  nn_ctx_free(ctx);
}

TEST(batch_errors) {
  nn_ctx *ctx = nn_ctx_new();
  nn_imageset s;
  CHECK(nn_imageset_from_idx(ctx, FM_IMAGES, FM_LABELS, NN_DATA_MAXBYTES, &s) == 0);
  nn_rng r;
  nn_rng_seed(&r, 1);
  nn_tensor *x = (nn_tensor *)1, *y = (nn_tensor *)1;
  int64_t bad[2] = {0, 10000};
  CHECK(nn_imageset_batch(ctx, &s, bad, 2, NULL, 0, &r, &x, &y) != 0);
  CHECK(x == NULL && y == NULL && strstr(ctx->err, "index 10001 out of range 1..10000"));
  int64_t ok[1] = {3};
  CHECK(nn_imageset_batch(ctx, &s, ok, 0, NULL, 0, &r, &x, &y) != 0 && strstr(ctx->err, "empty batch"));
  nn_tf_step flat_then_tt[2] = {{.kind = NN_TF_FLATTEN}, {.kind = NN_TF_TOTENSOR}};
  CHECK(nn_imageset_batch(ctx, &s, ok, 1, flat_then_tt, 2, &r, &x, &y) != 0);
  CHECK(strstr(ctx->err, "ToTensor: expected an image [H, W] or [H, W, C], got a sample of shape [784]"));
  CHECK(nn_imageset_batch(ctx, &s, ok, 1, NULL, 0, &r, &x, NULL) == 0);   /* labels optional */
  CHECK(x->ndim == 3 && x->shape[1] == 28);
  nn_tensor_free(x);
  nn_imageset_free(&s);
  nn_ctx_free(ctx);
}

TEST(imageset_pngs) {
  nn_ctx *ctx = nn_ctx_new();
  char dir[] = "/tmp/nn_data_XXXXXX", a[64], b[64], c[64];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(a, sizeof a, "%s/a.png", dir);
  snprintf(b, sizeof b, "%s/b.png", dir);
  snprintf(c, sizeof c, "%s/c.png", dir);
  uint8_t grey[6] = {0, 50, 100, 150, 200, 250}, rgb[4 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  CHECK(nn_png_write(ctx, a, grey, 2, 3, 1, NULL, 0) == 0);
  CHECK(nn_png_write(ctx, b, rgb, 2, 2, 3, NULL, 0) == 0);
  const char *paths[3] = {a, b, c};
  int32_t labels[3] = {0, 1, 1};
  nn_imageset s;
  CHECK(nn_imageset_from_pngs(ctx, paths, labels, 2, NN_DATA_MAXBYTES, &s) == 0);
  CHECK(s.n == 2 && s.c == 3 && s.h == 0 && s.nclasses == 2);   /* sizes differ; grey became RGB */
  CHECK(s.pixels[s.offset[0] + 3] == 50 && s.pixels[s.offset[0] + 4] == 50);
  CHECK(s.pixels[s.offset[1] + 11] == 12);
  int64_t both[2] = {0, 1};
  nn_tensor *x = NULL, *y = NULL;
  CHECK(nn_imageset_batch(ctx, &s, both, 2, NULL, 0, &ctx->rng, &x, &y) != 0);
  CHECK(strstr(ctx->err, "cannot batch samples of different shapes") != NULL);
  nn_imageset_free(&s);
  CHECK(nn_imageset_from_pngs(ctx, paths, labels, 3, NN_DATA_MAXBYTES, &s) != 0 && strstr(ctx->err, c));
  CHECK(s.pixels == NULL);
  unlink(a);
  unlink(b);
  rmdir(dir);
  nn_ctx_free(ctx);
}
