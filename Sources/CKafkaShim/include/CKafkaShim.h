#ifndef CKAFKA_SHIM_H
#define CKAFKA_SHIM_H
// Only what Swift cannot call directly: variadic librdkafka calls and a rebalance callback that
// never enters Swift.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdint.h>
#include <stddef.h>

/// rd_kafka_producev without varargs (for messages with headers; plain ones go through
/// rd_kafka_produce). value NULL = tombstone. On success librdkafka owns `headers`; on failure
/// the shim destroys them, so the caller never has to.
rd_kafka_resp_err_t shim_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t partition,
                                 const void *key, size_t key_len,
                                 const void *value, size_t value_len,
                                 rd_kafka_headers_t *headers, void *opaque);

/// A rebalance recorded by the callback for the consuming (Swift-owned) thread to act on.
typedef struct shim_rebalance {
    int pending;                                  // 1: an event waits for Swift
    rd_kafka_resp_err_t err;                      // _ASSIGN_PARTITIONS or _REVOKE_PARTITIONS
    rd_kafka_topic_partition_list_t *partitions;  // owned copy; taken by Swift
    int closing;                                  // 1: apply librdkafka's default action
    int cooperative;                              // protocol seen at the last event
} shim_rebalance_t;

/// Installs a rebalance callback that records the event in `state` and yields the consume call
/// (the callback runs on the thread calling consume, never a librdkafka thread, and never calls
/// Swift). With `closing` set it assigns/unassigns by itself, as consumer_close requires.
void shim_conf_set_rebalance(rd_kafka_conf_t *conf, shim_rebalance_t *state);

/// Applies the default (assign or unassign) for a rebalance event, eager or cooperative as
/// recorded in `state` (rd_kafka_rebalance_protocol can hang once the consumer is closing,
/// librdkafka issue #4041, so it is only asked outside close).
rd_kafka_error_t *shim_rebalance_apply(rd_kafka_t *rk, const shim_rebalance_t *state, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t *partitions);

/// rd_kafka_mock_broker_push_request_error_rtts with one (error, rtt) tuple.
rd_kafka_resp_err_t shim_mock_broker_push_request_error(rd_kafka_mock_cluster_t *mcluster,
                                                        int32_t broker_id, int16_t api_key,
                                                        rd_kafka_resp_err_t err, int rtt_ms);

#endif
