#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Timestamps {
    /// Wall clock, ms since the epoch (Kafka's timestamp unit).
    static func wallMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

extension Duration {
    /// Whole milliseconds as Int64, for logs and reports (the Kafka module's `milliseconds` is a
    /// clamped Int32 for librdkafka timeouts).
    var wholeMilliseconds: Int64 { wholeNanoseconds / 1_000_000 }

    var wholeNanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
