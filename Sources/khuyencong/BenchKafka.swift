import ArgumentParser
import Kafka
import KafkaBaseline
import Logging

/// `khuyencong bench kafka`: Swift producer/consumer throughput against a plain C librdkafka
/// loop, on the embedded broker, with identical librdkafka settings.
struct BenchKafka: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce/consume throughput of the Swift Kafka layer versus a plain C librdkafka loop."
    )

    @Option(help: "Messages per run.") var messages = 1_000_000
    @Option(help: "Payload bytes per message.") var size = 250
    @Option(help: "Partitions per topic (the embedded broker keeps only ~5 MiB per partition).") var partitions: Int32 =
        64
    @Option(
        help: "Rounds; C and Swift each on a broker of their own, the first of the two alternating (use an even count)."
    )
    var rounds = 4

    /// Shared by the C and Swift runs. Fetch queues sized so the consumer never hits librdkafka
    /// 2.0.2's "local queue full → stop fetching for up to 1 s" (issue #2879).
    static let producerTuning = [
        "linger.ms": "5", "batch.num.messages": "10000",
        "queue.buffering.max.messages": "1000000", "queue.buffering.max.kbytes": "1048576",
        "enable.idempotence": "true",
    ]
    static let consumerTuning = [
        "queued.min.messages": "1000000", "queued.max.messages.kbytes": "1048576",
        "fetch.max.bytes": "52428800", "max.partition.fetch.bytes": "4194304",
        "fetch.wait.max.ms": "10", "enable.auto.commit": "false", "auto.offset.reset": "earliest",
        "isolation.level": "read_uncommitted",
    ]

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let perPartition = Double(messages * size) / Double(partitions) / 1_048_576
        print(
            "Kafka bench: \(messages) messages × \(size) B over \(partitions) partitions on the embedded broker "
                + "(3 brokers)")
        print(
            String(
                format: "  the embedded broker keeps ~5 MiB per partition: %.2f MiB per partition here%@", perPartition,
                perPartition > 5 ? " — TOO MUCH, raise --partitions" : ""))
        print("  producer settings: \(describe(Self.producerTuning))")
        print("  consumer settings: \(describe(Self.consumerTuning))")

        var results: [(cProduce: Double, swiftProduce: Double, cConsume: Double, swiftConsume: Double)] = []
        for round in 1...max(1, rounds) {
            // Each series runs on a broker of its own, and which goes first alternates by round.
            // With one broker per round the second producer met the first one's ~240 MB there and
            // was the slower one every time (6 rounds, C first: Swift/C 0.69, 0.62, 0.74; Swift
            // first: 0.95, 1.76, 1.43).
            var c = SeriesRun(), swift = SeriesRun()
            for runsSwift in round % 2 == 1 ? [false, true] : [true, false] {
                let broker = try EmbeddedBroker(brokers: 3, logger: logger)
                try broker.createTopic(Self.topic, partitions: partitions)
                if runsSwift {
                    swift = try await runSwift(broker: broker, logger: logger)
                } else {
                    c = try await runC(broker: broker)
                }
            }
            report(
                "round \(round) produce", c: c.produce, swift: swift.produce, cCount: c.produced,
                swiftCount: swift.produced)
            report(
                "round \(round) consume", c: c.consume, swift: swift.consume, cCount: c.consumed,
                swiftCount: swift.consumed)
            if c.byteSum != swift.byteSum {
                print("  WARNING: payload byte sums differ (C \(c.byteSum), Swift \(swift.byteSum))")
            }
            results.append((c.produce, swift.produce, c.consume, swift.consume))
        }
        summary("produce", c: results.map(\.cProduce), swift: results.map(\.swiftProduce))
        summary("consume", c: results.map(\.cConsume), swift: results.map(\.swiftConsume))
    }

    static let topic = "bench"

    /// One series' produce and consume on its broker: rates (msgs/s), counts and the consumed
    /// payloads' byte sum.
    struct SeriesRun {
        var produce = 0.0, consume = 0.0
        var produced = 0, consumed = 0
        var byteSum: UInt64 = 0
    }

    private func runC(broker: EmbeddedBroker) async throws -> SeriesRun {
        var producerProps = Self.producerTuning
        producerProps["bootstrap.servers"] = broker.bootstrapServers
        var consumerProps = Self.consumerTuning
        consumerProps["bootstrap.servers"] = broker.bootstrapServers
        consumerProps["group.id"] = "bench"
        var run = SeriesRun()
        var clock = ContinuousClock.now
        run.produced = try await KafkaCBaseline.produce(
            properties: producerProps, topic: Self.topic, partitions: partitions, count: messages, size: size)
        run.produce = rate(run.produced, since: clock)
        clock = ContinuousClock.now
        (run.consumed, run.byteSum) = try await KafkaCBaseline.consume(
            properties: consumerProps, topic: Self.topic, partitions: partitions, count: messages)
        run.consume = rate(run.consumed, since: clock)
        return run
    }

    private func runSwift(broker: EmbeddedBroker, logger: Logger) async throws -> SeriesRun {
        var run = SeriesRun()
        var clock = ContinuousClock.now
        run.produced = try await swiftProduce(broker: broker, topic: Self.topic, logger: logger)
        run.produce = rate(run.produced, since: clock)
        clock = ContinuousClock.now
        (run.consumed, run.byteSum) = try await swiftConsume(broker: broker, topic: Self.topic, logger: logger)
        run.consume = rate(run.consumed, since: clock)
        return run
    }

    private func swiftProduce(broker: EmbeddedBroker, topic: String, logger: Logger) async throws -> Int {
        var config = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        config.properties = Self.producerTuning
        let producer = try KafkaProducer(configuration: config, logger: logger)
        let payload = (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        let handle = try producer.topic(topic)
        let (count, partitionCount) = (messages, Int(partitions))  // option getters stay out of the loop
        for i in 0..<count {
            try await producer.send(to: handle, partition: Int32(i % partitionCount), key: nil, value: payload)
        }
        try await producer.flush(timeout: .seconds(120))
        await producer.shutdown()
        return messages
    }

    private func swiftConsume(broker: EmbeddedBroker, topic: String, logger: Logger) async throws -> (Int, UInt64) {
        var config = KafkaConsumerConfiguration(bootstrapServers: broker.bootstrapServers, groupID: "bench")
        config.properties = Self.consumerTuning
        let consumer = try KafkaConsumer(configuration: config, logger: logger)
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic, $0, offset: -2) })
        var consumed = 0
        var sum: UInt64 = 0
        var idle = 0
        let count = messages
        while consumed < count && idle < 30 {
            // What is there, else wait for one message (a batch poll waits for a FULL batch), as the C loop.
            var batch = try await consumer.poll(maxMessages: 10_000, timeout: .zero)
            if batch.isEmpty { batch = try await consumer.poll(maxMessages: 1, timeout: .seconds(1)) }
            idle = batch.isEmpty ? idle + 1 : 0
            for message in batch {
                if let value = message.value {
                    for byte in value { sum &+= UInt64(byte) }
                }
            }
            consumed += batch.count
        }
        await consumer.close()
        return (consumed, sum)
    }

    private func rate(_ count: Int, since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(count) / seconds
    }

    /// Median and best over the rounds (the machine is shared: single rounds are noisy), and the
    /// median of the rounds' own ratios, which pairs each Swift run with the C run beside it.
    private func summary(_ what: String, c: [Double], swift: [Double]) {
        func median(_ xs: [Double]) -> Double {
            let sorted = xs.sorted(), mid = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        }
        let (cMedian, swiftMedian) = (median(c), median(swift))
        let (cBest, swiftBest) = (c.max() ?? 0, swift.max() ?? 0)
        let ratios = zip(swift, c).map { $0 / $1 }
        print(
            String(
                format: "  %@ median: C %.0f msgs/s, Swift %.0f msgs/s, Swift/C = %.2fx; best: C %.0f, Swift "
                    + "%.0f, Swift/C = %.2fx; per round %@, median %.2fx (target >= 0.8x)",
                what, cMedian, swiftMedian, swiftMedian / cMedian, cBest, swiftBest, swiftBest / cBest,
                ratios.map { String(format: "%.2f", $0) }.joined(separator: " "), median(ratios)))
    }

    private func report(_ what: String, c: Double, swift: Double, cCount: Int, swiftCount: Int) {
        print(
            String(
                format: "  %@: C %.0f msgs/s (%d msgs), Swift %.0f msgs/s (%d msgs), Swift/C = %.2fx",
                what, c, cCount, swift, swiftCount, swift / c))
    }
}
