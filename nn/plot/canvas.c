/* canvas.c -- figures drawn with cairo, saved through png.c or cairo's SVG
 * surface (see canvas.h). */
#include <cairo.h>
#include <cairo-ft.h>
#include <cairo-svg.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nn/io/atomic.h"
#include "canvas.h"
#include "nn/io/png.h"
#include "nn/mem.h"

#define DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

/* A canvas is a list of drawing operations, played onto a cairo surface when
 * the figure is rendered (PNG pixels or SVG). (Not a cairo recording surface:
 * cairo 1.16's SVG backend leaks recording surfaces used as sources.) */
enum op_kind { OP_COLOR, OP_WIDTH, OP_DASH, OP_MOVE, OP_LINE, OP_CLOSE, OP_RECT, OP_RRECT,
               OP_CIRCLE, OP_STROKE, OP_FILL, OP_CLIP, OP_UNCLIP, OP_TEXT, OP_IMAGE };

typedef struct op {
  int kind;
  double v[6];
  void *p;                  /* OP_TEXT: the string; OP_IMAGE: an image_data (owned) */
} op;

typedef struct image_data { int h, w, c; uint8_t data[]; } image_data;

struct nn_canvas {
  int w, h;
  op *ops;                  /* counted (nn/mem.h), as are the texts and images */
  size_t n, cap;
  int err;                  /* NN_ENOMEM once an operation could not be stored */
  char why[300];            /* ... and why: the limit, or no memory */
  nn_ctx *ctx;              /* the context it was made with: drawing calls count with it */
  size_t bytes;             /* held by texts and images */
  cairo_surface_t *scratch; /* 1 x 1, with m: measures text */
  cairo_t *m;
};

/* ------------------------------------------------------------------ font */

static cairo_font_face_t *font_face;   /* shared by every canvas, never freed */
static pthread_once_t font_once = PTHREAD_ONCE_INIT;

static void font_load(void) {
  const char *path = getenv("NNLUA_FONT");
  if (!path || !*path) path = DEFAULT_FONT;
  FT_Library lib;
  FT_Face face;
  if (FT_Init_FreeType(&lib) == 0) {
    if (FT_New_Face(lib, path, 0, &face) == 0) {
      font_face = cairo_ft_font_face_create_for_ft_face(face, 0);
      if (cairo_font_face_status(font_face) == CAIRO_STATUS_SUCCESS) return;
      cairo_font_face_destroy(font_face);
      FT_Done_Face(face);
    }
    FT_Done_FreeType(lib);
  }
  font_face = cairo_toy_font_face_create("sans-serif", CAIRO_FONT_SLANT_NORMAL,
                                         CAIRO_FONT_WEIGHT_NORMAL);
}

/* ---------------------------------------------------------------- canvas */

static void set_font_options(cairo_t *cr) {
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr, fo);
  cairo_font_options_destroy(fo);
}

const char *nn_canvas_version(void) { return cairo_version_string(); }

static void setup(cairo_t *cr) {
  cairo_set_font_face(cr, font_face);
  set_font_options(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
}

nn_canvas *nn_canvas_new(nn_ctx *ctx, int w, int h) {
  if (w < 1 || h < 1 || w > NN_PNG_MAXSIDE || h > NN_PNG_MAXSIDE ||
      (size_t)w * (size_t)h * 4 > NN_PNG_MAXBYTES) {
    nn_seterr(ctx, NN_EARG, "figure size %d x %d out of range", w, h);
    return NULL;
  }
  pthread_once(&font_once, font_load);
  nn_canvas *cv = calloc(1, sizeof *cv);
  if (!cv) { nn_seterr(ctx, NN_ENOMEM, "figure: out of memory"); return NULL; }
  cv->ctx = ctx;
  cv->w = w;
  cv->h = h;
  cv->scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cv->m = cairo_create(cv->scratch);
  setup(cv->m);
  if (nn_canvas_check(ctx, cv) != 0) { nn_canvas_free(cv); return NULL; }
  return cv;
}

void nn_canvas_free(nn_canvas *cv) {
  if (!cv) return;
  for (size_t k = 0; k < cv->n; k++) nn_mem_free(cv->ops[k].p);
  nn_mem_free(cv->ops);
  cairo_destroy(cv->m);
  cairo_surface_destroy(cv->scratch);
  free(cv);
}

size_t nn_canvas_bytes(const nn_canvas *cv) {
  return sizeof *cv + cv->cap * sizeof *cv->ops + cv->bytes;
}

int nn_canvas_width(const nn_canvas *cv) { return cv->w; }
int nn_canvas_height(const nn_canvas *cv) { return cv->h; }

static int cairo_error(nn_ctx *ctx, cairo_status_t st) {
  if (st == CAIRO_STATUS_NO_MEMORY) return nn_seterr(ctx, NN_ENOMEM, "figure: out of memory");
  return nn_seterr(ctx, NN_EBACKEND, "figure: cairo: %s", cairo_status_to_string(st));
}

/* A drawing call could not store what it was given: the canvas remembers why. */
static void refused(nn_canvas *cv) {
  if (!cv->err) snprintf(cv->why, sizeof cv->why, "%.299s", cv->ctx->err);
  cv->err = NN_ENOMEM;
}

int nn_canvas_check(nn_ctx *ctx, nn_canvas *cv) {
  if (cv->err) return nn_seterr(ctx, NN_ENOMEM, "figure: %s", cv->why);
  cairo_status_t st = cairo_status(cv->m);
  return st == CAIRO_STATUS_SUCCESS ? 0 : cairo_error(ctx, st);
}

/* appends an operation; p (owned from now on) is freed if it cannot be */
static void push(nn_canvas *cv, int kind, double a, double b, double c, double d, double e,
                 double f, void *p) {
  if (cv->err) { nn_mem_free(p); return; }
  if (cv->n == cv->cap) {
    size_t cap = cv->cap ? cv->cap * 2 : 256, bytes;
    op *ops = NULL;
    if (nn_mem_size(cv->ctx, cap, sizeof *ops, &bytes, "the drawing of a figure") == 0)
      ops = nn_mem_realloc(cv->ctx, cv->ops, bytes, "the drawing of a figure (%zu operations)",
                           cap);
    if (!ops) { refused(cv); nn_mem_free(p); return; }
    cv->ops = ops;
    cv->cap = cap;
  }
  op *o = &cv->ops[cv->n++];
  o->kind = kind;
  o->v[0] = a; o->v[1] = b; o->v[2] = c; o->v[3] = d; o->v[4] = e; o->v[5] = f;
  o->p = p;
}

#define push(cv, kind, ...) push(cv, kind, __VA_ARGS__)

/* ------------------------------------------------------------ pen, paths */

void nn_canvas_color(nn_canvas *cv, uint32_t rgb, double alpha) {
  push(cv, OP_COLOR, ((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0,
       (rgb & 255) / 255.0, alpha, 0, 0, NULL);
}

void nn_canvas_line_width(nn_canvas *cv, double w) { push(cv, OP_WIDTH, w, 0, 0, 0, 0, 0, NULL); }

void nn_canvas_dash(nn_canvas *cv, enum nn_dash d) { push(cv, OP_DASH, d, 0, 0, 0, 0, 0, NULL); }

void nn_canvas_move(nn_canvas *cv, double x, double y) { push(cv, OP_MOVE, x, y, 0, 0, 0, 0, NULL); }

void nn_canvas_line(nn_canvas *cv, double x, double y) { push(cv, OP_LINE, x, y, 0, 0, 0, 0, NULL); }

void nn_canvas_close(nn_canvas *cv) { push(cv, OP_CLOSE, 0, 0, 0, 0, 0, 0, NULL); }

void nn_canvas_rect(nn_canvas *cv, double x, double y, double w, double h) {
  push(cv, OP_RECT, x, y, w, h, 0, 0, NULL);
}

void nn_canvas_round_rect(nn_canvas *cv, double x, double y, double w, double h, double r) {
  push(cv, OP_RRECT, x, y, w, h, r, 0, NULL);
}

void nn_canvas_circle(nn_canvas *cv, double x, double y, double r) {
  push(cv, OP_CIRCLE, x, y, r, 0, 0, 0, NULL);
}

void nn_canvas_stroke(nn_canvas *cv) { push(cv, OP_STROKE, 0, 0, 0, 0, 0, 0, NULL); }

void nn_canvas_fill(nn_canvas *cv) { push(cv, OP_FILL, 0, 0, 0, 0, 0, 0, NULL); }

void nn_canvas_clip(nn_canvas *cv, double x, double y, double w, double h) {
  push(cv, OP_CLIP, x, y, w, h, 0, 0, NULL);
}

void nn_canvas_unclip(nn_canvas *cv) { push(cv, OP_UNCLIP, 0, 0, 0, 0, 0, 0, NULL); }

/* ------------------------------------------------------------------ text */

/* a counted copy of s with every byte that is not part of a valid UTF-8
 * sequence replaced by '?' (NULL: refused, the canvas says why) */
static char *valid_utf8(nn_canvas *cv, const char *s) {
  size_t n = strlen(s);
  char *out = nn_mem_alloc(cv->ctx, n + 1, "a text of a figure");
  if (!out) { refused(cv); return NULL; }
  memcpy(out, s, n + 1);
  for (size_t i = 0; i < n;) {
    const unsigned char *p = (const unsigned char *)out + i;
    size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
               : p[0] >= 0xE0 && p[0] <= 0xEF ? 3 : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
    int ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; k++) ok = (p[k] & 0xC0) == 0x80;
    if (ok && len == 3) ok = !(p[0] == 0xE0 && p[1] < 0xA0) && !(p[0] == 0xED && p[1] > 0x9F);
    if (ok && len == 4) ok = !(p[0] == 0xF0 && p[1] < 0x90) && !(p[0] == 0xF4 && p[1] > 0x8F);
    if (ok) i += len;
    else out[i++] = '?';
  }
  return out;
}

static double cap_height(cairo_t *cr) {
  cairo_text_extents_t te;
  cairo_text_extents(cr, "H", &te);
  return -te.y_bearing;
}

static double descent(cairo_t *cr) {
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  return fe.descent;
}

double nn_canvas_text_width(nn_canvas *cv, const char *s, double size) {
  char *t = valid_utf8(cv, s);
  if (!t) return 0;
  cairo_text_extents_t te;
  cairo_set_font_size(cv->m, size);
  cairo_text_extents(cv->m, t, &te);
  nn_mem_free(t);
  return te.x_advance;
}

double nn_canvas_text_height(nn_canvas *cv, double size) {
  cairo_set_font_size(cv->m, size);
  return cap_height(cv->m) + descent(cv->m);
}

void nn_canvas_text(nn_canvas *cv, double x, double y, const char *s, double size,
                    double halign, double valign, double angle) {
  if (!*s) return;
  char *t = valid_utf8(cv, s);
  if (!t) return;
  cv->bytes += strlen(t) + 1;
  push(cv, OP_TEXT, x, y, size, halign, valign, angle, t);
}

static void play_text(cairo_t *cr, const op *o) {
  const char *t = o->p;
  cairo_save(cr);
  cairo_translate(cr, o->v[0], o->v[1]);
  if (o->v[5] != 0) cairo_rotate(cr, -o->v[5] * M_PI / 180);
  cairo_set_font_size(cr, o->v[2]);
  cairo_text_extents_t te;
  cairo_text_extents(cr, t, &te);
  double cap = cap_height(cr), box = cap + descent(cr);
  cairo_move_to(cr, -o->v[3] * te.x_advance, cap - o->v[4] * box);
  cairo_show_text(cr, t);
  cairo_restore(cr);
}

/* ---------------------------------------------------------------- images */

int nn_canvas_image(nn_ctx *ctx, nn_canvas *cv, double x, double y, const uint8_t *data,
                    int h, int w, int c, double scale) {
  int k = scale >= 1 ? (int)scale : 1;
  if (h < 1 || w < 1 || (c != 1 && c != 3) || !(scale > 0) ||
      (int64_t)h * k > NN_PNG_MAXSIDE || (int64_t)w * k > NN_PNG_MAXSIDE)
    return nn_seterr(ctx, NN_EARG, "figure: bad image %d x %d x %d at scale %g", h, w, c, scale);
  size_t n = (size_t)h * (size_t)w * (size_t)c;
  image_data *im = nn_mem_alloc(ctx, sizeof *im + n, "an image of %d x %d in a figure", w, h);
  if (!im) return NN_ENOMEM;
  im->h = h;
  im->w = w;
  im->c = c;
  memcpy(im->data, data, n);
  cv->bytes += sizeof *im + n;
  push(cv, OP_IMAGE, x, y, scale, 0, 0, 0, im);
  return nn_canvas_check(ctx, cv);
}

/* Bytes of cairo's RGB24 image surface of w x h: charged before cairo makes it. */
static size_t surface_bytes(int w, int h) {
  int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, w);
  return stride > 0 ? (size_t)stride * (size_t)h : (size_t)w * (size_t)h * 4;
}

/* each pixel repeated k times (nearest neighbour), then scaled by scale / k;
 * 0, or NN_ENOMEM when the memory limit refuses its pixels (ctx->err says) */
static int play_image(nn_ctx *ctx, cairo_t *cr, const op *o) {
  const image_data *im = o->p;
  double scale = o->v[2];
  int k = scale >= 1 ? (int)scale : 1, W = im->w * k, H = im->h * k, c = im->c;
  size_t bytes = surface_bytes(W, H);
  if (nn_mem_charge(ctx, bytes, "the pixels of a %d x %d image drawn in a figure", W, H) != 0)
    return NN_ENOMEM;
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    nn_mem_uncharge(bytes);
    return 0;               /* the target stays fine; the image is missing */
  }
  cairo_surface_flush(img);
  uint8_t *base = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  for (int r = 0; r < H; r++) {
    uint32_t *row = (uint32_t *)(base + (size_t)r * (size_t)stride);
    const uint8_t *src = im->data + (size_t)(r / k) * (size_t)im->w * (size_t)c;
    for (int j = 0; j < W; j++) {
      const uint8_t *p = src + (size_t)(j / k) * (size_t)c;
      uint32_t R = p[0], G = c == 3 ? p[1] : R, B = c == 3 ? p[2] : R;
      row[j] = 0xFF000000u | R << 16 | G << 8 | B;
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cr);
  cairo_translate(cr, o->v[0], o->v[1]);
  cairo_rectangle(cr, 0, 0, im->w * scale, im->h * scale);
  cairo_clip(cr);
  cairo_scale(cr, scale / k, scale / k);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), scale == k ? CAIRO_FILTER_NEAREST
                                                            : CAIRO_FILTER_GOOD);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
  nn_mem_uncharge(bytes);
  return 0;
}

/* ------------------------------------------------------------------ play */

static void play_dash(cairo_t *cr, int d) {
  double w = cairo_get_line_width(cr);
  double pat[4];
  int n = 0;
  switch (d) {
  case NN_DASHED:  pat[0] = 3.7 * w; pat[1] = 1.6 * w; n = 2; break;
  case NN_DOTTED:  pat[0] = 1.0 * w; pat[1] = 1.65 * w; n = 2; break;
  case NN_DASHDOT: pat[0] = 6.4 * w; pat[1] = 1.6 * w; pat[2] = 1.0 * w; pat[3] = 1.6 * w;
                   n = 4; break;
  default: break;
  }
  cairo_set_dash(cr, pat, n, 0);
}

static void play_round_rect(cairo_t *cr, const double *v) {
  double x = v[0], y = v[1], w = v[2], h = v[3], r = fmin(v[4], fmin(w / 2, h / 2));
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
  cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
}

/* draws the canvas with cr, over a white background; 0, or NN_ENOMEM when
 * the memory limit refused an image's pixels (ctx->err says) */
static int play(nn_ctx *ctx, nn_canvas *cv, cairo_t *cr) {
  setup(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (size_t k = 0; k < cv->n; k++) {
    const op *o = &cv->ops[k];
    const double *v = o->v;
    switch (o->kind) {
    case OP_COLOR: cairo_set_source_rgba(cr, v[0], v[1], v[2], v[3]); break;
    case OP_WIDTH: cairo_set_line_width(cr, v[0]); break;
    case OP_DASH: play_dash(cr, (int)v[0]); break;
    case OP_MOVE: cairo_move_to(cr, v[0], v[1]); break;
    case OP_LINE: cairo_line_to(cr, v[0], v[1]); break;
    case OP_CLOSE: cairo_close_path(cr); break;
    case OP_RECT: cairo_rectangle(cr, v[0], v[1], v[2], v[3]); break;
    case OP_RRECT: play_round_rect(cr, v); break;
    case OP_CIRCLE:
      cairo_new_sub_path(cr);
      cairo_arc(cr, v[0], v[1], v[2], 0, 2 * M_PI);
      cairo_close_path(cr);
      break;
    case OP_STROKE: cairo_stroke(cr); break;
    case OP_FILL: cairo_fill(cr); break;
    case OP_CLIP:
      cairo_reset_clip(cr);
      cairo_rectangle(cr, v[0], v[1], v[2], v[3]);
      cairo_clip(cr);
      break;
    case OP_UNCLIP: cairo_reset_clip(cr); break;
    case OP_TEXT: play_text(cr, o); break;
    case OP_IMAGE:
      if (play_image(ctx, cr, o) != 0) return NN_ENOMEM;
      break;
    default: break;
    }
  }
  return 0;
}

/* draws the canvas onto target, over a white background: 0, or an NN_E*
 * code with ctx->err set */
static int replay(nn_ctx *ctx, nn_canvas *cv, cairo_surface_t *target) {
  cairo_t *cr = cairo_create(target);
  int rc = play(ctx, cv, cr);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  return rc != 0 ? rc : st == CAIRO_STATUS_SUCCESS ? 0 : cairo_error(ctx, st);
}

int nn_canvas_draw(nn_ctx *ctx, nn_canvas *cv, struct _cairo *cr) {
  int rc = nn_canvas_check(ctx, cv);
  if (rc != 0) return rc;
  cairo_save(cr);
  cairo_rectangle(cr, 0, 0, cv->w, cv->h);
  cairo_clip(cr);
  rc = play(ctx, cv, cr);
  cairo_restore(cr);
  cairo_status_t st = cairo_status(cr);
  return rc != 0 ? rc : st == CAIRO_STATUS_SUCCESS ? 0 : cairo_error(ctx, st);
}

nn_canvas *nn_canvas_copy(nn_ctx *ctx, const nn_canvas *cv) {
  nn_canvas *c = nn_canvas_new(ctx, cv->w, cv->h);
  if (!c) return NULL;
  c->ops = nn_mem_alloc(ctx, (cv->n ? cv->n : 1) * sizeof *c->ops,   /* as many as cv holds */
                        "a copy of a figure (%zu operations)", cv->n);
  if (!c->ops) goto refused;
  c->cap = cv->n ? cv->n : 1;
  for (size_t k = 0; k < cv->n; k++) {
    const op *o = &cv->ops[k];
    size_t n = 0;
    if (o->kind == OP_TEXT) n = strlen(o->p) + 1;
    else if (o->kind == OP_IMAGE) {
      const image_data *im = o->p;
      n = sizeof *im + (size_t)im->h * (size_t)im->w * (size_t)im->c;
    }
    c->ops[k] = *o;
    c->ops[k].p = NULL;
    c->n = k + 1;
    if (n > 0) {
      if (!(c->ops[k].p = nn_mem_alloc(ctx, n, "a copy of a figure"))) goto refused;
      memcpy(c->ops[k].p, o->p, n);
      c->bytes += n;
    }
  }
  c->err = cv->err;
  memcpy(c->why, cv->why, sizeof c->why);
  return c;
refused:
  nn_canvas_free(c);
  return NULL;
}

/* ---------------------------------------------------------------- output */

/* renders the canvas to RGB bytes [h, w, 3] in *out (counted: nn/mem.h) */
static int render(nn_ctx *ctx, nn_canvas *cv, uint8_t **out) {
  *out = NULL;
  int rc = nn_canvas_check(ctx, cv);
  if (rc != 0) return rc;
  size_t bytes = surface_bytes(cv->w, cv->h);
  if ((rc = nn_mem_charge(ctx, bytes, "the pixels of a figure of %d x %d", cv->w, cv->h)) != 0)
    return rc;
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cv->w, cv->h);
  cairo_status_t st = cairo_surface_status(img);
  rc = st == CAIRO_STATUS_SUCCESS ? replay(ctx, cv, img) : cairo_error(ctx, st);
  if (rc == 0 && !(*out = nn_mem_alloc(ctx, (size_t)cv->w * (size_t)cv->h * 3,
                                       "the RGB bytes of a figure of %d x %d", cv->w, cv->h)))
    rc = NN_ENOMEM;
  if (rc != 0) {
    cairo_surface_destroy(img);
    nn_mem_uncharge(bytes);
    return rc;
  }
  cairo_surface_flush(img);
  const uint8_t *base = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  for (int r = 0; r < cv->h; r++) {
    const uint32_t *row = (const uint32_t *)(base + (size_t)r * (size_t)stride);
    uint8_t *o = *out + (size_t)r * (size_t)cv->w * 3;
    for (int k = 0; k < cv->w; k++) {
      o[3 * k] = (uint8_t)(row[k] >> 16);
      o[3 * k + 1] = (uint8_t)(row[k] >> 8);
      o[3 * k + 2] = (uint8_t)row[k];
    }
  }
  cairo_surface_destroy(img);
  nn_mem_uncharge(bytes);
  return 0;
}

uint8_t *nn_canvas_pixels(nn_ctx *ctx, nn_canvas *cv) {
  uint8_t *px;
  return render(ctx, cv, &px) == 0 ? px : NULL;
}

/* the SVG document, gathered in memory (counted: nn/mem.h) */
typedef struct buf {
  char *p;
  size_t n, cap;
  nn_ctx *ctx;
  int refused;              /* could not grow: ctx->err says why (cairo's error comes after) */
  char why[300];
} buf;

static int buf_add(buf *b, const void *data, size_t n) {
  if (b->refused) return -1;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->n + n) cap *= 2;
    char *p = nn_mem_realloc(b->ctx, b->p, cap, "an SVG document of %zu bytes so far", b->n);
    if (!p) {
      snprintf(b->why, sizeof b->why, "%.299s", b->ctx->err);
      b->refused = 1;
      return -1;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
  return 0;
}

static cairo_status_t svg_write(void *closure, const unsigned char *data, unsigned int n) {
  return buf_add(closure, data, n) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_NO_MEMORY;
}

/* cairo names surfaces and images in SVG after process-wide counters
 * (surface7, image12): number them 1, 2, ... in order of appearance, so that
 * the same figure gives the same bytes. Ids follow id=" and href="#. */
static int svg_renumber(const buf *in, buf *out) {
  enum { MAXIDS = 4096 };
  static const char *const names[] = {"surface", "image"};
  long old[2][MAXIDS];
  int nid[2] = {0, 0};
  const char *p = in->p, *end = in->p + in->n;
  while (p < end) {
    const char *q = p;
    size_t skip = (end - p >= 4 && memcmp(p, "id=\"", 4) == 0) ? 4
                : (end - p >= 7 && memcmp(p, "href=\"#", 7) == 0) ? 7 : 0;
    if (!skip) {
      if (buf_add(out, p, 1) != 0) return -1;
      p++;
      continue;
    }
    q += skip;
    int kind = -1;
    size_t len = 0;
    for (int k = 0; k < 2 && kind < 0; k++) {
      len = strlen(names[k]);
      if ((size_t)(end - q) > len && memcmp(q, names[k], len) == 0 && q[len] >= '0' && q[len] <= '9')
        kind = k;
    }
    if (kind < 0) {
      if (buf_add(out, p, skip) != 0) return -1;
      p += skip;
      continue;
    }
    const char *d = q + len;
    long v = 0;
    while (d < end && *d >= '0' && *d <= '9' && v < 100000000) v = v * 10 + (*d++ - '0');
    int id = 0;
    while (id < nid[kind] && old[kind][id] != v) id++;
    if (id == nid[kind] && nid[kind] < MAXIDS) old[kind][nid[kind]++] = v;
    char num[32];
    int m = snprintf(num, sizeof num, "%d", id + 1);
    if (buf_add(out, p, skip + len) != 0 || buf_add(out, num, (size_t)m) != 0) return -1;
    p = d;
  }
  return 0;
}

int nn_canvas_svg(nn_ctx *ctx, nn_canvas *cv, char **data, size_t *len) {
  buf doc = {.ctx = ctx}, out = {.ctx = ctx};
  *data = NULL;
  *len = 0;
  int rc = nn_canvas_check(ctx, cv);
  if (rc != 0) return rc;
  cairo_surface_t *svg = cairo_svg_surface_create_for_stream(svg_write, &doc, cv->w, cv->h);
  cairo_svg_surface_restrict_to_version(svg, CAIRO_SVG_VERSION_1_1);
  cairo_svg_surface_set_document_unit(svg, CAIRO_SVG_UNIT_PX);
  cairo_status_t st = cairo_surface_status(svg);
  rc = st == CAIRO_STATUS_SUCCESS ? replay(ctx, cv, svg) : cairo_error(ctx, st);
  cairo_surface_finish(svg);
  st = cairo_surface_status(svg);
  if (rc == 0 && st != CAIRO_STATUS_SUCCESS) rc = cairo_error(ctx, st);
  cairo_surface_destroy(svg);
  if (rc == 0) svg_renumber(&doc, &out);
  if (doc.refused || out.refused)
    rc = nn_seterr(ctx, NN_ENOMEM, "figure: %s", doc.refused ? doc.why : out.why);
  nn_mem_free(doc.p);
  if (rc != 0) {
    nn_mem_free(out.p);
    return rc;
  }
  *data = out.p;
  *len = out.n;
  return 0;
}

static int save_svg(nn_ctx *ctx, nn_canvas *cv, const char *path) {
  char *data;
  size_t len;
  int rc = nn_canvas_svg(ctx, cv, &data, &len);
  if (rc != 0) return rc;
  rc = nn_atomic_write(ctx, path, data, len);
  nn_mem_free(data);
  return rc;
}

int nn_has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  if (n < k) return 0;
  for (size_t i = 0; i < k; i++) {
    char ch = s[n - k + i];
    if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
    if (ch != suffix[i]) return 0;
  }
  return 1;
}

int nn_canvas_save(nn_ctx *ctx, nn_canvas *cv, const char *path,
                   const char *const *text_kv, int ntext) {
  int rc = nn_canvas_check(ctx, cv);
  if (rc != 0) return rc;
  if (nn_has_suffix(path, ".svg")) return save_svg(ctx, cv, path);
  uint8_t *px;
  if ((rc = render(ctx, cv, &px)) != 0) return rc;
  rc = nn_png_write(ctx, path, px, cv->h, cv->w, 3, text_kv, ntext);
  nn_mem_free(px);
  return rc;
}
