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
    @Option(help: "Alternating C/Swift rounds; the median and best of each are reported.") var rounds = 3

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

        let broker = try EmbeddedBroker(brokers: 3, logger: logger)
        var producerProps = Self.producerTuning
        producerProps["bootstrap.servers"] = broker.bootstrapServers
        var consumerProps = Self.consumerTuning
        consumerProps["bootstrap.servers"] = broker.bootstrapServers
        consumerProps["group.id"] = "bench"
        var results: [(cProduce: Double, swiftProduce: Double, cConsume: Double, swiftConsume: Double)] = []
        for round in 1...max(1, rounds) {
            // Fresh topics each round: the embedded broker would otherwise drop the oldest data.
            let cTopic = "bench-c-\(round)", swiftTopic = "bench-swift-\(round)"
            try broker.createTopic(cTopic, partitions: partitions)
            try broker.createTopic(swiftTopic, partitions: partitions)

            var clock = ContinuousClock.now
            let cDelivered = try await KafkaCBaseline.produce(
                properties: producerProps, topic: cTopic, partitions: partitions,
                count: messages, size: size)
            let cProduce = rate(cDelivered, since: clock)
            clock = ContinuousClock.now
            let swiftDelivered = try await swiftProduce(broker: broker, topic: swiftTopic, logger: logger)
            let swiftProduceRate = rate(swiftDelivered, since: clock)
            report(
                "round \(round) produce", c: cProduce, swift: swiftProduceRate, cCount: cDelivered,
                swiftCount: swiftDelivered)

            clock = ContinuousClock.now
            let (cConsumed, cSum) = try await KafkaCBaseline.consume(
                properties: consumerProps, topic: cTopic,
                partitions: partitions, count: messages)
            let cConsume = rate(cConsumed, since: clock)
            clock = ContinuousClock.now
            let (swiftConsumed, swiftSum) = try await swiftConsume(broker: broker, topic: swiftTopic, logger: logger)
            let swiftConsumeRate = rate(swiftConsumed, since: clock)
            report(
                "round \(round) consume", c: cConsume, swift: swiftConsumeRate, cCount: cConsumed,
                swiftCount: swiftConsumed)
            if cSum != swiftSum { print("  WARNING: payload byte sums differ (C \(cSum), Swift \(swiftSum))") }
            results.append((cProduce, swiftProduceRate, cConsume, swiftConsumeRate))
        }
        summary("produce", c: results.map(\.cProduce), swift: results.map(\.swiftProduce))
        summary("consume", c: results.map(\.cConsume), swift: results.map(\.swiftConsume))
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

    /// Median and best over the rounds (the machine is shared: single rounds are noisy).
    private func summary(_ what: String, c: [Double], swift: [Double]) {
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let (cMedian, swiftMedian) = (median(c), median(swift))
        let (cBest, swiftBest) = (c.max() ?? 0, swift.max() ?? 0)
        print(
            String(
                format: "  %@ median: C %.0f msgs/s, Swift %.0f msgs/s, Swift/C = %.2fx; best: C %.0f, Swift "
                    + "%.0f, Swift/C = %.2fx (target >= 0.8x)",
                what, cMedian, swiftMedian, swiftMedian / cMedian, cBest, swiftBest, swiftBest / cBest))
    }

    private func report(_ what: String, c: Double, swift: Double, cCount: Int, swiftCount: Int) {
        print(
            String(
                format: "  %@: C %.0f msgs/s (%d msgs), Swift %.0f msgs/s (%d msgs), Swift/C = %.2fx",
                what, c, cCount, swift, swiftCount, swift / c))
    }
}
