import CJemalloc

/// The process's allocator: jemalloc, linked through the `CJemalloc` target, with its options in
/// `jemalloc_conf.c`. glibc's malloc shares a few arenas behind locks; the stage-1 slices, stage 2,
/// the publish and librdkafka's threads allocate and free on them at once, and the exactly-once
/// worker spent ~18 % of its CPU in malloc and futex wake-ups there (docs/PERFORMANCE.md).
public enum Allocator {
    /// "jemalloc 5.3.0-…" when jemalloc serves this process's allocations, nil when it does not
    /// (an `LD_PRELOAD`ed allocator, or a build without it).
    public static var description: String? {
        khuyencong_jemalloc_version().map { "jemalloc " + String(cString: $0) }
    }

    /// One of the options jemalloc runs with (`opt.narenas`, `opt.dirty_decay_ms`); nil when unknown.
    static func option(_ name: String) -> Int? {
        let value = khuyencong_jemalloc_option(name)
        return value < 0 ? nil : Int(value)
    }
}
