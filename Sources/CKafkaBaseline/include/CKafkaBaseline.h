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

/// The minimal C worker (baseline_worker.c): consumes `input_topic` in a consumer group, keeps the
/// latest figures per province/year/source and the regional totals, produces one summary per
/// input to `output_topic`, and flushes then commits every second or when the input runs dry.
typedef struct baseline_worker baseline_worker;

/// What the C worker has done so far.
typedef struct {
    long long consumed, summaries, delivered, failed, rejected, commits;
} baseline_worker_counts;

/// CLOCK_MONOTONIC in nanoseconds (the clock of `baseline_worker_assigned_ns`).
int64_t baseline_monotonic_ns(void);

/// `province_codes[i]` (0–99) lies in region `regions[i]`, named `region_names[regions[i]]`.
/// NULL when there are more than 8 regions or no memory.
baseline_worker *baseline_worker_new(const int *province_codes, const int *regions, int count,
                                     const char *const *region_names, int region_count);
void baseline_worker_free(baseline_worker *w);

/// Runs until `baseline_worker_stop`, then flushes, commits and closes. Takes ownership of both
/// configurations. Returns summaries delivered, or -1 with errstr set.
long long baseline_worker_run(baseline_worker *w, rd_kafka_conf_t *consumer_conf, rd_kafka_conf_t *producer_conf,
                              const char *input_topic, const char *output_topic, char *errstr, size_t errstr_size);

/// The monotonic time of the first partition assignment; 0 before it.
int64_t baseline_worker_assigned_ns(const baseline_worker *w);
void baseline_worker_stop(baseline_worker *w);
baseline_worker_counts baseline_worker_counts_now(const baseline_worker *w);

/// A region's totals for a fiscal year and source (0 KCQG, 1 KCDP) once the run has stopped:
/// returns the number of provinces in them, or -1 for arguments out of range.
int baseline_worker_totals(const baseline_worker *w, int region, int fiscal_year, int source, int64_t *plan,
                           int64_t *executed);

#endif
