/* report.h -- the hand-in report of one run (nnlua --report, docs/report.md):
 * a PDF (cairo's PDF surface) or one self-contained HTML file holding a title
 * block, the script's source (line numbers, Lua syntax colouring, long lines
 * wrapped), everything it printed (monospace, tabs at every 8 columns as on a
 * terminal), the error and traceback if it failed, and every figure it saved,
 * in the order saved, each under its file name.
 *
 * The run fills an nn_report as it goes (output, seeds, figures); the host
 * writes it once at the end. Figures are kept as copies of their canvases
 * (the drawing, not its pixels), so on the PDF page they are vectors, sharp at
 * any zoom; images saved as pixels (plot.save_image) become a canvas holding
 * that image at its pixel size, drawn nearest-neighbour. In the HTML file each
 * figure is an <img> whose source is the figure's SVG as a base64 data URI.
 *
 * The same report gives the same bytes: the PDF's creation date is fixed
 * (2000-01-01) unless a date is given, and then it is that date.
 */
#ifndef NN_REPORT_H
#define NN_REPORT_H

#include <stdint.h>
#include "canvas.h"

#define NN_REPORT_MAXOUTPUT (1u << 20)   /* bytes of printed output kept (some 200 pages) */
#define NN_REPORT_MAXSEEDS 64            /* seed calls listed; the rest are counted */

typedef struct nn_report nn_report;

nn_report *nn_report_new(nn_ctx *ctx);
void nn_report_free(nn_report *r);          /* NULL is fine */

/* What the script wrote to stdout, in pieces as written. Never fails: past
 * NN_REPORT_MAXOUTPUT bytes (or when memory runs out) the bytes are counted. */
void nn_report_output(nn_report *r, const char *s, size_t n);

/* A seed the script set, as the call that set it ("tensor.manual_seed(42)"). */
void nn_report_seed(nn_report *r, const char *call);

/* A figure saved to name: a copy of cv is kept. 0 or NN_ENOMEM. */
int nn_report_figure(nn_ctx *ctx, nn_report *r, const char *name, const nn_canvas *cv);

/* An image [c, h, w] (c 1 or 3, values in [0, 1], clamped, as nn_plot_save_image
 * rounds them) saved to name. 0, NN_EARG or NN_ENOMEM. */
int nn_report_image(nn_ctx *ctx, nn_report *r, const char *name, const float *data, int c,
                    int h, int w);

/* What the host knows about the run. */
typedef struct nn_report_doc {
  const char *script;          /* the script's name as given */
  const char *source;          /* its text, source_len bytes */
  size_t source_len;
  const char *const *info;     /* ninfo pairs (key, value) for the title block */
  int ninfo;
  const char *error;           /* the error and traceback, or NULL when it succeeded */
  int64_t date;                /* seconds since 1970 (UTC) shown and set as creation date; < 0: none */
  const char *creator;         /* "nnlua 0.1.0": the PDF's Creator */
} nn_report_doc;

/* Writes the report to path (atomically, nn/io/atomic.c): HTML if the name
 * ends in ".html" or ".htm", else PDF. 0 or an NN_E* code with ctx->err set. */
int nn_report_write(nn_ctx *ctx, nn_report *r, const nn_report_doc *doc, const char *path);

#endif
