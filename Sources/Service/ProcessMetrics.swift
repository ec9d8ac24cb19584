import Dispatch
import Foundation
import Prometheus
import Synchronization

/// The standard `process_*` metrics (CPU seconds, resident and virtual memory, open and maximum
/// file descriptors, start time), read from Linux /proc every few seconds; swift-prometheus
/// has no process collector. Elsewhere (macOS) they are absent.
/// `@unchecked`: `timer` is set once in `init` and only cancelled in `deinit`.
public final class ProcessMetrics: @unchecked Sendable {
    private let cpu: Counter
    private let resident: Gauge
    private let virtual: Gauge
    private let openFDs: Gauge
    private let maxFDs: Gauge
    private let reportedCPU = Mutex<Double>(0)
    private let timer: any DispatchSourceTimer

    public init(registry: PrometheusCollectorRegistry, interval: Duration = .seconds(5)) {
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricDescriptions.descriptor(name, help: help))
        }
        cpu = registry.makeCounter(
            descriptor: MetricDescriptions.descriptor(
                "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds."))
        resident = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        virtual = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        openFDs = gauge("process_open_fds", "Number of open file descriptors.")
        maxFDs = gauge("process_max_fds", "Maximum number of open file descriptors.")
        let start = gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "khuyencong.process-metrics"))
        if let sample = ProcSample.read() { start.set(sample.startTime) }
        update()
        let nanoseconds = Int(
            interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler { [weak self] in self?.update() }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Reads /proc once and sets every gauge; the CPU counter grows by what was used since.
    public func update() {
        guard let sample = ProcSample.read() else { return }
        let delta = reportedCPU.withLock { reported in
            let delta = max(0, sample.cpuSeconds - reported)
            reported = max(reported, sample.cpuSeconds)
            return delta
        }
        if delta > 0 { cpu.increment(by: delta) }
        resident.set(Double(sample.residentBytes))
        virtual.set(Double(sample.virtualBytes))
        openFDs.set(Double(sample.openFDs))
        maxFDs.set(Double(sample.maxFDs))
    }
}

/// One reading of /proc/self (Linux `proc(5)`).
struct ProcSample: Equatable {
    var cpuSeconds: Double
    var residentBytes: Int
    var virtualBytes: Int
    var openFDs: Int
    var maxFDs: Int
    var startTime: Double

    static func read() -> ProcSample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let machine = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let bootLine = machine.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(bootLine.dropFirst(6).trimmingCharacters(in: .whitespaces)),
            let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        else { return nil }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return parse(
            stat: stat, bootTime: boot, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: sysconf(Int32(_SC_PAGESIZE)), openFDs: fds.count - 1, maxFDs: Int(limit.rlim_cur))
    }

    /// Fields after the command name (which may hold spaces and parentheses, hence the last ')'):
    /// utime 14, stime 15, starttime 22 (clock ticks), vsize 23 (bytes), rss 24 (pages).
    static func parse(stat: String, bootTime: Double, ticksPerSecond: Double, pageSize: Int, openFDs: Int, maxFDs: Int)
        -> ProcSample?
    {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state).
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23),
            let rss = field(24)
        else { return nil }
        return ProcSample(
            cpuSeconds: (utime + stime) / ticksPerSecond, residentBytes: Int(rss) * pageSize,
            virtualBytes: Int(vsize), openFDs: openFDs, maxFDs: maxFDs,
            startTime: bootTime + start / ticksPerSecond)
    }
}
