import ArgumentParser
import Domain

/// `--registry-2004` and `--registry-2025` of the offline commands (`validate`, `manifests`).
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("registry-2004"), help: "Province registry 2004 CSV (default: bundled).")
    var registry2004: String?

    @Option(name: .customLong("registry-2025"), help: "Province registry 2025 CSV (default: bundled).")
    var registry2025: String?

    /// The registries from these files (bundled where not given); a bad file exits 64 with one line.
    func load() throws -> Registries {
        do {
            return try Registries.load(file2004: registry2004, file2025: registry2025)
        } catch {
            throw failure("province registry: \(error)", code: configurationErrorExitCode)
        }
    }
}
