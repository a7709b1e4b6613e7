/* report.c -- the hand-in report of one run as a PDF or HTML file (report.h).
 * The second file of nn/plot that includes cairo's headers: it lays out text
 * pages on cairo's PDF surface and draws the kept canvases there
 * (nn_canvas_draw). */
#include <cairo.h>
#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "nn/io/atomic.h"
#include "report.h"
#include "nn/mem.h"

#define FONT_DIR "/usr/share/fonts/truetype/dejavu/"
#define FIXED_DATE 946684800         /* 2000-01-01 00:00:00 UTC: the date of undated reports */

typedef struct figure {
  char *name;
  nn_canvas *cv;
  int image;                  /* saved as pixels (plot.save_image) */
} figure;

struct nn_report {
  char *out;                  /* the output kept */
  size_t nout, capout;
  size_t dropped;             /* output bytes not kept */
  char *seeds[NN_REPORT_MAXSEEDS];
  int nseeds, moreseeds;
  figure *figs;
  int nfigs, capfigs;
};

nn_report *nn_report_new(nn_ctx *ctx) {
  nn_report *r = calloc(1, sizeof *r);
  if (!r) nn_seterr(ctx, NN_ENOMEM, "report: out of memory");
  return r;
}

void nn_report_free(nn_report *r) {
  if (!r) return;
  free(r->out);
  for (int k = 0; k < r->nseeds; k++) free(r->seeds[k]);
  for (int k = 0; k < r->nfigs; k++) {
    free(r->figs[k].name);
    nn_canvas_free(r->figs[k].cv);
  }
  free(r->figs);
  free(r);
}

void nn_report_output(nn_report *r, const char *s, size_t n) {
  if (r->dropped > 0 || r->nout + n > NN_REPORT_MAXOUTPUT) {
    r->dropped += n;
    return;
  }
  if (r->nout + n > r->capout) {
    size_t cap = r->capout ? r->capout : 4096;
    while (cap < r->nout + n) cap *= 2;
    char *p = realloc(r->out, cap);
    if (!p) { r->dropped += n; return; }
    r->out = p;
    r->capout = cap;
  }
  memcpy(r->out + r->nout, s, n);
  r->nout += n;
}

void nn_report_seed(nn_report *r, const char *call) {
  if (r->nseeds == NN_REPORT_MAXSEEDS || !(r->seeds[r->nseeds] = strdup(call))) {
    r->moreseeds++;
    return;
  }
  r->nseeds++;
}

static int addfig(nn_ctx *ctx, nn_report *r, const char *name, nn_canvas *cv, int image) {
  char *nm = strdup(name);
  if (!nm || !cv) goto nomem;
  if (r->nfigs == r->capfigs) {
    int cap = r->capfigs ? 2 * r->capfigs : 8;
    figure *f = realloc(r->figs, (size_t)cap * sizeof *f);
    if (!f) goto nomem;
    r->figs = f;
    r->capfigs = cap;
  }
  r->figs[r->nfigs++] = (figure){nm, cv, image};
  return 0;
nomem:
  free(nm);
  nn_canvas_free(cv);
  return nn_seterr(ctx, NN_ENOMEM, "report: out of memory");
}

int nn_report_figure(nn_ctx *ctx, nn_report *r, const char *name, const nn_canvas *cv) {
  nn_canvas *c = nn_canvas_copy(ctx, cv);
  if (!c) return NN_ENOMEM;
  return addfig(ctx, r, name, c, 0);
}

int nn_report_image(nn_ctx *ctx, nn_report *r, const char *name, const float *data, int c,
                    int h, int w) {
  if ((c != 1 && c != 3) || h < 1 || w < 1)
    return nn_seterr(ctx, NN_EARG, "report: bad image %d x %d x %d", c, h, w);
  size_t plane = (size_t)h * (size_t)w;
  uint8_t *b = nn_mem_alloc(ctx, plane * (size_t)c, "report: an image of %d x %d", w, h);
  if (!b) return NN_ENOMEM;
  for (int ch = 0; ch < c; ch++)
    for (size_t k = 0; k < plane; k++) {
      float u = data[(size_t)ch * plane + k] * 255 + 0.5f;
      b[k * (size_t)c + (size_t)ch] = (uint8_t)(u <= 0 ? 0 : u >= 255 ? 255 : u);
    }
  nn_canvas *cv = nn_canvas_new(ctx, w, h);
  int rc = cv ? nn_canvas_image(ctx, cv, 0, 0, b, h, w, c, 1) : NN_ENOMEM;
  nn_mem_free(b);
  if (rc != 0) {
    nn_canvas_free(cv);
    return rc;
  }
  return addfig(ctx, r, name, cv, 1);
}

/* ------------------------------------------------------------------ text */

/* Colours of the source's characters (Lua's tokens). */
enum { C_TEXT, C_KEYWORD, C_STRING, C_COMMENT, C_NUMBER, C_LINENO, C_ERROR, NCOLORS };
static const uint32_t palette[NCOLORS] = {
  0x1e1e1e, 0x0033b3, 0x067d17, 0x8c8c8c, 0x1750eb, 0x9a9a9a, 0xb00020
};
static const char *const css_class[NCOLORS] = {"", "k", "s", "c", "n", "ln", "e"};

static int isident(int ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (ch >= '0' && ch <= '9');
}

static int iskeyword(const char *s, size_t n) {
  static const char *const kw[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"
  };
  for (size_t k = 0; k < sizeof kw / sizeof *kw; k++)
    if (strlen(kw[k]) == n && memcmp(kw[k], s, n) == 0) return 1;
  return 0;
}

/* the level of a long bracket "[==[" at s (its '=' count), or -1 */
static int longbracket(const char *s, size_t i, size_t n) {
  if (i >= n || s[i] != '[') return -1;
  size_t j = i + 1;
  while (j < n && s[j] == '=') j++;
  return j < n && s[j] == '[' ? (int)(j - i - 1) : -1;
}

/* index just past the "]==]" of level lvl from i, or n */
static size_t longclose(const char *s, size_t i, size_t n, int lvl) {
  for (; i < n; i++) {
    if (s[i] != ']') continue;
    size_t j = i + 1;
    while (j < n && s[j] == '=') j++;
    if (j < n && s[j] == ']' && (int)(j - i - 1) == lvl) return j + 1;
  }
  return n;
}

/* col[k]: the colour of byte k of the Lua source s */
static void lex(const char *s, size_t n, uint8_t *col) {
  size_t i = 0;
  memset(col, C_TEXT, n);
  if (n >= 1 && s[0] == '#')                  /* a first line "#!..." is skipped by Lua */
    while (i < n && s[i] != '\n') col[i++] = C_COMMENT;
  while (i < n) {
    size_t st = i;
    int ch = (unsigned char)s[i], c = C_TEXT, lvl;
    if (ch == '-' && i + 1 < n && s[i + 1] == '-') {
      c = C_COMMENT;
      if ((lvl = longbracket(s, i + 2, n)) >= 0) i = longclose(s, i + 2, n, lvl);
      else while (i < n && s[i] != '\n') i++;
    } else if ((lvl = longbracket(s, i, n)) >= 0) {
      c = C_STRING;
      i = longclose(s, i, n, lvl);
    } else if (ch == '"' || ch == '\'') {
      c = C_STRING;
      for (i++; i < n && s[i] != ch && s[i] != '\n'; i++)
        if (s[i] == '\\' && i + 1 < n) i++;
      if (i < n && s[i] == ch) i++;
    } else if ((ch >= '0' && ch <= '9') || (ch == '.' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')) {
      c = C_NUMBER;
      while (i < n && (isident((unsigned char)s[i]) || s[i] == '.' ||
                       ((s[i] == '+' || s[i] == '-') && strchr("eEpP", s[i - 1]))))
        i++;
    } else if (isident(ch)) {
      while (i < n && isident((unsigned char)s[i])) i++;
      if (iskeyword(s + st, i - st)) c = C_KEYWORD;
    } else {
      i++;
    }
    if (c != C_TEXT) memset(col + st, c, i - st);
  }
}

/* One display line: UTF-8 text (valid, no control characters, tabs expanded)
 * with a colour per byte and its width in characters. */
typedef struct dline {
  char *s;
  uint8_t *col;
  size_t n, width;
  int lineno;                 /* source line number, 0 for none */
} dline;

typedef struct lines {
  dline *v;
  size_t n, cap;
  int err;
} lines;

/* the length of the valid UTF-8 sequence at s (n bytes left), or 0 */
static size_t utf8len(const unsigned char *s, size_t n) {
  size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
             : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || len > n) return 0;
  for (size_t k = 1; k < len; k++)
    if ((s[k] & 0xc0) != 0x80) return 0;
  if (len == 2 && s[0] < 0xc2) return 0;                        /* overlong */
  if (len == 3 && s[0] == 0xe0 && s[1] < 0xa0) return 0;
  if (len == 3 && s[0] == 0xed && s[1] >= 0xa0) return 0;       /* surrogates */
  if (len == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || s[0] > 0xf4 || (s[0] == 0xf4 && s[1] >= 0x90)))
    return 0;
  return len;
}

/* Splits text (colours col, or NULL for all colour c0) into display lines:
 * tabs to the next multiple of tab, invalid bytes as '?', "\r" starting the
 * line over (as a terminal does), other control characters and ANSI escape
 * sequences dropped. Line numbers from 1 when numbered. */
static void split(lines *L, const char *text, size_t n, const uint8_t *col, int c0, int tab,
                  int numbered) {
  size_t i = 0;
  int lineno = 1;
  if (n == 0) return;
  while (i < n) {
    size_t cap = 64, len = 0, width = 0;
    char *s = malloc(cap);
    uint8_t *cl = malloc(cap);
    if (!s || !cl) { free(s); free(cl); L->err = 1; return; }
    while (i < n && text[i] != '\n') {
      const unsigned char *p = (const unsigned char *)text + i;
      int c = col ? col[i] : c0;
      char piece[8];
      size_t plen = 0, adv = 1, reps = 1;
      if (*p == '\t') {
        piece[0] = ' ';
        plen = 1;
        reps = (size_t)tab - width % (size_t)tab;
      } else if (*p == '\r') {
        len = width = 0;
        i++;
        continue;
      } else if (*p == 0x1b) {                        /* ESC [ ... final byte */
        i++;
        if (i < n && text[i] == '[') {
          i++;
          while (i < n && ((unsigned char)text[i] < 0x40 || (unsigned char)text[i] > 0x7e)) i++;
          if (i < n) i++;
        }
        continue;
      } else if (*p < 0x20 || *p == 0x7f) {
        i++;
        continue;
      } else if ((plen = utf8len(p, n - i)) > 0) {
        memcpy(piece, p, plen);
        adv = plen;
      } else {
        piece[0] = '?';
        plen = 1;
      }
      i += adv;
      if (len + plen * reps + 1 > cap) {
        while (len + plen * reps + 1 > cap) cap *= 2;
        char *s2 = realloc(s, cap);
        if (s2) s = s2;
        uint8_t *c2 = realloc(cl, cap);
        if (c2) cl = c2;
        if (!s2 || !c2) { free(s); free(cl); L->err = 1; return; }
      }
      for (size_t r = 0; r < reps; r++) {
        memcpy(s + len, piece, plen);
        memset(cl + len, c, plen);
        len += plen;
        width++;
      }
    }
    s[len] = '\0';
    if (L->n == L->cap) {
      size_t c2 = L->cap ? 2 * L->cap : 256;
      dline *v = realloc(L->v, c2 * sizeof *v);
      if (!v) { free(s); free(cl); L->err = 1; return; }
      L->v = v;
      L->cap = c2;
    }
    L->v[L->n++] = (dline){s, cl, len, width, numbered ? lineno : 0};
    lineno++;
    if (i < n) i++;                                  /* the '\n' */
  }
}

static void lines_free(lines *L) {
  for (size_t k = 0; k < L->n; k++) {
    free(L->v[k].s);
    free(L->v[k].col);
  }
  free(L->v);
}

/* The report's text parts, split into display lines. */
typedef struct parts {
  lines src, out, err, seeds;
  char dropped[96];           /* a note on output not kept, or "" */
} parts;

static int make_parts(nn_ctx *ctx, nn_report *r, const nn_report_doc *doc, parts *P) {
  memset(P, 0, sizeof *P);
  uint8_t *col = malloc(doc->source_len ? doc->source_len : 1);
  if (!col) return nn_seterr(ctx, NN_ENOMEM, "report: out of memory");
  lex(doc->source, doc->source_len, col);
  split(&P->src, doc->source, doc->source_len, col, C_TEXT, 4, 1);
  free(col);
  split(&P->out, r->out, r->nout, NULL, C_TEXT, 8, 0);
  if (doc->error) split(&P->err, doc->error, strlen(doc->error), NULL, C_ERROR, 8, 0);
  for (int k = 0; k < r->nseeds; k++) split(&P->seeds, r->seeds[k], strlen(r->seeds[k]), NULL, C_TEXT, 8, 0);
  if (r->dropped > 0)
    snprintf(P->dropped, sizeof P->dropped, "[... %zu more bytes of output not kept]", r->dropped);
  if (P->src.err || P->out.err || P->err.err || P->seeds.err)
    return nn_seterr(ctx, NN_ENOMEM, "report: out of memory");
  return 0;
}

static void parts_free(parts *P) {
  lines_free(&P->src);
  lines_free(&P->out);
  lines_free(&P->err);
  lines_free(&P->seeds);
}

/* "2026-12-06 09:30 UTC" */
static void format_date(char *buf, size_t len, int64_t when) {
  time_t t = (time_t)when;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

/* the text of the status line of the title block */
static const char *status_text(const nn_report_doc *doc) {
  return doc->error ? "failed (the error and traceback are under Error)" : "finished";
}

/* ------------------------------------------------------------------- PDF */

#define PAGE_W 595.276              /* A4 in points */
#define PAGE_H 841.890
#define MARGIN 48.0
#define CODE_SIZE 8.0
#define CODE_LEAD 10.0
#define GUTTER 5                    /* characters for line numbers and a space */

static cairo_font_face_t *faces[3];   /* sans, sans bold, mono: shared, never freed */
static pthread_once_t faces_once = PTHREAD_ONCE_INIT;

static void faces_load(void) {
  static const char *const files[3] = {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"};
  static const char *const toy[3] = {"sans-serif", "sans-serif", "monospace"};
  FT_Library lib = NULL;
  if (FT_Init_FreeType(&lib) != 0) lib = NULL;
  for (int k = 0; k < 3; k++) {
    char path[256];
    snprintf(path, sizeof path, "%s%s", FONT_DIR, files[k]);
    FT_Face face;
    if (lib && FT_New_Face(lib, path, 0, &face) == 0) {
      faces[k] = cairo_ft_font_face_create_for_ft_face(face, 0);
      if (cairo_font_face_status(faces[k]) == CAIRO_STATUS_SUCCESS) continue;
      cairo_font_face_destroy(faces[k]);
      FT_Done_Face(face);
    }
    faces[k] = cairo_toy_font_face_create(toy[k], CAIRO_FONT_SLANT_NORMAL,
                                          k == 1 ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  }
}

enum { F_SANS, F_BOLD, F_MONO };

typedef struct pager {
  cairo_t *cr;
  cairo_surface_t *surf;      /* the PDF surface: outline entries go to it */
  const nn_report_doc *doc;
  double y;                   /* baseline of the next line */
  int page;                   /* pages begun */
  double adv;                 /* width of a mono character */
} pager;

static void font(pager *p, int f, double size, uint32_t rgb) {
  cairo_set_font_face(p->cr, faces[f]);
  cairo_set_font_size(p->cr, size);
  cairo_set_source_rgb(p->cr, ((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0,
                       (rgb & 255) / 255.0);
}

static void text_at(pager *p, double x, double y, const char *s) {
  cairo_move_to(p->cr, x, y);
  cairo_show_text(p->cr, s);
}

static void newpage(pager *p) {
  if (p->page > 0) cairo_show_page(p->cr);
  p->page++;
  p->y = MARGIN + 10;
  char foot[64];
  snprintf(foot, sizeof foot, "page %d", p->page);
  font(p, F_SANS, 8, palette[C_LINENO]);
  cairo_text_extents_t te;
  cairo_text_extents(p->cr, foot, &te);
  text_at(p, PAGE_W - MARGIN - te.x_advance, PAGE_H - MARGIN / 2, foot);
  font(p, F_SANS, 8, palette[C_LINENO]);
  text_at(p, MARGIN, PAGE_H - MARGIN / 2, p->doc->script);
}

static void need(pager *p, double h) {
  if (p->page == 0 || p->y + h > PAGE_H - MARGIN) newpage(p);
}

/* an entry of the PDF's outline (the viewer's bookmarks) at the current place */
static void outline(pager *p, const char *name) {
  char dest[96];
  snprintf(dest, sizeof dest, "page=%d pos=[%.1f %.1f]", p->page, MARGIN, p->y - 20 > 0 ? p->y - 20 : 0);
  cairo_pdf_surface_add_outline(p->surf, CAIRO_PDF_OUTLINE_ROOT, name, dest, 0);
}

static void heading(pager *p, const char *s, double size) {
  need(p, size * 3);
  outline(p, s);
  p->y += size * 0.6;
  font(p, F_BOLD, size, palette[C_TEXT]);
  text_at(p, MARGIN, p->y, s);
  p->y += size * 1.1;
}

/* Draws display lines in mono, wrapped at the text width; numbered lines get
 * their number in the gutter, wrapped parts an empty gutter. */
static void code(pager *p, const lines *L, int gutter) {
  int cols = (int)((PAGE_W - 2 * MARGIN) / p->adv) - (gutter ? GUTTER : 0);
  double x0 = MARGIN + (gutter ? GUTTER * p->adv : 0);
  if (cols < 10) cols = 10;
  for (size_t k = 0; k < L->n; k++) {
    const dline *d = &L->v[k];
    size_t i = 0, part = 0;
    do {
      need(p, CODE_LEAD);
      if (gutter && part == 0 && d->lineno > 0) {
        char num[16];
        snprintf(num, sizeof num, "%*d", GUTTER - 1, d->lineno);
        font(p, F_MONO, CODE_SIZE, palette[C_LINENO]);
        text_at(p, MARGIN, p->y, num);
      }
      /* up to cols characters from byte i, drawn in runs of one colour */
      int col = 0;
      while (i < d->n && col < cols) {
        size_t st = i;
        int c = d->col[i], w = 0;
        while (i < d->n && d->col[i] == c && col + w < cols) {
          i += utf8len((const unsigned char *)d->s + i, d->n - i);
          w++;
        }
        char *run = strndup(d->s + st, i - st);
        if (run) {
          font(p, F_MONO, CODE_SIZE, palette[c]);
          text_at(p, x0 + col * p->adv, p->y, run);
          free(run);
        }
        col += w;
      }
      p->y += CODE_LEAD;
      part++;
    } while (i < d->n);
  }
}

static void note(pager *p, const char *s) {
  need(p, CODE_LEAD + 2);
  font(p, F_SANS, 9, palette[C_LINENO]);
  text_at(p, MARGIN, p->y, s);
  p->y += CODE_LEAD + 2;
}

static void title_block(pager *p, const nn_report_doc *doc, const parts *P, nn_report *r) {
  need(p, 40);
  p->y += 6;
  font(p, F_BOLD, 18, palette[C_TEXT]);
  text_at(p, MARGIN, p->y, doc->script);
  p->y += 22;
  char date[64] = "";
  if (doc->date >= 0) format_date(date, sizeof date, doc->date);
  const char *keys[64], *vals[64];
  int n = 0;
  for (int k = 0; k < doc->ninfo && n < 60; k++) {
    keys[n] = doc->info[2 * k];
    vals[n++] = doc->info[2 * k + 1];
  }
  if (*date) { keys[n] = "date"; vals[n++] = date; }
  keys[n] = "run";
  vals[n++] = status_text(doc);
  char figs[32];
  snprintf(figs, sizeof figs, "%d", r->nfigs);
  keys[n] = "figures";
  vals[n++] = figs;
  for (int k = 0; k < n; k++) {
    need(p, 13);
    font(p, F_BOLD, 9.5, palette[C_TEXT]);
    text_at(p, MARGIN, p->y, keys[k]);
    font(p, F_SANS, 9.5, palette[C_TEXT]);
    text_at(p, MARGIN + 70, p->y, vals[k]);
    p->y += 13;
  }
  need(p, 13);
  font(p, F_BOLD, 9.5, palette[C_TEXT]);
  text_at(p, MARGIN, p->y, "seeds");
  if (P->seeds.n == 0) {
    font(p, F_SANS, 9.5, palette[C_TEXT]);
    text_at(p, MARGIN + 70, p->y, "none set (tensor.manual_seed, tensor.Generator)");
    p->y += 13;
  }
  for (size_t k = 0; k < P->seeds.n; k++) {
    need(p, 13);
    font(p, F_MONO, 9, palette[C_TEXT]);
    text_at(p, MARGIN + 70, p->y, P->seeds.v[k].s);
    p->y += 13;
  }
  if (r->moreseeds > 0) {
    char more[64];
    snprintf(more, sizeof more, "... and %d more", r->moreseeds);
    font(p, F_SANS, 9.5, palette[C_TEXT]);
    need(p, 13);
    text_at(p, MARGIN + 70, p->y, more);
    p->y += 13;
  }
  p->y += 6;
}

/* the figure on a page of its own, under "Figure k: name", as large as fits */
static int figure_page(nn_ctx *ctx, pager *p, const figure *f, int k) {
  newpage(p);
  char head[64];
  snprintf(head, sizeof head, "Figure %d: ", k + 1);
  font(p, F_BOLD, 12, palette[C_TEXT]);
  text_at(p, MARGIN, p->y + 4, head);
  cairo_text_extents_t te;
  cairo_text_extents(p->cr, head, &te);
  font(p, F_MONO, 11, palette[C_TEXT]);
  text_at(p, MARGIN + te.x_advance, p->y + 4, f->name);
  char entry[300];
  snprintf(entry, sizeof entry, "%s%s", head, f->name);
  outline(p, entry);
  p->y += 20;
  double w = nn_canvas_width(f->cv), h = nn_canvas_height(f->cv);
  double aw = PAGE_W - 2 * MARGIN, ah = PAGE_H - MARGIN - p->y;
  double s = aw / w < ah / h ? aw / w : ah / h;
  cairo_save(p->cr);
  cairo_translate(p->cr, MARGIN + (aw - w * s) / 2, p->y);
  cairo_scale(p->cr, s, s);
  int rc = nn_canvas_draw(ctx, f->cv, p->cr);
  cairo_restore(p->cr);
  if (rc == 0 && f->image) {                  /* a thin frame: the image's white edges */
    cairo_set_source_rgb(p->cr, 0.8, 0.8, 0.8);
    cairo_set_line_width(p->cr, 0.5);
    cairo_rectangle(p->cr, MARGIN + (aw - w * s) / 2, p->y, w * s, h * s);
    cairo_stroke(p->cr);
  }
  return rc;
}

typedef struct membuf { char *p; size_t n, cap; int err; } membuf;

static void mb_add(membuf *b, const void *data, size_t n) {
  if (b->err) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->n + n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->err = 1; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}

static void mb_str(membuf *b, const char *s) { mb_add(b, s, strlen(s)); }

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int n) {
  membuf *b = closure;
  mb_add(b, data, n);
  return b->err ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

/* "D:20261206093000Z"? cairo 1.16 wants ISO 8601: "2026-12-06T09:30:00Z" */
static void iso_date(char *buf, size_t len, int64_t when) {
  time_t t = (time_t)when;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int render_pdf(nn_ctx *ctx, nn_report *r, const nn_report_doc *doc, const parts *P,
                      membuf *out) {
  pthread_once(&faces_once, faces_load);
  cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(pdf_write, out, PAGE_W, PAGE_H);
  char date[32], title[300];
  iso_date(date, sizeof date, doc->date >= 0 ? doc->date : FIXED_DATE);
  snprintf(title, sizeof title, "nnlua report: %s", doc->script);
  cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATE_DATE, date);
  cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_MOD_DATE, date);
  cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, doc->creator);
  cairo_t *cr = cairo_create(surf);
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr, fo);
  cairo_font_options_destroy(fo);
  pager p = {cr, surf, doc, 0, 0, 0};
  font(&p, F_MONO, CODE_SIZE, 0);
  cairo_text_extents_t te;
  cairo_text_extents(cr, "M", &te);
  p.adv = te.x_advance > 0 ? te.x_advance : CODE_SIZE * 0.6;
  int rc = 0;

  title_block(&p, doc, P, r);
  heading(&p, "Source", 13);
  code(&p, &P->src, 1);
  heading(&p, "Output", 13);
  if (P->out.n == 0) note(&p, "(the script printed nothing)");
  code(&p, &P->out, 0);
  if (*P->dropped) note(&p, P->dropped);
  if (doc->error) {
    heading(&p, "Error", 13);
    code(&p, &P->err, 0);
  }
  for (int k = 0; rc == 0 && k < r->nfigs; k++) rc = figure_page(ctx, &p, &r->figs[k], k);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surf);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(surf);
  cairo_surface_destroy(surf);
  if (rc != 0) return rc;
  if (out->err || st == CAIRO_STATUS_NO_MEMORY) return nn_seterr(ctx, NN_ENOMEM, "report: out of memory");
  if (st != CAIRO_STATUS_SUCCESS)
    return nn_seterr(ctx, NN_EBACKEND, "report: cairo: %s", cairo_status_to_string(st));
  return 0;
}

/* ------------------------------------------------------------------ HTML */

static void html_esc(membuf *b, const char *s, size_t n) {
  size_t st = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
                    : s[i] == '"' ? "&quot;" : NULL;
    if (!rep) continue;
    mb_add(b, s + st, i - st);
    mb_str(b, rep);
    st = i + 1;
  }
  mb_add(b, s + st, n - st);
}

static void html_str(membuf *b, const char *s) { html_esc(b, s, strlen(s)); }

/* display lines as <pre> content: coloured runs in spans, numbers in the gutter */
static void html_lines(membuf *b, const lines *L, int gutter) {
  for (size_t k = 0; k < L->n; k++) {
    const dline *d = &L->v[k];
    if (gutter) {
      char num[48];
      snprintf(num, sizeof num, "<span class=\"ln\">%*d </span>", GUTTER - 1, d->lineno);
      mb_str(b, num);
    }
    size_t i = 0;
    while (i < d->n) {
      size_t st = i;
      int c = d->col[i];
      while (i < d->n && d->col[i] == c) i++;
      if (c != C_TEXT) {
        mb_str(b, "<span class=\"");
        mb_str(b, css_class[c]);
        mb_str(b, "\">");
      }
      html_esc(b, d->s + st, i - st);
      if (c != C_TEXT) mb_str(b, "</span>");
    }
    mb_str(b, "\n");
  }
}

static void base64(membuf *b, const unsigned char *s, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char q[4];
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                 (i + 2 < n ? s[i + 2] : 0);
    q[0] = tab[v >> 18 & 63];
    q[1] = tab[v >> 12 & 63];
    q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
    q[3] = i + 2 < n ? tab[v & 63] : '=';
    mb_add(b, q, 4);
  }
}

/* the first needle in s[0..n) (not NUL-terminated), or NULL */
static const char *find(const char *s, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(s + i, needle, k) == 0) return s + i;
  return NULL;
}

static int render_html(nn_ctx *ctx, nn_report *r, const nn_report_doc *doc, const parts *P,
                       membuf *b) {
  char buf[512];
  mb_str(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>nnlua report: ");
  html_str(b, doc->script);
  mb_str(b, "</title>\n<meta name=\"generator\" content=\"");
  html_str(b, doc->creator);
  mb_str(b, "\">\n<style>\n"
         "body { font-family: 'DejaVu Sans', sans-serif; max-width: 60em; margin: 2em auto; color: #1e1e1e; }\n"
         "pre { font-family: 'DejaVu Sans Mono', monospace; font-size: 0.85em; white-space: pre-wrap;"
         " overflow-wrap: anywhere; background: #f7f7f7; padding: 0.6em; }\n"
         "table.info th { text-align: left; padding-right: 1.5em; vertical-align: top; }\n"
         "figure { margin: 1.5em 0; page-break-inside: avoid; }\n"
         "figure img { max-width: 100%; border: 1px solid #ddd; }\n"
         "figure img.pixels { image-rendering: pixelated; }\n"
         "figcaption { font-weight: bold; margin-bottom: 0.4em; }\n"
         "figcaption code { font-weight: normal; }\n");
  for (int c = 1; c < NCOLORS; c++) {
    snprintf(buf, sizeof buf, ".%s { color: #%06x; }\n", css_class[c], (unsigned)palette[c]);
    mb_str(b, buf);
  }
  mb_str(b, "</style>\n</head>\n<body>\n<h1>");
  html_str(b, doc->script);
  mb_str(b, "</h1>\n<table class=\"info\">\n");
  for (int k = 0; k < doc->ninfo; k++) {
    mb_str(b, "<tr><th>");
    html_str(b, doc->info[2 * k]);
    mb_str(b, "</th><td>");
    html_str(b, doc->info[2 * k + 1]);
    mb_str(b, "</td></tr>\n");
  }
  if (doc->date >= 0) {
    format_date(buf, sizeof buf, doc->date);
    mb_str(b, "<tr><th>date</th><td>");
    mb_str(b, buf);
    mb_str(b, "</td></tr>\n");
  }
  mb_str(b, "<tr><th>run</th><td>");
  mb_str(b, status_text(doc));
  snprintf(buf, sizeof buf, "</td></tr>\n<tr><th>figures</th><td>%d</td></tr>\n<tr><th>seeds</th><td>",
           r->nfigs);
  mb_str(b, buf);
  if (P->seeds.n == 0) mb_str(b, "none set (tensor.manual_seed, tensor.Generator)");
  for (size_t k = 0; k < P->seeds.n; k++) {
    mb_str(b, k ? "<br><code>" : "<code>");
    html_esc(b, P->seeds.v[k].s, P->seeds.v[k].n);
    mb_str(b, "</code>");
  }
  if (r->moreseeds > 0) {
    snprintf(buf, sizeof buf, "<br>... and %d more", r->moreseeds);
    mb_str(b, buf);
  }
  mb_str(b, "</td></tr>\n</table>\n<h2>Source</h2>\n<pre class=\"source\">");
  html_lines(b, &P->src, 1);
  mb_str(b, "</pre>\n<h2>Output</h2>\n<pre class=\"output\">");
  if (P->out.n == 0) mb_str(b, "<span class=\"ln\">(the script printed nothing)</span>\n");
  html_lines(b, &P->out, 0);
  if (*P->dropped) {
    mb_str(b, "<span class=\"ln\">");
    mb_str(b, P->dropped);
    mb_str(b, "</span>\n");
  }
  mb_str(b, "</pre>\n");
  if (doc->error) {
    mb_str(b, "<h2>Error</h2>\n<pre class=\"error\">");
    html_lines(b, &P->err, 0);
    mb_str(b, "</pre>\n");
  }
  if (r->nfigs > 0) mb_str(b, "<h2>Figures</h2>\n");
  for (int k = 0; k < r->nfigs; k++) {
    char *svg;
    size_t len;
    int rc = nn_canvas_svg(ctx, r->figs[k].cv, &svg, &len);
    if (rc != 0) return rc;
    snprintf(buf, sizeof buf, "<figure>\n<figcaption>Figure %d: <code>", k + 1);
    mb_str(b, buf);
    html_str(b, r->figs[k].name);
    mb_str(b, "</code></figcaption>\n<img");
    int w = nn_canvas_width(r->figs[k].cv), h = nn_canvas_height(r->figs[k].cv), zoom = 1;
    if (r->figs[k].image) {                 /* pixels: shown as sharp squares, at least 320 wide */
      mb_str(b, " class=\"pixels\"");
      zoom = 320 / (w > h ? w : h);
      if (zoom < 1) zoom = 1;
    }
    snprintf(buf, sizeof buf, " width=\"%d\" height=\"%d\" alt=\"", w * zoom, h * zoom);
    mb_str(b, buf);
    html_str(b, r->figs[k].name);
    mb_str(b, "\" src=\"data:image/svg+xml;base64,");
    const char *img = r->figs[k].image ? find(svg, len, "<image ") : NULL;
    if (img) {                              /* the SVG's own image, not smoothed either */
      static const char sharp[] = "<image image-rendering=\"optimizeSpeed\" "
                                  "style=\"image-rendering:pixelated\" ";
      membuf t = {0};
      mb_add(&t, svg, (size_t)(img - svg));
      mb_str(&t, sharp);
      mb_add(&t, img + 7, len - (size_t)(img + 7 - svg));
      if (t.err) b->err = 1;
      else base64(b, (const unsigned char *)t.p, t.n);
      free(t.p);
    } else {
      base64(b, (const unsigned char *)svg, len);
    }
    nn_mem_free(svg);
    mb_str(b, "\">\n</figure>\n");
  }
  mb_str(b, "</body>\n</html>\n");
  return b->err ? nn_seterr(ctx, NN_ENOMEM, "report: out of memory") : 0;
}

/* ----------------------------------------------------------------- write */

int nn_report_write(nn_ctx *ctx, nn_report *r, const nn_report_doc *doc, const char *path) {
  parts P;
  membuf out = {0};
  int rc = make_parts(ctx, r, doc, &P);
  if (rc == 0)
    rc = nn_has_suffix(path, ".html") || nn_has_suffix(path, ".htm") ? render_html(ctx, r, doc, &P, &out)
                                                            : render_pdf(ctx, r, doc, &P, &out);
  parts_free(&P);
  if (rc != 0) {
    free(out.p);
    return rc;
  }
  rc = nn_atomic_write(ctx, path, out.p, out.n);
  free(out.p);
  return rc;
}
