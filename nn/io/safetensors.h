/* safetensors.h -- read and write safetensors checkpoint files.
 *
 * Format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v", ...},
 *    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
 * (padded with spaces so that 8 + N is a multiple of 8), then the raw
 * little-endian tensor bytes; offsets count from the first byte after the
 * header. nnlua writes tensors as float32 ("F32"), and arrays of Lua numbers
 * (nn_st_array) as F64 or I64. Reading accepts F32 and converts F64, F16,
 * BF16, I64, I32, I16, I8, U8 and BOOL to float32 (nn_st.lost marks a tensor
 * with a value float32 cannot stand for); F64 and I64 bytes are also kept as
 * they are (nn_st.raw).
 *
 * Writing goes through nn/io/atomic.h (a temporary file renamed over path), so a
 * failure never leaves a half-written file, and a value over a limit below is
 * refused before path is touched. Reading
 * validates the whole header (sizes, JSON, dtypes, shapes, offsets inside the
 * data and not overlapping) before it allocates any tensor: a bad file gives
 * NN_EIO with a message naming the file, never a crash.
 */
#ifndef NN_SAFETENSORS_H
#define NN_SAFETENSORS_H

#include "nn/tensor.h"

/* The limits, one set for the writer and the reader: whatever nn_st_save
 * writes, nn_st_load reads back. */
#define NN_ST_MAXHEADER 100000000      /* header bytes: the Rust crate's (and Python's) limit */
#define NN_ST_MAXDEPTH 200             /* nesting of Lua tables in the "nnlua" metadata (l_save.c);
                                          3 JSON levels each stay under cJSON's 1000 */
#define NN_ST_MINARRAY 64              /* number arrays this long are stored as F64/I64 data */

/* An array of 8-byte numbers, written as one 1-d "I64" (int64_t) or "F64"
 * (double) tensor: exact, 8 bytes each, none of them in the header. */
typedef struct nn_st_array {
  const char *name;
  int isint;              /* 1: int64_t values, 0: double */
  int64_t n;
  const void *data;       /* n * 8 bytes (borrowed) */
} nn_st_array;

/* The contents of a loaded file. Everything in it is owned by it and freed by
 * nn_st_free. A caller may take a tensor for itself by copying ts[i] and
 * setting ts[i] to NULL (nn_st_free skips NULL slots); likewise any string. */
typedef struct nn_st {
  int n;                  /* tensors, in the order of the header */
  char **names;           /* n names (malloc'd strings) */
  nn_tensor **ts;         /* n contiguous float32 tensors (owned references) */
  void **raw;             /* n: the bytes of an F64 or I64 entry as in the file, else NULL */
  int *rawint;            /* n: 1 for I64 (int64_t), 0 for F64 (double) */
  int64_t *lost;          /* n: 0, or 1 + the index of the first value the float32 tensor
                             cannot stand for (a whole number past its exact range, or an
                             F64 past its largest); the caller decides (an exact array in
                             raw needs no tensor) */
  long double *lostval;   /* n: that value (long double: exact for an int64) */
  int nmeta;              /* entries of "__metadata__" */
  char **mkeys, **mvals;  /* nmeta keys and string values (malloc'd) */
} nn_st;

/* Writes n tensors (any strides; stored contiguous as F32) under the given
 * names, plus nmeta metadata string pairs, to path atomically. Names must be
 * distinct, non-empty and not "__metadata__". Borrows everything.
 * Returns 0, or NN_EARG / NN_ENOMEM / NN_EIO (message names path and strerror). */
int nn_st_save(nn_ctx *ctx, const char *path, int n, const char *const *names,
               nn_tensor *const *ts, int nmeta, const char *const *mkeys,
               const char *const *mvals);

/* nn_st_save plus na number arrays after the tensors (names distinct from
 * theirs). A header over NN_ST_MAXHEADER is refused (NN_EARG) before path is
 * touched, with a message naming the limit. */
int nn_st_save_arrays(nn_ctx *ctx, const char *path, int n, const char *const *names,
                      nn_tensor *const *ts, int na, const nn_st_array *as, int nmeta,
                      const char *const *mkeys, const char *const *mvals);

/* Reads path. Returns a new nn_st (release with nn_st_free), or NULL with
 * ctx->err set (NN_EIO for a missing or malformed file, NN_ENOMEM). */
nn_st *nn_st_load(nn_ctx *ctx, const char *path);

/* Frees st and everything it still owns; NULL is fine. */
void nn_st_free(nn_st *st);

/* The value of metadata key k in st, or NULL. Borrowed: lives as long as st. */
const char *nn_st_meta(const nn_st *st, const char *k);

#endif
