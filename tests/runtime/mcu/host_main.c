/* host_main.c - prints the golden checksum (the reference for the emulated targets). */
#include <stdio.h>

#include "golden.h"

int main(void)
{
    const uint32_t checksum = pocket_golden_checksum();
    printf("0x%08lX\n", (unsigned long)checksum);
    return checksum == 0 ? 1 : 0;
}
