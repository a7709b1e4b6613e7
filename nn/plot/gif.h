/* gif.h -- animated GIFs of figures, through giflib (gif.c is the only file
 * that includes gif_lib.h).
 *
 * Colours: a GIF frame has at most 256. When all the frames together use
 * 256 colours or fewer, the file holds them exactly. Otherwise one palette
 * for the whole animation is made by median cut over the frames' colours
 * (5 bits per channel, each palette entry the mean of its pixels), and every
 * pixel takes the entry nearest its 5-bit bin's mean; no dithering, so flat
 * areas stay flat and the same frames give the same bytes.
 */
#ifndef NN_PLOT_GIF_H
#define NN_PLOT_GIF_H

#include "canvas.h"

#define NN_GIF_MAXFRAMES 10000

/* Writes the n canvases (all of one size) as an animated GIF at path,
 * atomically: each frame shown delay_cs hundredths of a second (the last
 * one last_cs), repeated loop times (0: forever; -1: played once). */
int nn_gif_write(nn_ctx *ctx, const char *path, nn_canvas *const *frames, int n, int delay_cs,
                 int last_cs, int loop);

/* A GIF read back: n frames of h x w RGB bytes, composed as a viewer shows them. */
typedef struct nn_gif {
  int w, h, n;
  uint8_t *rgb;             /* n * h * w * 3 bytes (counted: nn/mem.h) */
  int *delay_cs;            /* n delays */
  int loop;                 /* 0 forever, k times, -1 no loop extension */
} nn_gif;

/* Reads the GIF at path into g (free with nn_gif_free); 0, NN_EIO or NN_ENOMEM. */
int nn_gif_read(nn_ctx *ctx, const char *path, nn_gif *g);
void nn_gif_free(nn_gif *g);

#endif
