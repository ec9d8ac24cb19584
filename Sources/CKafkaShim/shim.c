#include "CKafkaShim.h"

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

rd_kafka_resp_err_t shim_mock_broker_push_request_error(rd_kafka_mock_cluster_t *mcluster,
                                                        int32_t broker_id, int16_t api_key,
                                                        rd_kafka_resp_err_t err, int rtt_ms) {
    return rd_kafka_mock_broker_push_request_error_rtts(mcluster, broker_id, api_key, 1, err, rtt_ms);
}
