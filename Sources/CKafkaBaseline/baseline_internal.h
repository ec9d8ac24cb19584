#ifndef CKAFKA_BASELINE_INTERNAL_H
#define CKAFKA_BASELINE_INTERNAL_H
// Shared between the baseline's C files; not part of the module's interface.
#include <librdkafka/rdkafka.h>

/* The offset of each partition's last seek (one input topic; -1: none), as the worker's consumer keeps it. */
typedef struct {
    int64_t *offsets;
    int count;
} baseline_sought;

/* Forgets every seek (on assign and revoke). */
void baseline_sought_clear(baseline_sought *sought);

/// Seeks the assigned partitions to where their reading goes on: librdkafka 2.0.2 leaves its fetchers idle
/// for up to 1 s after the queue neared its limits (issue #2879). The same rule as the worker's consumer
/// (FetchRestart.restartOffsets): the position; without one, the last seek's offset, else the assigned one.
void baseline_restart_fetchers(rd_kafka_t *rk, baseline_sought *sought);

/* Whether an assigned partition's last known high watermark lies past its position (no request). */
int baseline_has_data_to_fetch(rd_kafka_t *rk);

#endif
