import Domain
import Foundation
import Service
import Testing

@Suite struct FileToolsTests {
    func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString).jsonl").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func lineReaderNumbersEveryLineAndDropsCarriageReturns() throws {
        let path = try temporaryFile("a\r\n\nbc\nlast")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = try LineReader(path: path).map { ($0.number, String(decoding: $0.bytes, as: UTF8.self)) }
        #expect(lines.map(\.0) == [1, 2, 3, 4])
        #expect(lines.map(\.1) == ["a", "", "bc", "last"])
        #expect(try LineReader.countLines(path: path) == 4)
    }

    @Test func inputKeyIsTheProvinceOfAJSONObject() {
        #expect(InputKey.of(Array(#"{"province":"49","x":1}"#.utf8)) == Array("49".utf8))
        #expect(InputKey.of(Array(#"{"province":49}"#.utf8)) == nil)
        #expect(InputKey.of(Array(#"["49"]"#.utf8)) == nil)
        #expect(InputKey.of(Array("not json".utf8)) == nil)
    }

    @Test func validatorReportsEachBadSampleLineOnceWithItsReason() throws {
        let validator = FileValidator(configuration: try AggregatorConfiguration.bundled())
        let path = try #require(SampleStream.bundledPath)
        var findings: [FileValidator.Finding] = []
        for (number, bytes) in try LineReader(path: path) {
            if let finding = validator.check(line: number, bytes: bytes) { findings.append(finding) }
        }
        let reasons = findings.map(\.rejection.reason)
        #expect(Set(reasons).count == reasons.count, "one bad record per reason")
        #expect(Set(reasons) == Set(RejectionReason.allCases).subtracting([.tooLarge, .keyMismatch]))
        #expect(validator.counts.duplicates == 1 && validator.counts.stale == 1)
        #expect(
            validator.counts.accepted + validator.counts.duplicates + validator.counts.stale + validator.counts.rejected
                == validator.counts.lines)
        let conflict = try #require(findings.first { $0.rejection.reason == .conflictingRevision })
        #expect(conflict.description.hasPrefix("line \(conflict.line): conflicting_revision /revision — "))
    }

    @Test func produceSendsEveryNonBlankLineKeyedByProvince() async throws {
        let path = try temporaryFile("{\"province\":\"01\"}\n\n  \nnot json\n{\"province\":\"96\"}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var sent: [(String?, String)] = []
        let summary = try await ProduceJob.run(
            path: path,
            send: { key, value in
                sent.append((key.map { String(decoding: $0, as: UTF8.self) }, String(decoding: value, as: UTF8.self)))
            }, progress: { _, _ in })
        #expect(sent.map(\.0) == ["01", nil, "96"])
        #expect(sent.map(\.1) == [#"{"province":"01"}"#, "not json", #"{"province":"96"}"#])
        #expect(summary == ProduceJob.Summary(sent: 3, withoutKey: 1, blankSkipped: 2))
        #expect(ProduceJob.progressLine(sent: 120_000, total: 1_000_000) == "sent 120000/1000000 (12%)")
    }

    @Test func producePicksTheSharedTopicOrTheProvincesOwn() throws {
        func inputs(_ layout: String) throws -> RunConfiguration {
            try RunConfiguration.resolve(
                flags: RunFlags.parse(["--input-topic", "in", "--input-topics", layout]),
                environment: [:])
        }
        let shared = try inputs("shared").inputTopics, perProvince = try inputs("per-province").inputTopics
        #expect(ProduceJob.topic(for: Array("49".utf8), in: shared) == "in")
        #expect(ProduceJob.topic(for: nil, in: shared) == "in")
        #expect(ProduceJob.topic(for: Array("49".utf8), in: perProvince) == "in.49")
        #expect(ProduceJob.topic(for: nil, in: perProvince) == nil, "no unit topic for a line without a province")
        #expect(ProduceJob.topic(for: Array("4x".utf8), in: perProvince) == nil)
        #expect(ProduceJob.topic(for: Array("490".utf8), in: perProvince) == nil)
    }
}
