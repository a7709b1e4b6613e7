/* plot.h -- figures: line charts, image grids, heatmaps (API.md, "plot").
 *
 * Each nn_plot_* call checks its spec, lays the figure out and draws it on a
 * new canvas (canvas.h), which the caller saves and frees. Bad input (empty or
 * all-NaN series, mismatched lengths, images of mixed sizes, ...) gives NULL
 * with a message in ctx->err that names the series or image at fault.
 *
 * Sizes scale with the figure: fonts and lines are those of an 800 x 600
 * figure times min(width / 800, height / 600), kept within [0.75, 4].
 */
#ifndef NN_PLOT_H
#define NN_PLOT_H

#include "canvas.h"

#define NN_PLOT_AUTO (-1)           /* colour, dash or marker chosen by series order */
#define NN_PLOT_MINSIDE 100         /* smallest width or height of a figure */
#define NN_PLOT_MAXSIDE 8192        /* largest */

/* sizes in an 800 x 600 figure, in pixels; figures multiply them by nn_plot_scale */
#define NN_PLOT_TICK_FONT 14.0
#define NN_PLOT_LABEL_FONT 15.5
#define NN_PLOT_TITLE_FONT 18.0
#define NN_PLOT_LEGEND_FONT 14.0
#define NN_PLOT_LINE_WIDTH 2.2
#define NN_PLOT_AXIS_WIDTH 1.1
#define NN_PLOT_TICK_LEN 6.0
#define NN_PLOT_MARKER 8.0
#define NN_PLOT_PAD 14.0
#define NN_PLOT_TEXT_COLOR 0x222222u

enum nn_marker { NN_MARK_NONE, NN_MARK_CIRCLE, NN_MARK_SQUARE, NN_MARK_TRIANGLE,
                 NN_MARK_DIAMOND, NN_MARK_CROSS, NN_MARK_PLUS, NN_MARK_STAR };

enum nn_legend { NN_LEGEND_BEST, NN_LEGEND_NONE, NN_LEGEND_UPPER_RIGHT, NN_LEGEND_UPPER_LEFT,
                 NN_LEGEND_LOWER_LEFT, NN_LEGEND_LOWER_RIGHT };

#define NN_DASH_NONE 4            /* a series' dash: no line, markers only */

typedef struct nn_plot_series {
  const char *label;        /* legend text; NULL or "" leaves it out of the legend */
  const double *x;          /* n values, or NULL for 1, 2, ..., n */
  const double *y;          /* n values; NaN or infinite values leave gaps */
  int64_t n;
  int64_t color;            /* 0xRRGGBB, or NN_PLOT_AUTO */
  int dash;                 /* enum nn_dash or NN_DASH_NONE, or NN_PLOT_AUTO */
  int marker;               /* enum nn_marker, or NN_PLOT_AUTO (markers if the figure asks) */
  double marker_size;       /* diameter in pixels of an 800 x 600 figure; 0: NN_PLOT_MARKER */
  int start_marker, end_marker;  /* enum nn_marker at the first / last finite point (bigger) */
} nn_plot_series;

/* A text in data coordinates: its left end (halign 0), centre (0.5) or
 * right end (1) at (x, y), vertically centred. */
typedef struct nn_plot_text {
  double x, y;
  const char *text;
  int64_t color;            /* 0xRRGGBB, or NN_PLOT_AUTO (the text colour) */
  double size;              /* font size in pixels of an 800 x 600 figure; 0: the tick size */
  double halign;
} nn_plot_text;

/* Bars: bar k spans x[k] - width / 2 .. x[k] + width / 2 and bottom .. h[k]. */
typedef struct nn_plot_bars {
  const char *label;
  const double *x, *h;
  int64_t n;
  double width, bottom;
  int64_t color;            /* 0xRRGGBB, or NN_PLOT_AUTO (the palette) */
} nn_plot_bars;

enum nn_field_mode { NN_FIELD_LINES, NN_FIELD_FILLED, NN_FIELD_BOTH, NN_FIELD_CELLS };

/* Values on a rectilinear grid: z [ny, nx] row-major, z[i * nx + j] at
 * (x[j], y[i]); x and y strictly increasing. Drawn as contour lines, filled
 * bands between levels (both), or as cells centred on the points (a heatmap
 * with numeric axes). NaN values leave their cells blank. */
typedef struct nn_plot_field {
  const double *z, *x, *y;
  int nx, ny;
  int mode;                 /* enum nn_field_mode */
  const double *levels;     /* nlevels increasing values (not for cells) */
  int nlevels;
  int log;                  /* colour scale (and colour bar) logarithmic; values > 0 */
  double vmin, vmax;        /* cells: the colour scale's ends (NaN: the data's) */
  int64_t line_color;       /* lines: 0xRRGGBB, or NN_PLOT_AUTO (by level; dark over fills) */
  int colorbar;             /* a colour bar at the right */
  const char *colorbar_label;
} nn_plot_field;

/* One set of axes: line series (also markers only), bars, a field and texts.
 * nn_plot_lines draws it as a figure; nn_plot_subplots draws several. */
typedef struct nn_lines_spec {
  int width, height;
  const char *title, *xlabel, *ylabel;   /* NULL: none */
  const nn_plot_series *series;
  int nseries;
  int grid;                 /* light grid lines at the ticks */
  int logy;                 /* logarithmic y axis (y values must be > 0) */
  int markers;              /* a marker at every point of every series */
  int legend;               /* enum nn_legend */
  double xlim[2], ylim[2];  /* axis ranges; NaN: from the data */
  const nn_plot_bars *bars;
  int nbars;
  const nn_plot_field *field;   /* or NULL */
  const nn_plot_text *texts;
  int ntexts;
  int equal;                /* one unit is as long in x as in y (the area shrinks to fit) */
  const char *const *xticklabels;   /* nxticks names at x = 1, 2, ..., or NULL: numbers */
  int nxticks;
  int hide_xticklabels, hide_yticklabels;   /* subplots sharing an axis */
  const char *kind;         /* "scatter", "bar", ...: errors name plot.<kind> (NULL: guessed) */
} nn_lines_spec;

nn_canvas *nn_plot_lines(nn_ctx *ctx, const nn_lines_spec *spec);

/* The ranges the axes of spec show (xlim, ylim if given; else the data's,
 * padded), in data units; 0 or NN_EARG (ctx->err names what is wrong). */
int nn_plot_ranges(nn_ctx *ctx, const nn_lines_spec *spec, double *xr, double *yr);

/* An image cell of a subplot: [c, h, w] bytes as nn_canvas_image takes them */
typedef struct nn_plot_imagecell {
  const uint8_t *data;
  int c, h, w;
} nn_plot_imagecell;

/* A figure of rows x cols axes, filled row by row: cell k is axes[k], or
 * the image images[k] when axes[k].nseries, nbars and field are all empty
 * and images[k].data is set; a cell with neither stays blank. */
typedef struct nn_subplots_spec {
  int width, height;
  const char *title;
  int rows, cols;
  const nn_lines_spec *axes;        /* rows * cols */
  const nn_plot_imagecell *images;  /* rows * cols, or NULL */
  int sharex, sharey;
} nn_subplots_spec;

nn_canvas *nn_plot_subplots(nn_ctx *ctx, const nn_subplots_spec *spec);

/* Levels for a field: n "nice" values over [lo, hi] (linear), or n values
 * evenly spaced in log10 from lo to hi (lo > 0). Returns the count written to
 * levels (at most cap). */
int nn_plot_levels(double lo, double hi, int n, int log, double *levels, int cap);

/* Histogram counts of the finite values x[0..n) in nbins equal bins over
 * [lo, hi] (the last bin includes hi; values outside are not counted). */
void nn_plot_histogram(const double *x, int64_t n, double lo, double hi, int nbins,
                       double *counts);

typedef struct nn_grid_spec {
  int width, height;        /* 0: follows the grid (rows, cols, image size, labels) */
  const char *title;
  const float *images;      /* n images [c, h, w], contiguous */
  int n, c, h, w;           /* c 1 (grey) or 3 (RGB) */
  const char *const *labels;  /* n strings shown under the images, or NULL */
  int rows, cols;           /* rows * cols >= n */
  const float *mean, *std;  /* c values each, or NULL: shown is v * std + mean */
  double lo, hi;            /* values lo..hi map to black..white (clamped) */
} nn_grid_spec;

nn_canvas *nn_plot_image_grid(nn_ctx *ctx, const nn_grid_spec *spec);

typedef struct nn_heatmap_spec {
  int width, height;
  const char *title, *xlabel, *ylabel;
  const double *m;          /* rows x cols values, row-major; NaN cells are left blank */
  int rows, cols;
  const char *const *xlabels;  /* cols strings under the columns, or NULL (1, 2, ...) */
  const char *const *ylabels;  /* rows strings left of the rows, or NULL */
  int annotate;             /* write each value in its cell */
} nn_heatmap_spec;

nn_canvas *nn_plot_heatmap(nn_ctx *ctx, const nn_heatmap_spec *spec);

/* Writes the image [c, h, w] (c 1 or 3, values in [0, 1], clamped; borrowed)
 * to path as an 8-bit grey or RGB PNG (see nn_png_write for text_kv). */
int nn_plot_save_image(nn_ctx *ctx, const char *path, const float *data, int c, int h, int w,
                       const char *const *text_kv, int ntext);

/* Axis helpers, exposed for the tests. */

/* "Nice" tick values (1, 2, 2.5 or 5 times a power of ten apart) covering
 * [lo, hi]: at most maxn of them when possible, whole numbers only if
 * integer. Writes up to cap values to ticks; returns the count and the step. */
int nn_plot_ticks(double lo, double hi, int maxn, int integer, double *ticks, int cap,
                  double *step);
/* A tick label: v printed with as many decimals as step needs; on an axis
 * whose largest |value| is maxabs >= 1e6, or with step < 1e-4, in the form
 * 1.5e6 with one exponent for the whole axis. */
void nn_plot_format(char *buf, size_t len, double v, double step, double maxabs);
/* The colour of palette entry i (Okabe-Ito, colour-blind safe), and of the
 * viridis colour map at t in [0, 1]. */
uint32_t nn_plot_palette(int i);
uint32_t nn_plot_viridis(double t);
/* The size factor of a width x height figure (see the top of this file), and
 * the check of its size: 0, or NN_EARG naming what (e.g. "lines"). */
double nn_plot_scale(int width, int height);
int nn_plot_check_size(nn_ctx *ctx, const char *what, int width, int height);

#endif
