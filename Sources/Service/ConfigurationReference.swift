import Foundation
import Pipeline

/// The release, the worker's topics, partition counts and environment variables, taken from the
/// code that uses them. `deploy/check.py --config-reference` compares deploy/ with it (one source of truth).
public enum ConfigurationReference {
    public static func json(for settings: WorkerSettings) throws -> Data {
        let plan = TopicPlan(settings)
        func partitions(_ topic: String) -> Int { Int(plan.topics.first { $0.name == topic }?.partitions ?? 0) }
        let reference: [String: Any] = [
            "version": BuildInfo.version,
            "group_id": settings.groupID,
            "topics": [
                "input": settings.inputTopic, "summaries": settings.summariesTopic, "alerts": settings.alertsTopic,
                "rejected": settings.rejectedTopic, "sequenced": settings.sequencedTopic,
                "changelog": settings.changelogTopic,
            ],
            "partitions": partitions(settings.inputTopic),
            "internal_partitions": partitions(settings.sequencedTopic),
            "env": RunConfiguration.environmentVariables + [RunConfiguration.kafkaEnvironmentPrefix + "*"],
        ]
        return try JSONSerialization.data(withJSONObject: reference, options: [.prettyPrinted, .sortedKeys])
    }
}
