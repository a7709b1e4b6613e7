/* png.h -- PNG files through libpng (png.c is the only file that includes png.h). */
#ifndef NN_PNG_H
#define NN_PNG_H

const char *nn_png_version(void);    /* libpng's version string, e.g. "1.6.39" */

#endif
