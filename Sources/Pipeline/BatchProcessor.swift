/// One message's fields and bytes, borrowed from whatever holds them (a polled Kafka batch, or a
/// test's arrays): what the stages read, with no Kafka type in it.
struct MessageRef {
    var partition: Int32
    /// An input message's topic, as an index into `BatchInput.inputTopics` (it fits the padding
    /// after `partition`).
    var topic: Int32 = 0
    var offset: Int64
    /// The Kafka timestamp (ms since the epoch); 0 when the message has none.
    var timestampMillis: Int64
    var key: UnsafeRawBufferPointer?
    var value: UnsafeRawBufferPointer?
}

/// A batch's messages by role: input messages for stage 1 and the sequenced log's messages (log
/// order) for stage 2.
///
/// `@unchecked Sendable`: it only points at bytes. Sound because whoever builds it keeps those
/// bytes alive and unchanged until `BatchProcessor.process` returns (the collector holds the
/// polled batches until then), and the stages only read them.
struct BatchInput: @unchecked Sendable {
    /// The input messages' topics, which `MessageRef.topic` indexes (stage 1 writes the name into
    /// sequenced and rejected records, and checks a per-province topic's unit).
    var inputTopics: [InputTopic]
    var inputs: [MessageRef] = []
    var sequenced: [MessageRef] = []

    init(inputTopics: [InputTopic]) {
        self.inputTopics = inputTopics
    }

    /// One input topic's messages only (tests, the shared topic).
    init(inputTopic: String) {
        inputTopics = [InputTopic(name: inputTopic, unit: nil)]
    }
}

/// An input topic as stage 1 needs it: its name, and the unit it is reserved for (per-province topics).
struct InputTopic: Sendable, Hashable {
    var name: String
    var unit: String?
}

/// What one batch produced: stage 1's and stage 2's outputs and how long each took.
struct ProcessedBatch: Sendable {
    var validated: ValidateStage.Output
    var aggregated: AggregateStage.Output
    var stageOneDuration: Duration
}

/// Stage 1 and stage 2 over one batch's messages, in memory: no Kafka, no clock but durations.
/// Stage 1 runs in slices beside stage 2, on all cores: the three touch disjoint data, and their
/// outputs are joined in the batch's order.
struct BatchProcessor: Sendable {
    let validate: ValidateStage
    let aggregate: AggregateStage

    /// Inputs below this many run stage 1 in one slice: splitting costs more than it saves.
    static let sliceThreshold = 2_000

    func process(_ batch: BatchInput) async -> ProcessedBatch {
        let started = ContinuousClock.now
        async let aggregated = aggregate.process(batch.sequenced)
        var validated = ValidateStage.Output()
        await withTaskGroup(of: (Int, ValidateStage.Output).self) { [validate] group in
            let count = batch.inputs.count
            let slices = count >= Self.sliceThreshold ? 2 : 1
            for slice in 0..<slices {
                group.addTask {
                    var out = ValidateStage.Output()
                    for i in (count * slice / slices)..<(count * (slice + 1) / slices) {
                        let m = batch.inputs[i]
                        validate.process(m, topic: batch.inputTopics[Int(m.topic)], into: &out)
                    }
                    out.closePack()  // compressed here, in parallel, not when the slices are joined
                    return (slice, out)
                }
            }
            var outputs = [ValidateStage.Output](repeating: .init(), count: slices)
            for await (slice, out) in group { outputs[slice] = out }
            for out in outputs { validated.append(out) }
        }
        let stageOneDuration = ContinuousClock.now - started
        validate.metrics.consumed.increment(by: validated.messages)
        validated.finish()
        return ProcessedBatch(validated: validated, aggregated: await aggregated, stageOneDuration: stageOneDuration)
    }
}
