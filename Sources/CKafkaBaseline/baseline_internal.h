#ifndef CKAFKA_BASELINE_INTERNAL_H
#define CKAFKA_BASELINE_INTERNAL_H
// Shared between the baseline's C files; not part of the module's interface.
#include <librdkafka/rdkafka.h>

/// Seeks the assigned partitions to their positions: librdkafka 2.0.2 leaves its fetchers idle
/// for up to 1 s after the queue neared its limits (issue #2879); the worker's consumer does the same.
void baseline_restart_fetchers(rd_kafka_t *rk);

/* Whether an assigned partition's last known high watermark lies past its position (no request). */
int baseline_has_data_to_fetch(rd_kafka_t *rk);

#endif
