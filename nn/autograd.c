/* autograd.c -- recording nodes on results, and the backward pass. */
#include <stdlib.h>
#include <string.h>
#include "node.h"

/* ---- nodes ---- */

static void node_release(nn_node *n) {
  for (int i = 0; i < n->nin; i++) {
    nn_tensor_free(n->in[i]);
    n->in[i] = NULL;
  }
  nn_tensor_free(n->out);
  nn_tensor_free(n->aux);
  for (int i = 0; i < NN_AG_SAVED; i++) {
    nn_tensor_free(n->saved[i]);
    n->saved[i] = NULL;
  }
  nn_tensor_free(n->gout);
  n->out = n->aux = n->gout = NULL;
  n->released = 1;
}

void nn_node_free_into(nn_node *n, void (*drop)(void *ud, nn_tensor *t), void *ud) {
  if (!n) return;
  for (int i = 0; i < n->nin; i++) drop(ud, n->in[i]);
  for (int i = 0; i < NN_AG_SAVED; i++) drop(ud, n->saved[i]);
  drop(ud, n->out);
  drop(ud, n->aux);
  drop(ud, n->gout);
  free(n->in);
  free(n->in_version);
  free(n);
}

const char *nn_grad_fn_name(const nn_tensor *t) { return t->node ? nn_node_name(t->node) : NULL; }

int nn_ag_wants_grad(nn_ctx *ctx, nn_tensor *const *ts, int n) {
  if (!ctx->grad_enabled) return 0;
  for (int i = 0; i < n; i++)
    if (ts[i] && ts[i]->requires_grad) return 1;
  return 0;
}

/* Attaches a new node for op to out (a new reference, returned); on failure
 * frees out and returns NULL. saves_in: inputs whose values backward reads. */
static nn_node *attach(nn_ctx *ctx, nn_tensor *out, enum nn_op op, int kind,
                       nn_tensor *const *ins, int nin, unsigned saves_in) {
  nn_node *n = calloc(1, sizeof *n);
  if (n) {
    n->in = calloc((size_t)nin, sizeof *n->in);
    n->in_version = calloc((size_t)nin, sizeof *n->in_version);
  }
  if (!n || !n->in || !n->in_version) {
    if (n) { free(n->in); free(n->in_version); free(n); }
    nn_seterr(ctx, NN_ENOMEM, "out of memory recording autograd");
    return NULL;
  }
  n->op = op;
  n->kind = kind;
  n->nin = nin;
  n->saves_in = saves_in;
  for (int i = 0; i < nin; i++) {
    n->in[i] = nn_tensor_retain(ins[i]);
    n->in_version[i] = ins[i]->s->version;
  }
  out->node = n;
  out->requires_grad = 1;
  return n;
}

/* Saves a history-free view of the result for backward. */
static int save_out(nn_ctx *ctx, nn_node *n, nn_tensor *out) {
  n->out = nn_detach(ctx, out);
  n->out_version = out->s->version;
  return n->out ? 0 : NN_ENOMEM;
}

static nn_tensor *fail(nn_tensor *out) {
  nn_tensor_free(out);
  return NULL;
}

nn_tensor *nn_detach(nn_ctx *ctx, const nn_tensor *t) {
  return nn_tensor_view_of(ctx, t, t->ndim, t->shape, t->stride, t->off);
}

int nn_check_inplace(nn_ctx *ctx, const char *fn, const nn_tensor *t) {
  if (!ctx->grad_enabled || !t->requires_grad) return 0;
  return nn_seterr(ctx, NN_EARG, "%s: a tensor that requires grad cannot be changed in place "
                   "(use tensor.no_grad, or work on x:detach())", fn);
}

/* ---- recording wrappers ---- */

nn_tensor *nn_ag_binary(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, nn_tensor *b) {
  nn_tensor *out = nn_binary(ctx, op, a, b);
  if (!out || op >= NN_EQ || !nn_ag_wants_grad(ctx, (nn_tensor *[]){a, b}, 2)) return out;
  unsigned saves = op == NN_ADD || op == NN_SUB ? 0 : 3;
  nn_node *n = attach(ctx, out, NN_OP_BINARY, op, (nn_tensor *[]){a, b}, 2, saves);
  if (!n || (op == NN_POW && save_out(ctx, n, out))) return fail(out);
  return out;
}

nn_tensor *nn_ag_binary_scalar(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, float s, int s_left) {
  nn_tensor *out = nn_binary_scalar(ctx, op, a, s, s_left);
  if (!out || op >= NN_EQ || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  int reads = op == NN_POW || op == NN_MAXIMUM || op == NN_MINIMUM || (op == NN_DIV && s_left);
  nn_node *n = attach(ctx, out, NN_OP_SCALAR, op, &a, 1, reads ? 1 : 0);
  if (!n) return fail(out);
  n->s = s;
  n->s_left = s_left;
  if (op == NN_POW && s_left && save_out(ctx, n, out)) return fail(out);
  return out;
}

nn_tensor *nn_ag_axpy(nn_ctx *ctx, nn_tensor *a, float alpha, nn_tensor *b) {
  int nd;
  int64_t shape[NN_MAXDIM];
  if (nn_broadcast_shape(ctx, alpha >= 0 ? "add" : "sub", a, b, &nd, shape)) return NULL;
  nn_tensor *out = nn_tensor_empty(ctx, nd, shape);
  if (out && (nn_copy_(ctx, out, a) || nn_axpy_(ctx, out, alpha, b))) return fail(out);
  if (!out || !nn_ag_wants_grad(ctx, (nn_tensor *[]){a, b}, 2)) return out;
  nn_node *n = attach(ctx, out, NN_OP_AXPY, 0, (nn_tensor *[]){a, b}, 2, 0);
  if (!n) return fail(out);
  n->s = alpha;
  return out;
}

nn_tensor *nn_ag_unary(nn_ctx *ctx, enum nn_unop op, nn_tensor *a) {
  nn_tensor *out = nn_unary(ctx, op, a);
  if (!out || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  int uses_out = op == NN_EXP || op == NN_SQRT || op == NN_RELU || op == NN_SIGMOID || op == NN_TANH ||
                 op == NN_TAN;
  int uses_in = op == NN_LOG || op == NN_ABS || op == NN_SIN || op == NN_COS;
  nn_node *n = attach(ctx, out, NN_OP_UNARY, op, &a, 1, uses_in ? 1 : 0);
  if (!n || (uses_out && save_out(ctx, n, out))) return fail(out);
  return out;
}

nn_tensor *nn_ag_clamp(nn_ctx *ctx, nn_tensor *a, float lo, float hi) {
  nn_tensor *out = nn_clamp(ctx, a, lo, hi);
  if (!out || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  nn_node *n = attach(ctx, out, NN_OP_CLAMP, 0, &a, 1, 1);
  if (!n) return fail(out);
  n->lo = lo;
  n->hi = hi;
  return out;
}

nn_tensor *nn_ag_reduce(nn_ctx *ctx, enum nn_redop op, nn_tensor *a, int dim, int keepdim,
                        int correction) {
  if (op == NN_MAX || op == NN_MIN) {
    nn_tensor *v, *ix;
    nn_ag_reduce_arg(ctx, op, a, dim, keepdim, &v, &ix);
    nn_tensor_free(ix);
    return v;
  }
  nn_tensor *out = nn_reduce(ctx, op, a, dim, keepdim, correction);
  if (!out || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  nn_node *n = attach(ctx, out, NN_OP_REDUCE, op, &a, 1, op == NN_VAR ? 1 : 0);
  if (!n) return fail(out);
  n->dim = dim;
  n->keepdim = keepdim;
  n->correction = correction;
  return out;
}

int nn_ag_reduce_arg(nn_ctx *ctx, enum nn_redop op, nn_tensor *a, int dim, int keepdim,
                     nn_tensor **values, nn_tensor **indices) {
  int rc = nn_reduce_arg(ctx, op, a, dim, keepdim, values, indices);
  if (rc || !nn_ag_wants_grad(ctx, &a, 1)) return rc;
  if (dim < 0) {                          /* one value: the gradient spreads over the ties */
    nn_node *n = attach(ctx, *values, NN_OP_REDUCE, op, &a, 1, 1);
    if (n && !save_out(ctx, n, *values)) {
      n->dim = -1;
      return 0;
    }
  } else {
    nn_node *n = attach(ctx, *values, NN_OP_REDUCE_ARG, op, &a, 1, 0);
    if (n) {
      n->aux = nn_tensor_retain(*indices);
      n->dim = dim;
      n->keepdim = keepdim;
      return 0;
    }
  }
  nn_tensor_free(*values);
  nn_tensor_free(*indices);
  *values = *indices = NULL;
  return NN_ENOMEM;
}

nn_tensor *nn_ag_matmul(nn_ctx *ctx, nn_tensor *a, nn_tensor *b) {
  nn_tensor *out = nn_matmul(ctx, a, b);
  if (!out || !nn_ag_wants_grad(ctx, (nn_tensor *[]){a, b}, 2)) return out;
  if (!attach(ctx, out, NN_OP_MATMUL, 0, (nn_tensor *[]){a, b}, 2, 3)) return fail(out);
  return out;
}

nn_tensor *nn_ag_softmax(nn_ctx *ctx, nn_tensor *a, int dim, int take_log) {
  nn_tensor *out = nn_softmax(ctx, a, dim, take_log);
  if (!out || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  nn_node *n = attach(ctx, out, NN_OP_SOFTMAX, take_log, &a, 1, 0);
  if (!n || save_out(ctx, n, out)) return fail(out);
  n->dim = dim;
  return out;
}

static nn_tensor *with_aux(nn_ctx *ctx, nn_tensor *out, enum nn_op op, nn_tensor *a, int dim,
                           nn_tensor *aux) {
  if (!out || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  nn_node *n = attach(ctx, out, op, 0, &a, 1, 0);
  if (!n) return fail(out);
  n->aux = nn_tensor_clone(ctx, aux);         /* a copy: later changes to idx must not matter */
  if (!n->aux) return fail(out);
  n->dim = dim;
  return out;
}

nn_tensor *nn_ag_index_select(nn_ctx *ctx, nn_tensor *a, int dim, nn_tensor *idx) {
  return with_aux(ctx, nn_index_select(ctx, a, dim, idx), NN_OP_INDEX_SELECT, a, dim, idx);
}

nn_tensor *nn_ag_gather(nn_ctx *ctx, nn_tensor *a, int dim, nn_tensor *idx) {
  return with_aux(ctx, nn_gather(ctx, a, dim, idx), NN_OP_GATHER, a, dim, idx);
}

nn_tensor *nn_ag_masked_fill(nn_ctx *ctx, nn_tensor *a, nn_tensor *mask, float v) {
  return with_aux(ctx, nn_masked_fill(ctx, a, mask, v), NN_OP_MASKED_FILL, a, -1, mask);
}

nn_tensor *nn_ag_cat(nn_ctx *ctx, nn_tensor *const *ts, int n, int dim) {
  nn_tensor *out = nn_tensor_cat(ctx, ts, n, dim);
  if (!out || !nn_ag_wants_grad(ctx, ts, n)) return out;
  nn_node *node = attach(ctx, out, NN_OP_CAT, 0, ts, n, 0);
  if (!node) return fail(out);
  node->dim = dim;
  return out;
}

static nn_tensor *view_node(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, enum nn_op op,
                            int dim, int64_t start) {
  if (!out || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  nn_node *n = attach(ctx, out, op, 0, &a, 1, 0);
  if (!n) return fail(out);
  n->dim = dim;
  n->start = start;
  return out;
}

nn_tensor *nn_ag_reshaped(nn_ctx *ctx, nn_tensor *out, nn_tensor *a) {
  return view_node(ctx, out, a, NN_OP_RESHAPE, 0, 0);
}

nn_tensor *nn_ag_permuted(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, const int *perm) {
  out = view_node(ctx, out, a, NN_OP_PERMUTE, 0, 0);
  if (out && out->node && out->node->op == NN_OP_PERMUTE)
    memcpy(out->node->perm, perm, sizeof(int) * (size_t)a->ndim);
  return out;
}

nn_tensor *nn_ag_expanded(nn_ctx *ctx, nn_tensor *out, nn_tensor *a) {
  return view_node(ctx, out, a, NN_OP_EXPAND, 0, 0);
}

nn_tensor *nn_ag_narrowed(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, int dim, int64_t start) {
  return view_node(ctx, out, a, NN_OP_NARROW, dim, start);
}

nn_tensor *nn_ag_selected(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, int dim, int64_t i) {
  return view_node(ctx, out, a, NN_OP_SELECT, dim, i);
}

nn_tensor *nn_ag_stepped(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, int dim, int64_t step) {
  return view_node(ctx, out, a, NN_OP_STEP, dim, step);
}

nn_tensor *nn_ag_copied(nn_ctx *ctx, nn_tensor *out, nn_tensor *a) {
  if (out == a) return out;                  /* contiguous() of a contiguous tensor */
  return view_node(ctx, out, a, NN_OP_COPY, 0, 0);
}

nn_tensor *nn_ag_record(nn_ctx *ctx, nn_tensor *out, const char *name, nn_backward_fn fn,
                        nn_tensor *const *in, int nin, nn_tensor *const *saved, int nsaved,
                        const void *params, size_t size) {
  if (!out || !nn_ag_wants_grad(ctx, in, nin)) return out;
  if (nsaved > NN_AG_SAVED || size > NN_AG_PARAMS_SIZE) {
    nn_seterr(ctx, NN_EARG, "%s: too many saved tensors or too large settings for autograd", name);
    return fail(out);
  }
  nn_node *n = attach(ctx, out, NN_OP_CUSTOM, 0, in, nin, 0);
  if (!n) return fail(out);
  n->custom = fn;
  n->name = name;
  for (int i = 0; i < nsaved; i++) {
    n->saved[i] = saved[i] ? nn_tensor_retain(saved[i]) : NULL;
    n->saved_version[i] = saved[i] ? saved[i]->s->version : 0;
  }
  if (size) memcpy(n->params.bytes, params, size);
  return out;
}

/* ---- the backward pass ---- */

/* The nodes reachable from root, each after every node that feeds it a gradient
 * (reverse postorder of a depth-first walk; iterative, so deep tapes are fine). */
static nn_node **topo_order(nn_ctx *ctx, nn_node *root, uint64_t stamp, int *count) {
  size_t cap = 64, n = 0, depth = 0, scap = 64;
  nn_node **order = malloc(cap * sizeof *order);
  struct frame { nn_node *node; int next; } *stack = malloc(scap * sizeof *stack);
  if (!order || !stack) goto oom;
  root->mark = stamp;
  stack[depth++] = (struct frame){root, 0};
  while (depth > 0) {
    struct frame *f = &stack[depth - 1];
    if (f->next < f->node->nin) {
      nn_tensor *in = f->node->in[f->next++];
      nn_node *child = in ? in->node : NULL;
      if (!child || child->mark == stamp) continue;
      child->mark = stamp;
      if (depth == scap) {
        struct frame *s2 = realloc(stack, (scap *= 2) * sizeof *stack);
        if (!s2) goto oom;
        stack = s2;
      }
      stack[depth++] = (struct frame){child, 0};
      continue;
    }
    if (n == cap) {
      nn_node **o2 = realloc(order, (cap *= 2) * sizeof *order);
      if (!o2) goto oom;
      order = o2;
    }
    order[n++] = f->node;
    depth--;
  }
  free(stack);
  for (size_t i = 0; i < n / 2; i++) {          /* postorder -> reverse postorder */
    nn_node *t = order[i]; order[i] = order[n - 1 - i]; order[n - 1 - i] = t;
  }
  *count = (int)n;
  return order;
oom:
  free(order);
  free(stack);
  nn_seterr(ctx, NN_ENOMEM, "backward: out of memory");
  return NULL;
}

/* t, or a copy of it when anything else may still see its storage */
static nn_tensor *owned(nn_ctx *ctx, nn_tensor *t) {
  if (t->rc == 1 && t->s->rc == 1 && !t->node) return t;
  nn_tensor *c = nn_tensor_clone(ctx, t);
  nn_tensor_free(t);
  return c;
}

/* slot += g, taking g over when slot is empty; g is consumed */
static int accumulate(nn_ctx *ctx, nn_tensor **slot, nn_tensor *g) {
  if (!*slot) {
    *slot = owned(ctx, g);
    return *slot ? 0 : NN_ENOMEM;
  }
  int overlapping = 0;                /* an assigned expanded .grad: add out of place */
  for (int d = 0; d < (*slot)->ndim; d++) overlapping |= (*slot)->stride[d] == 0 && (*slot)->shape[d] > 1;
  if (overlapping) {
    nn_tensor *sum = nn_binary(ctx, NN_ADD, *slot, g);
    nn_tensor_free(g);
    if (!sum) return NN_ENOMEM;
    nn_tensor_free(*slot);
    *slot = sum;
    return 0;
  }
  int rc = nn_axpy_(ctx, *slot, 1.0f, g);
  nn_tensor_free(g);
  return rc;
}

#define CHANGED_HINT "; an in-place change between the forward pass and backward() (such as " \
  "opt:step() or x:mul_() under no_grad) would make its gradient wrong: call backward() first, " \
  "or change a clone"

static int changed_input(nn_ctx *ctx, const nn_node *n, int i) {
  char s[128];
  return nn_seterr(ctx, NN_EARG, "backward: input %d of %s (shape %s) was modified in place after "
                   "it was used" CHANGED_HINT, i + 1, nn_node_name(n), nn_shape_str(n->in[i], s, sizeof s));
}

static int check_versions(nn_ctx *ctx, const nn_node *n) {
  for (int i = 0; i < n->nin; i++)
    if ((n->saves_in >> i & 1) && n->in[i]->s->version != n->in_version[i]) return changed_input(ctx, n, i);
  for (int i = 0; i < NN_AG_SAVED; i++) {
    if (!n->saved[i] || n->saved[i]->s->version == n->saved_version[i]) continue;
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] && n->in[j]->s == n->saved[i]->s) return changed_input(ctx, n, j);
    return nn_seterr(ctx, NN_EARG, "backward: a tensor saved by %s was modified in place after "
                     "it was used" CHANGED_HINT, nn_node_name(n));
  }
  if (n->out && n->out->s->version != n->out_version)
    return nn_seterr(ctx, NN_EARG, "backward: the result of %s was modified in place after it "
                     "was computed", nn_node_name(n));
  return 0;
}

static int run_node(nn_ctx *ctx, nn_node *n) {
  if (n->released)
    return nn_seterr(ctx, NN_EARG, "backward: part of this graph (%s) was already freed by an earlier "
                     "backward; pass {retain_graph = true} to that one", nn_node_name(n));
  nn_tensor *g = n->gout, *gin[64] = {0}, **gv = n->nin <= 64 ? gin : calloc((size_t)n->nin, sizeof *gv);
  int rc = gv ? check_versions(ctx, n) : nn_seterr(ctx, NN_ENOMEM, "backward: out of memory");
  n->gout = NULL;
  if (!rc) rc = nn_node_backward(ctx, n, g, gv);
  for (int i = 0; i < n->nin && gv; i++) {
    if (!gv[i]) continue;
    nn_tensor *in = n->in[i];
    if (!rc) rc = accumulate(ctx, in->node ? &in->node->gout : &in->grad, gv[i]);
    else nn_tensor_free(gv[i]);
  }
  nn_tensor_free(g);
  if (gv != gin) free(gv);
  return rc;
}

static int check_root(nn_ctx *ctx, nn_tensor *root, const nn_tensor *grad) {
  char s1[128], s2[128];
  if (!root->requires_grad)
    return nn_seterr(ctx, NN_EARG, "backward: tensor does not require grad and has no grad_fn");
  if (root->node && root->node->released)
    return nn_seterr(ctx, NN_EARG, "backward: the graph was already freed by an earlier backward; "
                     "pass {retain_graph = true} to the first one to go through it twice");
  if (!grad && nn_tensor_numel(root) != 1)
    return nn_seterr(ctx, NN_EARG, "backward: the result has shape %s; give a gradient of that shape "
                     "(only one-element results take none)", nn_shape_str(root, s1, 128));
  if (grad && (grad->ndim != root->ndim ||
               memcmp(grad->shape, root->shape, sizeof(int64_t) * (size_t)root->ndim)))
    return nn_seterr(ctx, NN_EARG, "backward: gradient of shape %s for a result of shape %s",
                     nn_shape_str(grad, s2, 128), nn_shape_str(root, s1, 128));
  return 0;
}

int nn_backward(nn_ctx *ctx, nn_tensor *root, const nn_tensor *grad, int retain) {
  if (check_root(ctx, root, grad)) return NN_EARG;
  nn_tensor *g0 = grad ? nn_tensor_clone(ctx, grad) : nn_tensor_full(ctx, root->ndim, root->shape, 1.0f);
  if (!g0) return NN_ENOMEM;
  if (!root->node) return accumulate(ctx, &root->grad, g0);
  uint64_t stamp = ++ctx->ag_stamp;
  int count, rc = 0;
  nn_node **order = topo_order(ctx, root->node, stamp, &count);
  if (!order) {
    nn_tensor_free(g0);
    return NN_ENOMEM;
  }
  root->node->gout = g0;
  for (int i = 0; i < count && !rc; i++)
    if (order[i]->gout) rc = run_node(ctx, order[i]);
  /* Producers come after their consumers in order, so going from the end a
   * release only ever frees nodes that were already released. */
  for (int i = count - 1; i >= 0; i--) {
    nn_tensor_free(order[i]->gout);
    order[i]->gout = NULL;
    if (!retain) node_release(order[i]);
  }
  free(order);
  return rc;
}
