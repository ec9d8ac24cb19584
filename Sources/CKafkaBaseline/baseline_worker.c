// A minimal C worker over librdkafka: the baseline `khuyencong bench worker` measures the real
// worker against. Consume in a consumer group, parse each update, keep the latest figures per
// province/year/source, keep regional totals, produce one summary per input, and every second
// (or whenever the input runs dry) flush the producer and then commit the offsets. It starts and restarts
// its fetchers as the worker's consumer does, so that the two differ in what they do, not in librdkafka stalls.
// Benchmark code only: no transactions, no validation beyond what the totals need.
#include <librdkafka/rdkafka.h>
#include "CKafkaBaseline.h"
#include "baseline_internal.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PROVINCE_CODES = 100, YEARS = 64, FIRST_YEAR = 2000, SOURCES = 2, MAX_REGIONS = 8, BATCH = 10000 };

typedef struct {
    int64_t plan, executed, revision;
    int present;
} figures;

typedef struct {
    int64_t plan, executed;
    int provinces;
} totals;

struct baseline_worker {
    _Atomic int64_t assigned_ns;
    atomic_int stop;
    atomic_llong consumed, summaries, delivered, failed, rejected, commits;
    baseline_sought sought;  // touched only on the polling thread (the rebalance callback runs there too)
    int region_of[PROVINCE_CODES];  // region index + 1; 0: not a province
    char region_names[MAX_REGIONS][32];
    figures latest[PROVINCE_CODES][YEARS][SOURCES];
    totals regional[MAX_REGIONS][YEARS][SOURCES];
};

int64_t baseline_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

baseline_worker *baseline_worker_new(const int *province_codes, const int *regions, int count,
                                     const char *const *region_names, int region_count) {
    if (region_count > MAX_REGIONS) return NULL;
    baseline_worker *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    for (int i = 0; i < count; i++) {
        int code = province_codes[i];
        if (code >= 0 && code < PROVINCE_CODES && regions[i] >= 0 && regions[i] < region_count)
            w->region_of[code] = regions[i] + 1;
    }
    for (int r = 0; r < region_count; r++)
        snprintf(w->region_names[r], sizeof(w->region_names[r]), "%s", region_names[r]);
    return w;
}

void baseline_worker_free(baseline_worker *w) {
    if (w) free(w->sought.offsets);
    free(w);
}
int64_t baseline_worker_assigned_ns(const baseline_worker *w) { return atomic_load(&w->assigned_ns); }
void baseline_worker_stop(baseline_worker *w) { atomic_store(&w->stop, 1); }

baseline_worker_counts baseline_worker_counts_now(const baseline_worker *w) {
    baseline_worker_counts c = {
        atomic_load(&w->consumed), atomic_load(&w->summaries), atomic_load(&w->delivered),
        atomic_load(&w->failed), atomic_load(&w->rejected), atomic_load(&w->commits),
    };
    return c;
}

int baseline_worker_totals(const baseline_worker *w, int region, int fiscal_year, int source, int64_t *plan,
                           int64_t *executed) {
    if (region < 0 || region >= MAX_REGIONS || fiscal_year < FIRST_YEAR || fiscal_year >= FIRST_YEAR + YEARS ||
        source < 0 || source >= SOURCES) return -1;
    const totals *t = &w->regional[region][fiscal_year - FIRST_YEAR][source];
    *plan = t->plan;
    *executed = t->executed;
    return t->provinces;
}

// MARK: JSON: a small scan of the top-level object (the fields the totals need; others skipped).

typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

/// At '"': moves past the closing quote; the contents (escapes left as they are) in *s, *len.
static int scan_string(cursor *c, const char **s, size_t *len) {
    if (c->p >= c->end || *c->p != '"') return 0;
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != '"') c->p += *c->p == '\\' ? 2 : 1;
    if (c->p >= c->end) return 0;
    *s = start;
    *len = (size_t)(c->p - start);
    c->p++;
    return 1;
}

/// A whole integer (no fraction or exponent), overflow-checked.
static int scan_int(cursor *c, int64_t *out) {
    int negative = c->p < c->end && *c->p == '-';
    if (negative) c->p++;
    const char *digits = c->p;
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *c->p - '0', &v)) return 0;
        c->p++;
    }
    if (c->p == digits || (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))) return 0;
    *out = negative ? -v : v;
    return 1;
}

static int skip_value(cursor *c) {
    const char *s;
    size_t len;
    if (c->p >= c->end) return 0;
    if (*c->p == '"') return scan_string(c, &s, &len);
    if (*c->p == '{' || *c->p == '[') {
        int depth = 0;
        while (c->p < c->end) {
            if (*c->p == '"') {
                if (!scan_string(c, &s, &len)) return 0;
                continue;
            }
            if (*c->p == '{' || *c->p == '[') depth++;
            if (*c->p == '}' || *c->p == ']') depth--;
            c->p++;
            if (depth == 0) return 1;
        }
        return 0;
    }
    while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']' && *c->p != ' ') c->p++;
    return 1;
}

typedef struct {
    int province, year, source;
    int64_t plan, executed, revision;
} update;

static int key_is(const char *key, size_t len, const char *name) {
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

static int parse_update(const char *json, size_t size, update *u) {
    cursor c = {json, json + size};
    unsigned seen = 0;
    skip_ws(&c);
    if (c.p >= c.end || *c.p++ != '{') return 0;
    for (;;) {
        const char *key, *s;
        size_t key_len, len;
        skip_ws(&c);
        if (!scan_string(&c, &key, &key_len)) return 0;
        skip_ws(&c);
        if (c.p >= c.end || *c.p++ != ':') return 0;
        skip_ws(&c);
        int64_t n;
        int ok = 1;
        if (key_is(key, key_len, "province")) {
            ok = scan_string(&c, &s, &len) && len == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
            if (ok) u->province = (s[0] - '0') * 10 + (s[1] - '0'), seen |= 1;
        } else if (key_is(key, key_len, "fiscal_year")) {
            ok = scan_int(&c, &n) && n >= FIRST_YEAR && n < FIRST_YEAR + YEARS;
            if (ok) u->year = (int)n, seen |= 2;
        } else if (key_is(key, key_len, "source")) {
            ok = scan_string(&c, &s, &len) && len == 4 && (memcmp(s, "KCQG", 4) == 0 || memcmp(s, "KCDP", 4) == 0);
            if (ok) u->source = s[2] == 'Q' ? 0 : 1, seen |= 4;
        } else if (key_is(key, key_len, "plan_vnd")) {
            ok = scan_int(&c, &u->plan) && u->plan >= 0;
            seen |= 8;
        } else if (key_is(key, key_len, "executed_vnd")) {
            ok = scan_int(&c, &u->executed) && u->executed >= 0;
            seen |= 16;
        } else if (key_is(key, key_len, "revision")) {
            ok = scan_int(&c, &u->revision);
            seen |= 32;
        } else {
            ok = skip_value(&c);
        }
        if (!ok) return 0;
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        return c.p < c.end && *c.p == '}' && seen == 63;
    }
}

// MARK: State

/// Replaces the province's figures unless they are older; returns its region's totals, or NULL
/// when the update is rejected (unknown province, totals overflow).
static totals *apply(baseline_worker *w, const update *u) {
    int region = w->region_of[u->province] - 1;
    if (region < 0) return NULL;
    figures *f = &w->latest[u->province][u->year - FIRST_YEAR][u->source];
    totals *t = &w->regional[region][u->year - FIRST_YEAR][u->source];
    if (f->present && u->revision < f->revision) return t;
    totals next = *t;
    if (f->present) {
        next.plan -= f->plan;
        next.executed -= f->executed;
    } else {
        next.provinces++;
    }
    if (__builtin_add_overflow(next.plan, u->plan, &next.plan) ||
        __builtin_add_overflow(next.executed, u->executed, &next.executed)) return NULL;
    *t = next;
    *f = (figures){u->plan, u->executed, u->revision, 1};
    return t;
}

// MARK: Kafka

/// The worker's start (RebalanceCallback.startAtCommittedOffsets): each assigned partition gets its committed
/// offset, or the earliest or latest one when it has none, as an absolute offset. Left to librdkafka, a
/// partition without a committed offset waits 100 ms before its first fetch (librdkafka 2.0.2).
/// The consumer's `auto.offset.reset` as a logical offset (RebalanceCallback.logicalOffset); 0 when none applies.
static int64_t reset_offset(rd_kafka_t *rk) {
    char name[32];
    size_t size = sizeof(name);
    if (rd_kafka_conf_get(rd_kafka_conf(rk), "auto.offset.reset", name, &size) != RD_KAFKA_CONF_OK) return 0;
    if (!strcmp(name, "smallest") || !strcmp(name, "earliest") || !strcmp(name, "beginning"))
        return RD_KAFKA_OFFSET_BEGINNING;
    if (!strcmp(name, "largest") || !strcmp(name, "latest") || !strcmp(name, "end")) return RD_KAFKA_OFFSET_END;
    return 0;
}

static void start_at_committed_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *partitions) {
    int64_t reset = reset_offset(rk);
    if (!reset || partitions->cnt == 0) return;
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(partitions);
    rd_kafka_topic_partition_list_t *positions = rd_kafka_topic_partition_list_new(partitions->cnt);
    if (rd_kafka_committed(rk, committed, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < partitions->cnt; i++) {
            rd_kafka_topic_partition_t *p = &partitions->elems[i];
            if (p->offset != RD_KAFKA_OFFSET_INVALID && p->offset != RD_KAFKA_OFFSET_STORED) continue;
            rd_kafka_topic_partition_t *found = rd_kafka_topic_partition_list_find(committed, p->topic, p->partition);
            if (!found || found->err) continue;
            if (found->offset >= 0)
                p->offset = found->offset;
            else
                rd_kafka_topic_partition_list_add(positions, p->topic, p->partition)->offset = reset;
        }
    }
    if (positions->cnt && rd_kafka_offsets_for_times(rk, positions, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < positions->cnt; i++) {
            rd_kafka_topic_partition_t *found = &positions->elems[i];
            if (found->err || found->offset < 0) continue;
            rd_kafka_topic_partition_list_find(partitions, found->topic, found->partition)->offset = found->offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(positions);
    rd_kafka_topic_partition_list_destroy(committed);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *partitions,
                         void *opaque) {
    baseline_worker *w = opaque;
    baseline_sought_clear(&w->sought);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        start_at_committed_offsets(rk, partitions);
        rd_kafka_assign(rk, partitions);
        // After the assignment is applied, as the worker's window starts (its "rebalance: assigned" line).
        int64_t none = 0;
        atomic_compare_exchange_strong(&w->assigned_ns, &none, baseline_monotonic_ns());
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    baseline_worker *w = opaque;
    (void)rk;
    atomic_fetch_add(m->err ? &w->failed : &w->delivered, 1);
}

/// Outputs acknowledged first, then the offsets: at least once.
static int flush_and_commit(baseline_worker *w, rd_kafka_t *consumer, rd_kafka_t *producer, char *errstr,
                            size_t errstr_size) {
    rd_kafka_resp_err_t err = rd_kafka_flush(producer, 60000);
    if (err) {
        snprintf(errstr, errstr_size, "flush: %s", rd_kafka_err2str(err));
        return 0;
    }
    if (atomic_load(&w->failed)) {
        snprintf(errstr, errstr_size, "%lld summaries not delivered", (long long)atomic_load(&w->failed));
        return 0;
    }
    err = rd_kafka_commit(consumer, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        snprintf(errstr, errstr_size, "commit: %s", rd_kafka_err2str(err));
        return 0;
    }
    atomic_fetch_add(&w->commits, 1);
    return 1;
}

static double conf_number(rd_kafka_conf_t *conf, const char *name, double fallback) {
    char value[64];
    size_t size = sizeof(value);
    return rd_kafka_conf_get(conf, name, value, &size) == RD_KAFKA_CONF_OK ? atof(value) : fallback;
}

long long baseline_worker_run(baseline_worker *w, rd_kafka_conf_t *consumer_conf, rd_kafka_conf_t *producer_conf,
                              const char *input_topic, const char *output_topic, char *errstr, size_t errstr_size) {
    double min_messages = conf_number(consumer_conf, "queued.min.messages", 100000);
    double max_bytes = conf_number(consumer_conf, "queued.max.messages.kbytes", 65536) * 1024;
    rd_kafka_conf_set_opaque(consumer_conf, w);
    rd_kafka_conf_set_rebalance_cb(consumer_conf, rebalance_cb);
    rd_kafka_conf_set_opaque(producer_conf, w);
    rd_kafka_conf_set_dr_msg_cb(producer_conf, delivery_cb);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, producer_conf, errstr, errstr_size);
    if (!producer) {
        rd_kafka_conf_destroy(producer_conf);
        rd_kafka_conf_destroy(consumer_conf);
        return -1;
    }
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, consumer_conf, errstr, errstr_size);
    if (!consumer) {
        rd_kafka_conf_destroy(consumer_conf);
        rd_kafka_destroy(producer);
        return -1;
    }
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_t *output = rd_kafka_topic_new(producer, output_topic, NULL);
    rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(consumer);
    rd_kafka_message_t **messages = malloc(sizeof(*messages) * BATCH);
    int ok = !err;
    if (err) snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
    int64_t last_commit = baseline_monotonic_ns();
    long long uncommitted = 0;
    double bytes_per_message = 512;
    int near_limit = 0;
    // The worker's second trigger too: an empty queue while a partition holds more (20 ms, doubling).
    int64_t empty_since = 0, idle_wait = 20000000;
    char summary[512];
    while (ok && !atomic_load(&w->stop)) {
        double queued = (double)rd_kafka_queue_length(queue);
        // What is there, else wait briefly for one message (a batch call waits for a FULL batch).
        ssize_t n = rd_kafka_consume_batch_queue(queue, 0, messages, BATCH);
        if (n == 0) n = rd_kafka_consume_batch_queue(queue, 10, messages, 1);
        size_t bytes = 0;
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = messages[i];
            update u;
            totals *t;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) atomic_fetch_add(&w->rejected, 1);
            } else if (!parse_update(m->payload, m->len, &u) || !(t = apply(w, &u))) {
                atomic_fetch_add(&w->rejected, 1);
                atomic_fetch_add(&w->consumed, 1);
            } else {
                const char *region = w->region_names[w->region_of[u.province] - 1];
                int len = snprintf(summary, sizeof(summary),
                                   "{\"region\":\"%s\",\"fiscal_year\":%d,\"source\":\"%s\",\"provinces\":%d,"
                                   "\"plan_vnd\":%lld,\"executed_vnd\":%lld}",
                                   region, u.year, u.source == 0 ? "KCQG" : "KCDP", t->provinces, (long long)t->plan,
                                   (long long)t->executed);
                while (rd_kafka_produce(output, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, summary, (size_t)len,
                                        region, strlen(region), NULL) == -1) {
                    if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        snprintf(errstr, errstr_size, "produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
                        ok = 0;
                        break;
                    }
                    rd_kafka_poll(producer, 10);
                }
                atomic_fetch_add(&w->summaries, 1);
                atomic_fetch_add(&w->consumed, 1);
                bytes += m->len + m->key_len;
                uncommitted++;
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_poll(producer, 0);
        // The same fetch restart as the worker's consumer (FetchRestart in the Kafka module).
        if (n > 0) bytes_per_message = 0.8 * bytes_per_message + 0.2 * (double)bytes / (double)n;
        if (queued >= 0.75 * min_messages || queued * bytes_per_message >= 0.75 * max_bytes) near_limit = 1;
        if (near_limit && rd_kafka_queue_length(queue) == 0) {
            near_limit = 0;
            baseline_restart_fetchers(consumer, &w->sought);
        }
        int64_t now = baseline_monotonic_ns();
        if (n > 0 || rd_kafka_queue_length(queue) > 0) {
            empty_since = 0;
            idle_wait = 20000000;
        } else if (!empty_since) {
            empty_since = now;
        } else if (now - empty_since >= idle_wait && baseline_has_data_to_fetch(consumer)) {
            baseline_restart_fetchers(consumer, &w->sought);
            empty_since = now;
            idle_wait = idle_wait * 2 < 1000000000 ? idle_wait * 2 : 1000000000;
        }
        if (ok && uncommitted > 0 && (n <= 0 || now - last_commit >= 1000000000)) {
            ok = flush_and_commit(w, consumer, producer, errstr, errstr_size);
            last_commit = now;
            uncommitted = 0;
        }
    }
    if (ok && uncommitted > 0) ok = flush_and_commit(w, consumer, producer, errstr, errstr_size);
    free(messages);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_topic_destroy(output);
    rd_kafka_flush(producer, 10000);
    rd_kafka_destroy(producer);
    return ok ? atomic_load(&w->delivered) : -1;
}
