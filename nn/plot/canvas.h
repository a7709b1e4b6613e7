/* canvas.h -- the drawing surface of figures, over cairo (canvas.c is the only
 * file that includes cairo's and FreeType's headers, besides report.c, which
 * lays out the pages of nnlua --report on cairo's PDF surface).
 *
 * A canvas keeps the list of what is drawn on it and plays it onto a cairo
 * surface when rendered, so one figure can be saved as PNG or SVG, any number
 * of times. Coordinates are
 * pixels, (0, 0) the top left corner, y down. Colours are 0xRRGGBB.
 *
 * Text is DejaVu Sans, loaded from its file (NNLUA_FONT names another), with
 * grey anti-aliasing and no hinting, so the same figure gives the same pixels
 * wherever it is drawn; without the file, fontconfig's "sans-serif" is used.
 * Text must be UTF-8; invalid bytes are drawn as '?'.
 *
 * Drawing calls do not fail one by one: running out of memory sticks to the
 * canvas and nn_canvas_check (and every render) reports it.
 */
#ifndef NN_CANVAS_H
#define NN_CANVAS_H

#include "nn/ctx.h"

typedef struct nn_canvas nn_canvas;

enum nn_dash { NN_SOLID, NN_DASHED, NN_DOTTED, NN_DASHDOT };

const char *nn_canvas_version(void);   /* cairo's version string, e.g. "1.16.0" */

/* A w x h canvas painted white, or NULL (ctx->err set). What is drawn on it
 * is counted (nn/mem.h) with ctx, which must outlive the drawing calls; so
 * are the pixels cairo draws into when it is rendered, while it is. */
nn_canvas *nn_canvas_new(nn_ctx *ctx, int w, int h);
void nn_canvas_free(nn_canvas *cv);        /* NULL is fine */
size_t nn_canvas_bytes(const nn_canvas *cv);   /* memory it holds, about */
int nn_canvas_width(const nn_canvas *cv);
int nn_canvas_height(const nn_canvas *cv);
/* 0, or NN_ENOMEM / NN_EBACKEND with ctx->err set if any drawing failed. */
int nn_canvas_check(nn_ctx *ctx, nn_canvas *cv);

/* The pen: colour and opacity (0..1), line width in pixels, dash pattern
 * (scaled by the line width). */
void nn_canvas_color(nn_canvas *cv, uint32_t rgb, double alpha);
void nn_canvas_line_width(nn_canvas *cv, double w);
void nn_canvas_dash(nn_canvas *cv, enum nn_dash d);

/* Paths: built with move/line/rect/circle, then stroked or filled (which
 * clears the path). A line_to with no current point starts the path there. */
void nn_canvas_move(nn_canvas *cv, double x, double y);
void nn_canvas_line(nn_canvas *cv, double x, double y);
void nn_canvas_close(nn_canvas *cv);
void nn_canvas_rect(nn_canvas *cv, double x, double y, double w, double h);
void nn_canvas_round_rect(nn_canvas *cv, double x, double y, double w, double h, double r);
void nn_canvas_circle(nn_canvas *cv, double x, double y, double r);
void nn_canvas_stroke(nn_canvas *cv);
void nn_canvas_fill(nn_canvas *cv);

/* Drawing is limited to the rectangle until nn_canvas_unclip. */
void nn_canvas_clip(nn_canvas *cv, double x, double y, double w, double h);
void nn_canvas_unclip(nn_canvas *cv);

/* Text of the given pixel size. The anchor (x, y) is the point of the text's
 * box given by halign (0 left, 0.5 centre, 1 right) and valign (0 top of the
 * capitals, 0.5 their middle, 1 bottom of the descenders); the box is turned
 * by angle degrees counter-clockwise about the anchor. */
void nn_canvas_text(nn_canvas *cv, double x, double y, const char *s, double size,
                    double halign, double valign, double angle);
double nn_canvas_text_width(nn_canvas *cv, const char *s, double size);
/* Height of a text box of that size: capital height plus descent. */
double nn_canvas_text_height(nn_canvas *cv, double size);

/* An 8-bit image [h, w, c] (c 1 grey or 3 RGB; borrowed) drawn with its top
 * left corner at (x, y), scale times its size: a whole scale >= 1 makes each
 * pixel a square (nearest neighbour); any other is smoothed. */
int nn_canvas_image(nn_ctx *ctx, nn_canvas *cv, double x, double y, const uint8_t *data,
                    int h, int w, int c, double scale);

/* The canvas as RGB bytes [h, w, 3] (counted: release with nn_mem_free), or NULL. */
uint8_t *nn_canvas_pixels(nn_ctx *ctx, nn_canvas *cv);

/* Writes the canvas to path, atomically: SVG if the name ends in ".svg",
 * else PNG with the ntext tEXt chunks of text_kv (see nn_png_write). */
int nn_canvas_save(nn_ctx *ctx, nn_canvas *cv, const char *path,
                   const char *const *text_kv, int ntext);

/* For the report (nnlua --report, report.h): */

/* A copy of cv that lives on after cv is freed, or NULL (ctx->err set). */
nn_canvas *nn_canvas_copy(nn_ctx *ctx, const nn_canvas *cv);

/* Draws cv with the cairo context cr (a cairo_t) in cr's current user space,
 * clipped to (0, 0, w, h): vector paths and text stay vectors on a PDF or SVG
 * surface. Returns 0, or NN_ENOMEM / NN_EBACKEND with ctx->err set. */
struct _cairo;
int nn_canvas_draw(nn_ctx *ctx, nn_canvas *cv, struct _cairo *cr);

/* The SVG document that saving cv as .svg writes, in *data (counted: release
 * with nn_mem_free) of *len bytes; 0, or an NN_E* code with ctx->err set. */
int nn_canvas_svg(nn_ctx *ctx, nn_canvas *cv, char **data, size_t *len);

/* Whether file name s ends with suffix (lower case, ".svg"), in any case. */
int nn_has_suffix(const char *s, const char *suffix);

#endif
