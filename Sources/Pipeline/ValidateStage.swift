import Domain

/// Stage 1 "validate": validates input messages. Valid ones become sequenced records, invalid
/// ones a rejected record each. Stateless.
struct ValidateStage: Sendable {
    struct Output {
        /// Sequenced messages, each a pack of records (`SequencedPack`). No key: they go to
        /// partition 0 explicitly, and nothing reads one.
        var sequenced: [[UInt8]] = []
        /// Records in `sequenced`.
        var sequencedRecords = 0
        /// Bytes of `sequenced` (compressed), as the sequenced partition will hold them.
        var sequencedBytes = 0
        var rejected: [(key: [UInt8]?, value: [UInt8])] = []
        var messages = 0
        private var openPack = BinaryWriter()
        /// The input topic of `openPack`'s records (a pack holds one topic's).
        private var openPackTopic = ""

        mutating func addSequenced(topic: String, _ encode: (inout BinaryWriter) -> Void) {
            if !openPack.bytes.isEmpty && openPackTopic != topic { closePack() }
            if openPack.bytes.isEmpty {
                SequencedPack.start(&openPack, topic: topic)
                openPackTopic = topic
            }
            SequencedPack.add(&openPack, encode)
            sequencedRecords += 1
            if openPack.bytes.count >= SequencedPack.targetBytes { closePack() }
        }

        mutating func closePack() {
            guard !openPack.bytes.isEmpty else { return }
            let pack = SequencedPack.seal(openPack.bytes)
            sequencedBytes += pack.count
            sequenced.append(pack)
            openPack = BinaryWriter()
        }

        /// Appends a later slice's output (stage 1 runs on slices of a batch in parallel).
        mutating func append(_ other: Output) {
            closePack()
            var other = other
            other.closePack()
            sequenced += other.sequenced
            sequencedRecords += other.sequencedRecords
            sequencedBytes += other.sequencedBytes
            rejected += other.rejected
            messages += other.messages
        }

        /// Closes the batch: its last sequenced record ends a stage-2 segment.
        mutating func finish() {
            closePack()
            guard !sequenced.isEmpty else { return }
            SequencedPack.markEndOfSegment(&sequenced[sequenced.count - 1])
        }
    }

    let decoder: ExecutionUpdateDecoder
    let metrics: PipelineMetrics

    /// `topic`: the message's topic (the caller has it; building its name per message is costly).
    func process(_ m: MessageRef, topic input: InputTopic, into out: inout Output) {
        out.messages += 1
        let timestamp = m.timestampMillis
        let topic = input.name
        switch decoder.decodeFacts(payload: m.value, key: m.key, topicUnit: input.unit) {
        case .success(let facts):
            out.addSequenced(topic: topic) { w in
                SequencedRecord.encode(
                    facts, partition: m.partition, offset: m.offset, timestampMillis: timestamp, into: &w)
            }
        case .failure(let rejection):
            metrics.rejected(rejection.reason)
            let key = m.key.map { Array($0) }
            let origin = InputOrigin(
                topic: topic, partition: m.partition, offset: m.offset, key: key, timestampMillis: timestamp)
            let value = RejectedRecord.encodeNow(rejection, origin: origin, payload: m.value.map { Array($0) })
            out.rejected.append((key, value))
        }
    }
}
