import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the in-process benchmarks (`bench domain`, `bench read-side`) measure and print with.
enum BenchFigures {
    /// CPU seconds of the calling thread: unaffected by what other threads and processes run.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// `v` with exactly `places` decimals ("1.50"), without Foundation's locale-aware formatting.
    static func decimal(_ v: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let n = Int((v * scale).rounded())
        let frac = String(n % Int(scale))
        return "\(n / Int(scale)).\(String(repeating: "0", count: places - frac.count))\(frac)"
    }
}

/// A bench's report line on stdout, written at once (children and pipes see it as it comes).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Seconds since `start`, as a Double for rates.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
