#ifndef CKAFKA_SHIM_H
#define CKAFKA_SHIM_H
// Only what Swift cannot call: librdkafka's variadic functions (Swift imports no C variadics).
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

/// rd_kafka_mock_broker_push_request_error_rtts with one (error, rtt) tuple.
rd_kafka_resp_err_t shim_mock_broker_push_request_error(rd_kafka_mock_cluster_t *mcluster,
                                                        int32_t broker_id, int16_t api_key,
                                                        rd_kafka_resp_err_t err, int rtt_ms);

#endif
