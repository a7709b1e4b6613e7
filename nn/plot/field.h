/* field.h -- values on a grid drawn in a plot's axes: contour lines by
 * marching squares, filled bands between levels, and cells (field.c). Used
 * by plot.c only; the public types are in plot.h. */
#ifndef NN_PLOT_FIELD_H
#define NN_PLOT_FIELD_H

#include "plot.h"

/* data to pixels: px = xa + xb * x, py = ya + yb * y */
typedef struct nn_field_map { double xa, xb, ya, yb; } nn_field_map;

/* 0, or NN_EARG naming what is wrong with f (sizes, order of x, y, levels). */
int nn_field_check(nn_ctx *ctx, const nn_plot_field *f);
/* The range of f's finite values (positive ones when f->log); 0 if none. */
int nn_field_range(const nn_plot_field *f, double *lo, double *hi);
/* The colour of band k (filled: between levels k and k + 1), of level k
 * (lines), or of value v (cells; k ignored). */
uint32_t nn_field_band_color(const nn_plot_field *f, int k);
uint32_t nn_field_level_color(const nn_plot_field *f, int k);
uint32_t nn_field_value_color(const nn_plot_field *f, double v, double lo, double hi);
/* Draws f (clipped by the caller) with lines s pixels per unit of size;
 * 0 or NN_ENOMEM. */
int nn_field_draw(nn_ctx *ctx, nn_canvas *cv, const nn_plot_field *f, nn_field_map m, double s);

#endif
