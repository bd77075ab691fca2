/* target_main.c - exit status 0 when the emulated target computes the host's golden checksum. */
#include "golden.h"

#ifndef POCKET_GOLDEN_EXPECTED
#error "build with -DPOCKET_GOLDEN_EXPECTED=<checksum printed by the host build>"
#endif

int main(void)
{
    return pocket_golden_checksum() == (uint32_t)POCKET_GOLDEN_EXPECTED ? 0 : 1;
}
