import CMallocTuning
#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc settings for the worker process. Call before any thread starts (`khuyencong`
/// does in `main`): arenas created earlier stay.
///
/// - Arenas: glibc gives a thread that meets a locked arena one of its own, up to 8 per core, and
///   each keeps its freed memory. librdkafka runs a thread per broker connection besides the Swift
///   pool, so peak RSS grew with arenas, not data: two measured ~20 % lower peak RSS in `bench
///   pipeline` at the same throughput.
/// - Trim and mmap thresholds, top pad: a batch allocates and frees buffers of several MB
///   (outputs, packs, entries). By default glibc maps the large ones afresh and gives freed heap
///   back to the kernel, so every batch page-faults and zeroes them again. Kept, they took `bench
///   pipeline` from 7.0 to 6.6 µs of CPU per update (17 interleaved pairs), peak RSS +~10 MiB.
public enum MallocTuning {
    /// nil: left to glibc, because the environment sets it (the operator's choice wins).
    public struct Settings: Equatable, Sendable {
        public var arenaMax: Int32?
        public var trimThreshold: Int32?
        public var mmapThreshold: Int32?
        public var topPad: Int32?
    }

    public static func settings(environment: (String) -> String?) -> Settings {
        func unlessSet(_ variable: String, _ value: Int32) -> Int32? { environment(variable) == nil ? value : nil }
        return Settings(
            arenaMax: unlessSet("MALLOC_ARENA_MAX", 2), trimThreshold: unlessSet("MALLOC_TRIM_THRESHOLD_", 64 << 20),
            mmapThreshold: unlessSet("MALLOC_MMAP_THRESHOLD_", 32 << 20), topPad: unlessSet("MALLOC_TOP_PAD_", 16 << 20)
        )
    }

    /// Applies `settings(environment:)` of this process; true when glibc accepted every one.
    @discardableResult
    public static func applyForWorker() -> Bool {
        #if canImport(Glibc)
        apply(settings { getenv($0).map { String(cString: $0) } })
        #else
        false
        #endif
    }

    /// True when glibc accepted every setting (false off glibc).
    static func apply(_ s: Settings) -> Bool {
        malloc_tuning_apply(s.arenaMax ?? -1, s.trimThreshold ?? -1, s.mmapThreshold ?? -1, s.topPad ?? -1) == 1
    }
}
