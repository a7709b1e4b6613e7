/* png.c -- PNG files through libpng. */
#include <png.h>
#include "png.h"

const char *nn_png_version(void) { return png_get_libpng_ver(NULL); }
