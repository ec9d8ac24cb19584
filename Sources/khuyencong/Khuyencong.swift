import ArgumentParser
import Service

@main
struct Khuyencong: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "khuyencong",
        abstract: "Aggregates khuyến công budget-execution updates from Kafka into regional and national totals "
            + "and alerts.",
        version: BuildInfo.versionLine,
        subcommands: [
            RunCommand.self, ServeCommand.self, DemoCommand.self, ProduceCommand.self, ValidateCommand.self,
            BrokerCommand.self, BenchCommand.self, SampleStreamCommand.self, ConfigReferenceCommand.self,
            ManifestsCommand.self,
        ]
    )
}
