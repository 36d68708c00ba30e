#include "CSystemShims.h"

#include <malloc.h>

int berth_malloc_trim(void) { return malloc_trim(0); }
