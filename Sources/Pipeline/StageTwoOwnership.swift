import Logging

/// What happens to stage 2's state when the group moves the sequenced partition: on assignment
/// the state is read back from the changelog (before anything is aggregated, and `/readyz` stays
/// false until then); on revoke it is dropped.
struct StageTwoOwnership: Sendable {
    let context: WorkerContext
    let profile: ClusterProfile

    /// Restores the state. False: the worker was asked to stop during the read, and keeps no
    /// state rather than part of one.
    func assigned(committedOffset: Int64?) async throws -> Bool {
        let logger = context.logger
        context.setReady(consumerJoined: false)
        let reader = ChangelogReader(settings: context.settings, profile: profile, logger: logger)
        guard let restored = try await reader.readAll(stop: context.stopRequested) else { return false }
        if restored.headLostWithoutSnapshot && profile.changelogHeadLossIsStateLoss {
            throw StateLost.changelogHead(topic: context.settings.changelogTopic, logStart: restored.logStart)
        }
        try context.stage.restore(restored, committedOffset: committedOffset, snapshotBudget: profile.snapshotBudget)
        logger.info("stage 2 owner: state restored", metadata: ["records": "\(restored.records.count)"])
        return true
    }

    /// The partition moves to another worker: the state goes (the open segment is read again
    /// from the committed offset by the next owner).
    func revoked() {
        context.stage.drop()
        context.setReady(consumerJoined: true)
    }
}
