import CKafkaShim
#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc arenas for the worker process.
public enum MallocArenas {
    /// Arenas the worker allows itself (`MALLOC_ARENA_MAX`, unless the environment sets it).
    public static let workerLimit: Int32 = 2

    /// glibc gives a thread that meets a locked arena one of its own, up to 8 per core, and each
    /// keeps its freed memory. librdkafka runs a thread per broker connection besides the Swift
    /// pool, so the worker's peak RSS grows with arenas, not data: two measured ~20 % lower
    /// peak RSS in `bench pipeline` at the same throughput. Call before any thread starts
    /// (`khuyencong` does in `main`): arenas created earlier stay.
    public static func limitForWorker() {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }  // the operator's choice wins
        _ = shim_set_malloc_arena_max(workerLimit)
        #endif
    }
}
