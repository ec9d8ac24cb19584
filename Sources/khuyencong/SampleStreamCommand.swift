import ArgumentParser
import Domain
import Foundation
import Service

/// Regenerates the bundled synthetic sample stream (hidden: for maintainers).
struct SampleStreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-stream",
        abstract: "Write the synthetic sample stream (Sources/Service/Resources/sample-stream.jsonl).",
        shouldDisplay: false
    )

    @Option(help: "Output file (default: standard output).")
    var output: String?

    func run() throws {
        let registries = try Registries.load()
        let text = SampleStream.generate(registries: registries)
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
