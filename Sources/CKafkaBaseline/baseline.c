#include <librdkafka/rdkafka.h>
#include "CKafkaBaseline.h"
#include "baseline_internal.h"
#include <stdio.h>
#include <stdlib.h>

static void bench_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    long long *ok = opaque;
    (void)rk;
    if (!m->err) (*ok)++;
}

long long baseline_produce(rd_kafka_conf_t *conf, const char *topic, int partitions,
                           long long count, int size, char *errstr, size_t errstr_size) {
    long long delivered = 0;
    rd_kafka_conf_set_opaque(conf, &delivered);
    rd_kafka_conf_set_dr_msg_cb(conf, bench_dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!rk) { rd_kafka_conf_destroy(conf); return -1; }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *payload = malloc(size > 0 ? size : 1);
    for (int i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);
    for (long long i = 0; i < count; i++) {
        while (rd_kafka_produce(rkt, (int32_t)(i % partitions), RD_KAFKA_MSG_F_COPY,
                                payload, size, NULL, 0, NULL) == -1) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(rd_kafka_last_error()));
                count = i;  // stop producing, still flush what was queued
                break;
            }
            rd_kafka_poll(rk, 10);
        }
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    free(payload);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return delivered;
}

static double conf_number(rd_kafka_conf_t *conf, const char *name, double fallback) {
    char value[64];
    size_t size = sizeof(value);
    return rd_kafka_conf_get(conf, name, value, &size) == RD_KAFKA_CONF_OK ? atof(value) : fallback;
}

void baseline_sought_clear(baseline_sought *sought) {
    for (int i = 0; i < sought->count; i++) sought->offsets[i] = -1;
}

/* The slot of `partition`, grown on demand; NULL when memory runs out. */
static int64_t *sought_slot(baseline_sought *sought, int32_t partition) {
    if (partition < 0) return NULL;
    if (partition >= sought->count) {
        int count = partition + 1;
        int64_t *grown = realloc(sought->offsets, sizeof(*grown) * (size_t)count);
        if (!grown) return NULL;
        for (int i = sought->count; i < count; i++) grown[i] = -1;
        sought->offsets = grown;
        sought->count = count;
    }
    return &sought->offsets[partition];
}

/* The Swift consumer's fetch restart (FetchRestart.swift in the Kafka module), so the baseline does not stall
 * on librdkafka 2.0.2 issue #2879 either. */
void baseline_restart_fetchers(rd_kafka_t *rk, baseline_sought *sought) {
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(rk, &assigned) || !assigned) return;
    rd_kafka_topic_partition_list_t *positions = rd_kafka_topic_partition_list_copy(assigned);
    rd_kafka_position(rk, positions);
    rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new(assigned->cnt);
    for (int i = 0; i < assigned->cnt; i++) {
        int64_t *last = sought_slot(sought, positions->elems[i].partition);
        int64_t offset = positions->elems[i].offset;
        if (offset < 0) offset = last && *last >= 0 ? *last : assigned->elems[i].offset;
        if (offset < 0) continue;
        if (last) *last = offset;
        rd_kafka_topic_partition_list_add(seek, positions->elems[i].topic, positions->elems[i].partition)->offset =
            offset;
    }
    rd_kafka_error_t *error = seek->cnt ? rd_kafka_seek_partitions(rk, seek, 0) : NULL;
    if (error) rd_kafka_error_destroy(error);
    rd_kafka_topic_partition_list_destroy(seek);
    rd_kafka_topic_partition_list_destroy(positions);
    rd_kafka_topic_partition_list_destroy(assigned);
}

int baseline_has_data_to_fetch(rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(rk, &assigned) || !assigned) return 0;
    rd_kafka_position(rk, assigned);
    int found = 0, any_positioned = 0, unfetched_waits = 0;
    for (int i = 0; i < assigned->cnt && !found; i++) {
        int64_t low = -1, high = -1;
        const rd_kafka_topic_partition_t *p = &assigned->elems[i];
        int known = !rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &low, &high);
        // As FetchRestart.mayHoldMore: no position yet counts, beside a partition that has one,
        // unless the partition is known to be empty.
        if (p->offset >= 0) {
            any_positioned = 1;
            found = known && high > p->offset;
        } else if (!known || high < 0 || high > low) {
            unfetched_waits = 1;
        }
    }
    found = found || (any_positioned && unfetched_waits);
    rd_kafka_topic_partition_list_destroy(assigned);
    return found;
}

long long baseline_consume(rd_kafka_conf_t *conf, const char *topic, int partitions,
                           long long count, uint64_t *byte_sum,
                           char *errstr, size_t errstr_size) {
    double min_messages = conf_number(conf, "queued.min.messages", 100000);
    double max_bytes = conf_number(conf, "queued.max.messages.kbytes", 65536) * 1024;
    double bytes_per_message = 512;
    int near_limit = 0;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!rk) { rd_kafka_conf_destroy(conf); return -1; }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    enum { BATCH = 10000 };
    rd_kafka_message_t **msgs = malloc(sizeof(*msgs) * BATCH);
    long long consumed = 0;
    uint64_t sum = 0;
    int idle = 0;
    baseline_sought sought = {NULL, 0};
    while (consumed < count && idle < 30) {
        double queued = (double)rd_kafka_queue_length(q);
        /* What is there, else wait for one message: a batch call waits for a FULL batch. */
        ssize_t n = rd_kafka_consume_batch_queue(q, 0, msgs, BATCH);
        if (n == 0) n = rd_kafka_consume_batch_queue(q, 1000, msgs, 1);
        if (n <= 0) { idle++; continue; }
        idle = 0;
        size_t bytes = 0;
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = msgs[i];
            if (!m->err) {
                const unsigned char *b = m->payload;
                for (size_t j = 0; j < m->len; j++) sum += b[j];
                bytes += m->len + m->key_len;
                consumed++;
            }
            rd_kafka_message_destroy(m);
        }
        bytes_per_message = 0.8 * bytes_per_message + 0.2 * (double)bytes / (double)n;
        if (queued >= 0.75 * min_messages || queued * bytes_per_message >= 0.75 * max_bytes) near_limit = 1;
        if (near_limit && rd_kafka_queue_length(q) == 0) {
            near_limit = 0;
            baseline_restart_fetchers(rk, &sought);
        }
    }
    free(sought.offsets);
    free(msgs);
    *byte_sum = sum;
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (consumed < count) snprintf(errstr, errstr_size, "consumed only %lld of %lld", consumed, count);
    return consumed;
}
