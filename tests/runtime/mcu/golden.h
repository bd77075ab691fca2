/* golden.h - a checksum over every runtime kernel on deterministic data (see golden.c). */
#ifndef POCKET_GOLDEN_H
#define POCKET_GOLDEN_H

#include <stdint.h>

/* FNV-1a over the outputs and statuses of every kernel run; 0 never occurs for a valid run
 * because a failed kernel call returns 0 immediately. */
uint32_t pocket_golden_checksum(void);

#endif
