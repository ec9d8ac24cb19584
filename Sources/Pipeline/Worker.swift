import CKafkaShim
import Domain
import Kafka
import Logging
import ServiceLifecycle

/// The aggregation worker: stage 1 (validate) on its share of the input partitions and, when the
/// group gives it the sequenced partition, stage 2 (aggregate). Run it with `run()` (directly or
/// in a ServiceGroup); cancellation or graceful shutdown ends it after the open batch.
public final class Worker: Service, Sendable {
    let context: WorkerContext

    public init(settings: WorkerSettings, logger: Logger) {
        context = WorkerContext(settings: settings, logger: logger)
    }

    /// Runs until cancelled or gracefully shut down (returns normally). Throws `WorkerError.fatal`
    /// when Kafka reports an unrecoverable error (fenced producer, authentication or
    /// authorization failure), and `WorkerError.stateLost` when records the state depends on are
    /// gone: the caller should exit non-zero.
    public func run() async throws {
        context.markStarted()
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                do { try await runSessions() } catch let error as WorkerError {
                    context.liveness.failed(error.description)
                    throw error
                }
            } onCancel: { [context] in
                context.requestStop()
            }
        } onGracefulShutdown: { [context] in
            context.requestStop()
        }
    }

    /// Joined the group and, when this worker owns the sequenced partition, its state restored.
    public var isReady: Bool { context.isReady }

    /// nil while the batch loop is alive; else why not: it stopped on a fatal error, or it has
    /// made no progress for `WorkerSettings.stallLimit` while input was waiting (`/healthz`).
    public func liveness() -> String? { context.liveness.problem() }

    /// Current summaries (contract JSON) matching the filters; nil when this worker holds no
    /// aggregation state (another worker of the group aggregates, or the state is being
    /// restored). `period` is `YYYY-MM`.
    public func summaries(region: String?, year: Int?, period: String?) async -> [[UInt8]]? {
        context.stage.summaries(region: region, year: year, period: period)
    }

    /// Active alerts, or (`activeOnly` false) the last message of every alert seen since the
    /// state was restored, resolved ones included; nil as for `summaries`.
    public func alerts(activeOnly: Bool) async -> [[UInt8]]? {
        context.stage.alerts(activeOnly: activeOnly)
    }

    private func runSessions() async throws {
        let logger = context.logger
        var backoff = Duration.milliseconds(200)
        defer { context.endRun() }
        var profile: ClusterProfile?
        while !context.stopRequested() {
            let session: WorkerSession
            do {
                let decided: ClusterProfile
                if let profile {
                    decided = profile
                } else {
                    decided = try await ClusterProfile.detect(settings, logger: logger, stop: context.stopRequested)
                }
                profile = decided
                session = try await WorkerSession.start(context: context, profile: decided)
            } catch let error as KafkaError {
                if WorkerError.isFatal(error) { throw WorkerError.fatal(error.description) }
                logger.warning("cannot start the Kafka clients, retrying: \(error)")
                try await pause(&backoff)
                continue
            }
            do {
                try await session.run()
                return
            } catch let lost as StateLost {
                // The previous batch's transaction may still be open: end it, not leave it to time out.
                await session.abandon(abortTransaction: true)
                throw WorkerError.stateLost(lost.description)
            } catch let crash as SimulatedCrash {
                logger.warning("simulated crash at \(crash.point)")
                throw crash
            } catch let failure as BatchFailure {
                if WorkerError.isFatal(failure.error) {
                    await session.abandon(abortTransaction: false)
                    throw WorkerError.fatal(failure.error.description)
                }
                logger.warning("batch failed, restarting from the committed offsets: \(failure.error)")
                await session.abandon(abortTransaction: true)
            } catch let error as KafkaError {
                if WorkerError.isFatal(error) {
                    await session.abandon(abortTransaction: false)
                    throw WorkerError.fatal(error.description)
                }
                logger.warning("Kafka error, restarting the session: \(error)")
                await session.abandon(abortTransaction: false)
            } catch {
                logger.error("worker session failed, restarting it: \(error)")
                await session.abandon(abortTransaction: true)
            }
            context.stage.drop()
            context.setReady(consumerJoined: false)
            try await pause(&backoff)
        }
    }

    private var settings: WorkerSettings { context.settings }

    private func pause(_ backoff: inout Duration) async throws {
        if context.stopRequested() { return }
        try? await Task.sleep(for: backoff)
        backoff = min(backoff * 2, .seconds(5))
    }
}

/// Why `Worker.run` gave up.
public enum WorkerError: Error, CustomStringConvertible {
    case fatal(String)
    /// Records the state depends on are gone from Kafka (see `StateLost`).
    case stateLost(String)

    public var description: String {
        switch self {
        case .fatal(let message): "fatal Kafka error, the worker stops: \(message)"
        case .stateLost(let message): "the worker stops: \(message)"
        }
    }

    /// Fenced, or not allowed in: retrying cannot help.
    static func isFatal(_ error: KafkaError) -> Bool {
        error.isFatal || fatalCodes.contains(error.code)
    }

    /// librdkafka codes that end the worker even when librdkafka does not flag them fatal: another
    /// instance took over this worker's transactional id or group membership, or the cluster
    /// refuses the worker's credentials or permissions. (`FENCED_LEADER_EPOCH` is not one: it is
    /// stale partition metadata, which librdkafka refreshes by itself.)
    static let fatalCodes: Set<KafkaErrorCode> = [
        .fenced, .producerFenced, .invalidProducerEpoch,
        KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_TRANSACTION_COORDINATOR_FENCED.rawValue),
        KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID.rawValue),
        .authentication, .saslAuthenticationFailed,
        KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED.rawValue),
        KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED.rawValue),
        KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED.rawValue),
        .transactionalIdAuthorizationFailed,
        KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED.rawValue),
    ]
}
