import ArgumentParser

/// `khuyencong bench …`: benchmarks (commands, not timed tests).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark.",
        subcommands: [
            BenchKafka.self, BenchDomain.self, BenchPipeline.self, BenchWorker.self, BenchReadSide.self,
            BenchSoak.self,
        ]
    )
}
