#ifndef CKAFKA_BASELINE_H
#define CKAFKA_BASELINE_H
// Plain-C librdkafka loops: the baseline `khuyencong bench kafka` and `bench pipeline` measure
// the Swift Kafka layer against. Benchmark code only; the worker never links it.
#include <stdint.h>
#include <stddef.h>

// Declared here, not through <librdkafka/rdkafka.h>: a second module holding librdkafka's
// declarations can take over their definitions from CRdKafka, and Swift code importing only
// CRdKafka/CKafkaShim then no longer finds librdkafka's enum constants.
typedef struct rd_kafka_conf_s rd_kafka_conf_t;

/// A plain rd_kafka_produce loop (RD_KAFKA_MSG_F_COPY, partition i % n) followed by flush.
/// Takes ownership of conf. Returns messages delivered without error, or -1 with errstr set.
long long baseline_produce(rd_kafka_conf_t *conf, const char *topic, int partitions,
                           long long count, int size, char *errstr, size_t errstr_size);

/// Assigns all partitions from the beginning and consumes `count` messages with
/// rd_kafka_consume_batch_queue, summing every payload byte. Takes ownership of conf.
/// Returns messages consumed, or -1 with errstr set.
long long baseline_consume(rd_kafka_conf_t *conf, const char *topic, int partitions,
                           long long count, uint64_t *byte_sum,
                           char *errstr, size_t errstr_size);

#endif
