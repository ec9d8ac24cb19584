import ArgumentParser
import Domain
import Foundation
import Service

/// `khuyencong manifests --out DIR`: the per-province Strimzi topics and users, from the registries.
struct ManifestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifests",
        abstract: "Write the per-province KafkaTopic and KafkaUser manifests (one per unit of both registries).",
        discussion: """
            deploy/k8s/provinces/ holds the output for the bundled registries: `khuyencong manifests \
            --out deploy/k8s/provinces`. Files unit-*.yaml there that no unit needs any more are removed.
            """
    )

    @Option(help: "Output directory (created if missing).")
    var out: String

    @OptionGroup var registryFiles: RegistryOptions

    func run() throws {
        let registries = try registryFiles.load()
        let files = ProvinceManifests.files(registries: registries)
        let directory = URL(fileURLWithPath: out)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let wanted = Set(files.map(\.name))
            for old in try FileManager.default.contentsOfDirectory(atPath: out)
            where old.hasPrefix("unit-") && old.hasSuffix(".yaml") && !wanted.contains(old) {
                try FileManager.default.removeItem(at: directory.appendingPathComponent(old))
            }
            for file in files {
                try Data(file.text.utf8).write(to: directory.appendingPathComponent(file.name), options: .atomic)
            }
        } catch {
            throw failure("cannot write to \(out): \(error.localizedDescription)")
        }
        print("wrote \(files.count - 1) units' topics and users and kustomization.yaml to \(out)")
    }
}
