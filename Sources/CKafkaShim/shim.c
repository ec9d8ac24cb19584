#include "CKafkaShim.h"
#include <string.h>

rd_kafka_resp_err_t shim_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t partition,
                                 const void *key, size_t key_len,
                                 const void *value, size_t value_len,
                                 rd_kafka_headers_t *headers, void *opaque) {
    rd_kafka_resp_err_t err;
    if (headers) {
        err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (err) rd_kafka_headers_destroy(headers);
    } else {
        err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    }
    return err;
}

rd_kafka_error_t *shim_rebalance_apply(rd_kafka_t *rk, const shim_rebalance_t *state, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t *partitions) {
    int cooperative = state && state->cooperative;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative) return rd_kafka_incremental_assign(rk, partitions);
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, partitions);
        return e ? rd_kafka_error_new(e, "%s", rd_kafka_err2str(e)) : NULL;
    }
    if (cooperative) return rd_kafka_incremental_unassign(rk, partitions);
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, NULL);
    return e ? rd_kafka_error_new(e, "%s", rd_kafka_err2str(e)) : NULL;
}

static void shim_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *partitions, void *opaque) {
    shim_rebalance_t *state = opaque;
    if (state && !state->closing)
        state->cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (!state || state->closing || state->pending) {
        // Closing (or an unexpected second event): librdkafka's default, so nothing hangs.
        rd_kafka_error_t *e = shim_rebalance_apply(rk, state, err, partitions);
        if (e) rd_kafka_error_destroy(e);
        return;
    }
    state->err = err;
    state->partitions = rd_kafka_topic_partition_list_copy(partitions);
    state->pending = 1;
    rd_kafka_yield(rk);
}

void shim_conf_set_rebalance(rd_kafka_conf_t *conf, shim_rebalance_t *state) {
    rd_kafka_conf_set_opaque(conf, state);
    rd_kafka_conf_set_rebalance_cb(conf, shim_rebalance_cb);
}

rd_kafka_resp_err_t shim_mock_broker_push_request_error(rd_kafka_mock_cluster_t *mcluster,
                                                        int32_t broker_id, int16_t api_key,
                                                        rd_kafka_resp_err_t err, int rtt_ms) {
    return rd_kafka_mock_broker_push_request_error_rtts(mcluster, broker_id, api_key, 1, err, rtt_ms);
}
