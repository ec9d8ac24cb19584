import Foundation
import Logging
import KafkaBaseline
import Synchronization

/// A child process of `bench worker` (this executable again: `broker`, or `run`): its stdout
/// lines arrive on `stdoutLines`; its stderr goes to a log file, and the monotonic time of the
/// first stderr line containing `marker` is kept.
final class BenchChild: Sendable {
    let process: Process
    let stdoutLines: AsyncStream<String>
    let logPath: String
    private let markerSeen = Mutex<Int64?>(nil)

    init(arguments: [String], logPath: String, marker: String? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = arguments
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw BenchFailure("cannot write \(logPath)") }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        stdoutLines = lines
        try process.run()
        Self.readLines(out.fileHandleForReading) {
            continuation.yield($0)
        } end: {
            continuation.finish()
        }
        Self.readLines(err.fileHandleForReading) { [self] line in
            log.write(Data((line + "\n").utf8))
            if let marker, line.contains(marker) {
                let now = MonotonicClock.nanoseconds
                self.markerSeen.withLock { if $0 == nil { $0 = now } }
            }
        } end: {
            try? log.close()
        }
    }

    /// When the marker line was read; nil before.
    var markerAtNanos: Int64? { markerSeen.withLock { $0 } }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
    @discardableResult
    func stop(grace: Duration = .seconds(30)) async -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The last lines of the log, for an error message.
    func logTail(_ count: Int = 15) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(count).map { "    " + $0 }.joined(separator: "\n")
    }

    /// Calls `line` for each line the handle delivers, on a thread of its own, then `end`.
    static func readLines(
        _ handle: FileHandle, _ line: @escaping @Sendable (String) -> Void,
        end: @escaping @Sendable () -> Void
    ) {
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    line(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            end()
        }
    }
}

extension BenchChild {
    /// For the bench's own Kafka clients: errors only, on stderr.
    static let clientLogger: Logger = {
        var logger = Logger(label: "bench", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .error
        return logger
    }()

    /// `khuyencong broker` with `topic` created, and the bootstrap list it printed; its log and
    /// the workers' go to `logDirectory` (created when missing).
    static func broker(topic: String, partitions: Int32, logDirectory: String) async throws -> (BenchChild, String) {
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        let broker = try BenchChild(
            arguments: ["broker", "--topic", "\(topic):\(partitions)"], logPath: logDirectory + "/broker.log")
        var stdout = broker.stdoutLines.makeAsyncIterator()
        guard let bootstrap = await stdout.next(), !bootstrap.isEmpty else {
            throw BenchFailure("the broker printed no bootstrap list; its log:\n" + broker.logTail())
        }
        return (broker, bootstrap)
    }

    /// `khuyencong run` as a bench runs it: a group and transactional id of its own, output topics
    /// `{outputPrefix}.regional-summaries`, `.alerts` and `.rejected`, HTTP on a free port.
    static func workerArguments(
        bootstrap: String, group: String, inputTopic: String, outputPrefix: String, guarantee: String,
        logLevel: String
    ) -> [String] {
        [
            "run", "--brokers", bootstrap, "--group-id", group, "--transactional-id", group,
            "--input-topic", inputTopic, "--summaries-topic", "\(outputPrefix).regional-summaries",
            "--alerts-topic", "\(outputPrefix).alerts", "--rejected-topic", "\(outputPrefix).rejected",
            "--guarantee", guarantee, "--http", "127.0.0.1:0", "--log-level", logLevel,
        ]
    }
}

/// What /proc says about a child process.
enum ProcStatus {
    /// VmHWM: the peak resident set size, in KiB.
    static func peakRSSKiB(pid: Int32) -> Int? { kibibytes("VmHWM:", pid: pid) }

    /// VmRSS: the resident set size now, in KiB.
    static func rssKiB(pid: Int32) -> Int? { kibibytes("VmRSS:", pid: pid) }

    private static func kibibytes(_ field: String, pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    /// User + system CPU seconds, all threads.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// A benchmark that measured nothing, or measured something else: it stops with this.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
