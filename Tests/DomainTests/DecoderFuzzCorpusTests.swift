import Foundation
import SchemaTestSupport
import Testing
@testable import Domain

/// Replays the fuzzer's corpus (`Tests/Fuzz/corpus`, see docs/FUZZING.md): every input keeps
/// `DecoderInvariants`, as under `make fuzz` — no crash, decode and decodeFacts agree, an
/// accepted update survives its canonical form, a rejection quotes little of the input.
@Suite struct DecoderFuzzCorpusTests {
    static let corpus = SchemaValidation.repoRoot.appendingPathComponent("Tests/Fuzz/corpus")

    @Test func everyCorpusInputKeepsTheInvariants() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        #expect(names.count >= 50, "the corpus is checked in")
        var accepted = 0
        for name in names {
            let input = Array(try Data(contentsOf: Self.corpus.appendingPathComponent(name)))
            let problems = DecoderInvariants.violations(input, decoder: Fixtures.decoder)
            #expect(problems.isEmpty, "\(name): \(problems)")
            let (key, payload) = DecoderInvariants.split(input)
            if case .success = Fixtures.decoder.decode(payload: payload, key: key) { accepted += 1 }
        }
        #expect(accepted > 0, "some corpus inputs are accepted updates")
    }

    @Test func brokenInvariantsAreFound() {
        let record = Rejection(reason: .malformedJSON, field: "/" + String(repeating: "a", count: 100), detail: "x")
        #expect(!DecoderInvariants.rejectionViolations(record, key: nil, payload: []).isEmpty)
        #expect(!DecoderInvariants.isPointer(Array("/a~2".utf8)))
        #expect(!DecoderInvariants.isPointer(Array("a".utf8)))
        #expect(DecoderInvariants.split(Array("01\0{}".utf8)).key == Array("01".utf8))
        #expect(DecoderInvariants.split(Array("{}".utf8)).key == Array("49".utf8))
    }
}
