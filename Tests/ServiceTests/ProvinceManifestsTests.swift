import Domain
import Foundation
import SchemaTestSupport
@testable import Service
import Testing

/// deploy/k8s/provinces/ is what `khuyencong manifests` generates from the registry files.
@Suite struct ProvinceManifestsTests {
    let directory = SchemaValidation.repoRoot.appendingPathComponent("deploy/k8s/provinces")

    @Test func committedManifestsEqualAFreshGeneration() throws {
        let files = ProvinceManifests.files(registries: try Registries.load())
        let committed = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(
            committed == files.map(\.name).sorted(),
            "regenerate: swift run khuyencong manifests --out deploy/k8s/provinces")
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file.name), encoding: .utf8)
            #expect(text == file.text, "\(file.name) differs from a fresh generation")
        }
    }

    @Test func oneTopicAndUserPerDistinctUnitOfBothRegistries() throws {
        let registries = try Registries.load()
        #expect(registries.r2004.units.count == 63 && registries.r2025.units.count == 34)
        let codes = Set(registries.r2004.units.map(\.code) + registries.r2025.units.map(\.code))
        let units = ProvinceManifests.units(registries)
        #expect(units.map(\.code) == codes.sorted())
        let files = ProvinceManifests.files(registries: registries)
        for code in codes {
            let file = try #require(files.first { $0.name == "unit-\(code).yaml" })
            #expect(file.text.contains("name: khuyencong.execution-updates.v1.\(code)\n"))
            #expect(file.text.contains("name: khuyencong-province-\(code)\n"))
            // The user's only ACL: Write/Describe on its own topic.
            #expect(file.text.components(separatedBy: "- resource:").count == 2)
            #expect(file.text.contains("producerByteRate: \(ProvinceManifests.producerByteRate)"))
        }
        let kustomization = try #require(files.first { $0.name == "kustomization.yaml" })
        #expect(kustomization.text.components(separatedBy: "\n  - unit-").count - 1 == codes.count)
    }

    @Test func aMergedRegistryChangesTheManifestsWithoutHandEditing() throws {
        // A registry pair where 2025 keeps only two units: the union still covers every 2004 unit.
        let registries = try Registries.load()
        let merged = ProvinceManifests.units(registries).first { $0.code == "49" }
        #expect(merged?.names.contains { $0.contains("(2004)") } == true)
        let kept = ProvinceManifests.units(registries).first { $0.code == "48" }
        #expect(kept?.names.count == 2, "a code in both registries gets one topic, named after both units")
    }
}
