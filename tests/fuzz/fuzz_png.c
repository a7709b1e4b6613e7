/* fuzz_png.c -- libFuzzer harness for the PNG reader: nn_png_read_mem on the
 * input bytes. Besides what ASan and UBSan catch, it traps when the contract
 * of png.h is broken: a success must give a whole 8-bit image of 1 or 3
 * channels (every byte is read, so ASan sees a short buffer), a failure an
 * empty image and a message naming the input. See README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "nn/io/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nn_ctx *ctx;
  if (!ctx && !(ctx = nn_ctx_new())) abort();
  nn_image im;
  int rc = nn_png_read_mem(ctx, data, size, "fuzz.png", &im);
  if (rc == 0) {
    if (!im.data || im.h < 1 || im.w < 1 || im.h > NN_PNG_MAXSIDE || im.w > NN_PNG_MAXSIDE ||
        (im.c != 1 && im.c != 3))
      __builtin_trap();
    size_t n = (size_t)im.h * im.w * im.c;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) sum += im.data[i];
    volatile unsigned sink = sum;
    (void)sink;
  } else {
    if (rc != NN_EIO && rc != NN_ENOMEM) __builtin_trap();
    if (im.data || im.h || im.w || im.c) __builtin_trap();
    if (!strstr(ctx->err, "fuzz.png")) __builtin_trap();
  }
  nn_image_free(&im);
  return 0;
}
