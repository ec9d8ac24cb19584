@testable import Pipeline
import Testing

@Suite struct AllocatorTests {
    /// jemalloc serves the process's allocations (linked, not only present) with the options of
    /// `jemalloc_conf.c`: a build that lost the link or the `malloc_conf` symbol fails here.
    @Test func jemallocServesTheProcessWithItsOptions() throws {
        let description = try #require(Allocator.description)
        #expect(description.hasPrefix("jemalloc 5."))
        #expect(Allocator.option("opt.narenas") == 1)
        #expect(Allocator.option("opt.dirty_decay_ms") == 500)
        #expect(Allocator.option("opt.muzzy_decay_ms") == 0)
    }
}
