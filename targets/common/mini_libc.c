/* mini_libc.c - memcpy/memset for the libc-free target builds (GCC may emit calls to them).
 * Compiled with -fno-tree-loop-distribute-patterns so these loops do not become calls to
 * themselves. */
#include <stddef.h>

void *memcpy(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);

void *memcpy(void *destination, const void *source, size_t count)
{
    unsigned char *to = (unsigned char *)destination;
    const unsigned char *from = (const unsigned char *)source;
    while (count-- > 0) *to++ = *from++;
    return destination;
}

void *memset(void *destination, int value, size_t count)
{
    unsigned char *to = (unsigned char *)destination;
    while (count-- > 0) *to++ = (unsigned char)value;
    return destination;
}
