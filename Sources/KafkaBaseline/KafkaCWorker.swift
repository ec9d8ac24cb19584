import CKafkaBaseline
import CRdKafka
import Dispatch
import Kafka

#if canImport(Glibc)
import Glibc
#endif

/// The minimal C worker (`baseline_worker.c`) running on a thread of its own until `stop()`:
/// the baseline `khuyencong bench worker` measures the real worker against.
public final class KafkaCWorker: @unchecked Sendable {
    /// What the C worker has done so far.
    public struct Counts: Sendable {
        public var consumed: Int, summaries: Int, delivered: Int, failed: Int, rejected: Int, commits: Int
    }

    private let worker: OpaquePointer
    private let finished: DispatchSemaphore
    private let result: ResultBox

    /// Starts consuming `inputTopic` in the group of `consumerProperties` at once. `regions`:
    /// each province code (0–99) with its region's index in `regionNames`.
    public init(
        consumerProperties: [String: String], producerProperties: [String: String], inputTopic: String,
        outputTopic: String, provinces: [(code: Int, region: Int)], regionNames: [String]
    ) throws(KafkaError) {
        let codes = provinces.map { Int32($0.code) }, regions = provinces.map { Int32($0.region) }
        let names = regionNames.map { strdup($0) }
        defer { names.forEach { free($0) } }
        let created = names.map { UnsafePointer($0) }.withUnsafeBufferPointer { namePointers in
            baseline_worker_new(codes, regions, Int32(codes.count), namePointers.baseAddress, Int32(regionNames.count))
        }
        guard let created else { throw KafkaError(code: .fail, message: "C worker: too many regions or no memory") }
        let consumerConf = try makeConf(consumerProperties.sorted { $0.key < $1.key })
        let producerConf: OpaquePointer
        do { producerConf = try makeConf(producerProperties.sorted { $0.key < $1.key }) } catch {
            rd_kafka_conf_destroy(consumerConf)
            baseline_worker_free(created)
            throw error
        }
        worker = created
        finished = DispatchSemaphore(value: 0)
        result = ResultBox()
        let (confs, topics) = (ConfPair(consumer: consumerConf, producer: producerConf), (inputTopic, outputTopic))
        // The loop blocks for its whole run: a thread of its own, not the cooperative pool.
        DispatchQueue(label: "kafka.c-worker").async { [self] in
            var errstr = [CChar](repeating: 0, count: 512)
            let n = baseline_worker_run(
                worker, confs.consumer, confs.producer, topics.0, topics.1, &errstr, errstr.count)
            result.value =
                n < 0 ? .failure(KafkaError(code: .fail, message: string(cBuffer: errstr))) : .success(Int(n))
            finished.signal()
        }
    }

    deinit { baseline_worker_free(worker) }

    /// The monotonic time (`MonotonicClock`) of the first partition assignment; nil before it.
    public var assignedAtNanos: Int64? {
        let t = baseline_worker_assigned_ns(worker)
        return t == 0 ? nil : t
    }

    public var counts: Counts {
        let c = baseline_worker_counts_now(worker)
        return Counts(
            consumed: Int(c.consumed), summaries: Int(c.summaries), delivered: Int(c.delivered),
            failed: Int(c.failed), rejected: Int(c.rejected), commits: Int(c.commits))
    }

    /// A region's totals (index into `regionNames`) for a year and source (0 KCQG, 1 KCDP), once stopped.
    public func totals(region: Int, fiscalYear: Int, source: Int) -> (provinces: Int, plan: Int64, executed: Int64)? {
        var plan: Int64 = 0, executed: Int64 = 0
        let provinces = baseline_worker_totals(
            worker, Int32(region), Int32(fiscalYear), Int32(source), &plan, &executed)
        return provinces < 0 ? nil : (Int(provinces), plan, executed)
    }

    /// Stops the loop (it flushes, commits and leaves the group) and returns the summaries delivered.
    public func stop() async throws(KafkaError) -> Int {
        baseline_worker_stop(worker)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [finished] in
                finished.wait()
                c.resume()
            }
        }
        return try result.value!.get()
    }
}

/// CLOCK_MONOTONIC, the clock the C worker stamps its assignment with.
public enum MonotonicClock {
    public static var nanoseconds: Int64 { baseline_monotonic_ns() }
}

private final class ResultBox: @unchecked Sendable {
    var value: Result<Int, KafkaError>?
}

private struct ConfPair: @unchecked Sendable {
    let consumer: OpaquePointer
    let producer: OpaquePointer
}
