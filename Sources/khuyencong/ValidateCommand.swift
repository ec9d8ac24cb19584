import ArgumentParser
import Domain
import Foundation
import Service

/// `khuyencong validate FILE`: the worker's checks, offline.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a JSONL file of execution updates against the contract, offline; exit 1 if any line would "
            + "be rejected.",
        discussion: "Each line is decoded as the worker would, with the line's province as the message key; revision "
            + "rules apply within the file (a conflicting_revision shows; duplicates and stale lines are "
            + "counted). Blank lines are skipped."
    )

    @Argument(help: "JSONL file of execution updates.")
    var file: String

    @OptionGroup var registryFiles: RegistryOptions

    func run() throws {
        let registries = try registryFiles.load()
        let rules: AlertRules
        do { rules = try AlertRules.bundled() } catch { throw failure("alert rules: \(error)") }
        let validator = FileValidator(configuration: AggregatorConfiguration(registries: registries, rules: rules))
        let lines: LineReader
        do { lines = try LineReader(path: file) } catch { throw failure("cannot read \(file)") }
        for (number, bytes) in lines {
            if let finding = validator.check(line: number, bytes: bytes) { print(finding) }
        }
        let c = validator.counts
        print(
            "\(c.lines) updates: \(c.accepted) accepted, \(c.duplicates) duplicate, \(c.stale) stale, "
                + "\(c.rejected) rejected")
        if c.rejected > 0 { throw ExitCode(1) }
    }
}
