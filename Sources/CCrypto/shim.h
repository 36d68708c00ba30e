#include <nettle/sha2.h>
#include <nettle/sha1.h>
