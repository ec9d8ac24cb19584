import Domain
import Kafka

/// Stage 1: validates input messages. Valid ones become sequenced records, invalid ones a
/// rejected record each. Stateless.
struct StageOne {
    struct Output {
        var sequenced: [(key: [UInt8]?, value: [UInt8])] = []
        var rejected: [(key: [UInt8]?, value: [UInt8])] = []
        var messages = 0

        /// The last sequenced record of a batch ends a stage-2 segment.
        mutating func markEndOfSegment() {
            guard !sequenced.isEmpty else { return }
            SequencedRecord.markEndOfSegment(&sequenced[sequenced.count - 1].value)
        }
    }

    let decoder: ExecutionUpdateDecoder
    let metrics: PipelineMetrics

    func process(_ m: KafkaMessageView, into out: inout Output) {
        out.messages += 1
        let key = m.key.map { Array($0) }
        let timestamp = m.timestamp ?? 0
        switch decoder.decode(payload: m.value, key: m.key) {
        case .success(let update):
            let origin = InputOrigin(topic: m.topic, partition: m.partition, offset: m.offset, key: key, timestampMillis: timestamp)
            let record = SequencedRecord(update: update, origin: origin, payload: m.value.map { Array($0) } ?? [], endsSegment: false)
            out.sequenced.append((key, record.encoded()))
        case .failure(let rejection):
            metrics.rejected(rejection.reason)
            let origin = InputOrigin(topic: m.topic, partition: m.partition, offset: m.offset, key: key, timestampMillis: timestamp)
            let payload = m.value.map { Array($0) }
            out.rejected.append((key, RejectedRecords.encode(
                rejection, origin: origin, payload: payload)))
        }
    }
}
