/// Where the read side reads: the contract's output topics on a cluster.
public struct ReadSideSettings: Sendable {
    public var brokers: String
    public var summariesTopic: String
    public var alertsTopic: String
    /// librdkafka properties (security, tuning) for the read side's consumer.
    public var kafkaProperties: [String: String]
    /// How long to wait before reading again after the topics could not be read.
    public var retryDelay: Duration

    public init(
        brokers: String, summariesTopic: String = "khuyencong.regional-summaries.v1",
        alertsTopic: String = "khuyencong.alerts.v1", kafkaProperties: [String: String] = [:],
        retryDelay: Duration = .seconds(2)
    ) {
        self.brokers = brokers
        self.summariesTopic = summariesTopic
        self.alertsTopic = alertsTopic
        self.kafkaProperties = kafkaProperties
        self.retryDelay = retryDelay
    }

    /// The consumer's group id. The read side assigns partitions itself and never joins a group
    /// or commits (every process reads from the beginning), but librdkafka wants an id.
    static let groupID = "khuyencong-read-side"
}
