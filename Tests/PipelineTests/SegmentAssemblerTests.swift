import Domain
import Testing

@testable import Pipeline

/// Segments end at marked records however appends split the log.
@Suite struct SegmentAssemblerTests {
    static let facts = ReportFacts(
        code: 49, fiscalYear: 2022, periodEnd: YearMonth(year: 2022, month: 7), source: .kcqg, status: .actual,
        planVND: 1, executedVND: 1, advancedVND: nil, revision: 1, digest: 0)

    /// Entries at `offsets`, the ones in `marked` ending a segment.
    static func entries(_ offsets: ClosedRange<Int64>, marked: Set<Int64>) -> [SegmentAssembler.Entry] {
        offsets.map { o in
            let record = SequencedRecord(
                facts: facts, topicID: InputTopicNames.id("t"), partition: 0, offset: o, timestampMillis: o,
                pack: nil, payloadRange: 0..<0, endsSegment: marked.contains(o))
            return .init(offset: o, timestampMillis: 1000 + o, record: record)
        }
    }

    static func offsets(_ s: SegmentAssembler.Segment) -> [Int64] { s.entries.map(\.offset) }

    @Test func segmentsInOneAppendAreSlicesAndTheRestWaits() {
        var a = SegmentAssembler()
        let segments = a.append(contentsOf: Self.entries(0...9, marked: [3, 7]))
        #expect(segments.map(Self.offsets) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(segments.map(\.nextOffset) == [4, 8])
        #expect(segments.map(\.timestampMillis) == [1003, 1007])
        #expect(a.firstPendingOffset == 8)
    }

    @Test func aSegmentSpanningAppendsIsWhole() {
        var a = SegmentAssembler()
        #expect(a.append(contentsOf: Self.entries(0...2, marked: [])).isEmpty)
        #expect(a.firstPendingOffset == 0)
        let segments = a.append(contentsOf: Self.entries(3...6, marked: [4, 6]))
        #expect(segments.map(Self.offsets) == [[0, 1, 2, 3, 4], [5, 6]])
        #expect(a.firstPendingOffset == nil)
        _ = a.append(contentsOf: Self.entries(7...8, marked: []))
        a.reset()
        #expect(a.firstPendingOffset == nil)
    }

    @Test func anUndecodableRecordNeverEndsASegment() {
        var a = SegmentAssembler()
        var entries = Self.entries(0...2, marked: [1])
        entries[1].record = nil
        #expect(a.append(contentsOf: entries).isEmpty)
        #expect(a.firstPendingOffset == 0)
    }
}
