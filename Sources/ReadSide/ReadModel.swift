import Domain
import Foundation
import Synchronization

/// The current state for reading, built from the output topics: the latest summary of each
/// summary key and the latest alert of each alert key. Bounded by the number of keys: a newer
/// message of a key replaces the older one.
public final class ReadModel: Sendable {
    /// A summary as published (its bytes, served as they are), what indexes it, and the members
    /// the pages use.
    public struct Summary: Sendable {
        public let key: String
        public let bytes: [UInt8]
        public let scope: SummaryScope
        public let fiscalYear: Int
        public let period: YearMonth
        public let revision: Int64?
        private let decoded: DecodedOnce

        /// The members, decoded on first use: the worker publishes hundreds of summaries per
        /// batch and a newer one of a key replaces the older, while the pages read only the few
        /// they show. Decoding all of them at once cost a third of the worker's CPU under load.
        /// A summary whose header reads but whose other members do not (not the worker's own)
        /// shows its header members only.
        public var message: SummaryMessage { decoded.message(of: self) }

        init(key: String, bytes: [UInt8], header: SummaryHeader, scope: SummaryScope, period: YearMonth) {
            self.key = key
            self.bytes = bytes
            self.scope = scope
            self.fiscalYear = header.fiscalYear
            self.period = period
            self.revision = header.revision
            self.decoded = DecodedOnce()
        }

        fileprivate var headerOnly: SummaryMessage {
            SummaryMessage(
                region: scope.id, fiscal_year: fiscalYear, period_end: period.description, revision: revision)
        }
    }

    /// A summary's decoded members, computed by the first reader that asks.
    private final class DecodedOnce: Sendable {
        private let value = Mutex<SummaryMessage?>(nil)

        func message(of summary: Summary) -> SummaryMessage {
            if let held = value.withLock({ $0 }) { return held }
            let message =
                (try? JSONDecoder().decode(SummaryMessage.self, from: Data(summary.bytes))) ?? summary.headerOnly
            value.withLock { $0 = message }
            return message
        }
    }

    /// An alert as published, and its members.
    public struct Alert: Sendable {
        public let key: String
        public let bytes: [UInt8]
        public let message: AlertMessage
    }

    private struct State {
        var summaries: [String: Summary] = [:]
        var alerts: [String: Alert] = [:]
        var version: UInt64 = 0
        var readiness = Readiness.starting
        var watchers: [UInt64: AsyncStream<UInt64>.Continuation] = [:]
        var nextWatcher: UInt64 = 0
    }

    private let state = Mutex(State())
    private let alertSeries: AlertSeries?

    /// `alertSeries`: where the active alerts are exposed as Prometheus series (nil: nowhere).
    public init(alertSeries: AlertSeries? = nil) {
        self.alertSeries = alertSeries
    }

    // MARK: applying messages

    /// Why a message was not applied: it names what is wrong, for the log.
    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Applies a summary record. A record with a lower revision than the one held is older
    /// (e.g. a repeat after a crash) and is ignored.
    public func apply(summaryKey key: String, value: [UInt8]) throws(Unreadable) {
        let header: SummaryHeader
        switch SummaryHeader.read(value) {
        case .success(let h): header = h
        case .failure(let error): throw Unreadable(description: "summary \(key): not a contract summary (\(error))")
        }
        guard let scope = SummaryScope(id: header.region), let period = YearMonth(header.periodEnd) else {
            throw Unreadable(
                description: "summary \(key): unknown region \(header.region) or period \(header.periodEnd)")
        }
        let summary = Summary(key: key, bytes: value, header: header, scope: scope, period: period)
        change { s in
            if let held = s.summaries[key]?.revision, let revision = header.revision, revision < held {
                return false
            }
            s.summaries[key] = summary
            return true
        }
    }

    /// Applies an alert record (raised, updated or resolved): the latest one of its key counts.
    public func apply(alertKey key: String, value: [UInt8]) throws(Unreadable) {
        let message: AlertMessage
        do { message = try JSONDecoder().decode(AlertMessage.self, from: Data(value)) } catch {
            throw Unreadable(description: "alert \(key): not a contract alert (\(error))")
        }
        let alert = Alert(key: key, bytes: value, message: message)
        change { s in
            s.alerts[key] = alert
            return true
        }
        alertSeries?.update(message)
    }

    /// Brings the alert series up to date; call before reading the metrics registry.
    public func flushAlertSeries() { alertSeries?.flush() }

    private func change(_ body: (inout State) -> Bool) {
        let notify = state.withLock { s -> (UInt64, [AsyncStream<UInt64>.Continuation])? in
            guard body(&s) else { return nil }
            s.version &+= 1
            return (s.version, Array(s.watchers.values))
        }
        if let (version, watchers) = notify {
            for w in watchers { w.yield(version) }
        }
    }

    // MARK: readiness

    /// Whether the model has caught up with the topics' end offsets taken when it started
    /// reading, and why not.
    public enum Readiness: Sendable, Equatable {
        case starting
        case catchingUp(remaining: Int)
        case ready
        case failed(String)

        public var isReady: Bool { self == .ready }

        /// For `/readyz` and the log.
        public var explanation: String {
            switch self {
            case .starting: "not ready: the read side is starting"
            case .catchingUp(let n): "not ready: the read side is reading the output topics (\(n) partitions to go)"
            case .ready: "ready"
            case .failed(let reason): "not ready: the read side cannot read the output topics: \(reason)"
            }
        }
    }

    public var readiness: Readiness { state.withLock { $0.readiness } }

    /// A change of readiness counts as a change: pages that showed "loading" refresh.
    public func setReadiness(_ readiness: Readiness) {
        change { s in
            guard s.readiness != readiness else { return false }
            s.readiness = readiness
            return true
        }
        alertSeries?.setReady(readiness.isReady)
    }

    // MARK: queries

    /// Increases with every applied change.
    public var version: UInt64 { state.withLock { $0.version } }

    /// The summaries matching the filters, in the order of `/v1/summaries`: region (bac,
    /// miền Trung – Tây Nguyên, nam, cả nước), fiscal year, period.
    public func summaries(region: String? = nil, year: Int? = nil, period: YearMonth? = nil) -> [Summary] {
        let all = state.withLock { Array($0.summaries.values) }
        return all.filter { s in
            (region == nil || s.scope.id == region) && (year == nil || s.fiscalYear == year)
                && (period == nil || s.period == period)
        }.sorted { ($0.scope, $0.fiscalYear, $0.period) < ($1.scope, $1.fiscalYear, $1.period) }
    }

    /// One summary: (scope, year, period).
    public func summary(_ scope: SummaryScope, fiscalYear: Int, period: YearMonth) -> Summary? {
        state.withLock { $0.summaries["\(scope.id)/\(fiscalYear)/\(period)"] }
    }

    /// The alerts by key: the active ones, or (`activeOnly` false) the latest message of each.
    public func alerts(activeOnly: Bool) -> [Alert] {
        state.withLock { Array($0.alerts.values) }
            .filter { !activeOnly || $0.message.isActive }
            .sorted { $0.key < $1.key }
    }

    /// Every fiscal year and period that has a summary, latest last.
    public func periods() -> [YearMonth] {
        Set(state.withLock { $0.summaries.values.map(\.period) }).sorted()
    }

    // MARK: changes

    /// The model's version after each change, until the stream is dropped (Server-Sent Events).
    /// Only the newest version waits: a slow reader skips versions rather than queueing them.
    public func changes() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream<UInt64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s in
            let id = s.nextWatcher
            s.nextWatcher += 1
            s.watchers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
