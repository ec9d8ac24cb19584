import Domain
@testable import Pipeline
import Testing

@Suite struct SequencedRecordTests {
    static func record(activities: [Activity]?, key: [UInt8]?, endsSegment: Bool) -> SequencedRecord {
        let update = ExecutionUpdate(
            reportID: "r-1:a.b", province: "49", fiscalYear: 2022, periodEnd: YearMonth(year: 2022, month: 7),
            source: .kcdp, status: .actual, planVND: 1_000_000_000_000_000, executedVND: 0,
            revision: 9_007_199_254_740_991, reportedAt: "2022-08-01T09:00:00+07:00",
            advancedVND: activities == nil ? nil : 5, activities: activities,
            consulting: activities == nil ? nil : Consulting(projects: 3, revenueVND: 7))
        let origin = InputOrigin(topic: "in", partition: 63, offset: 1 << 40, key: key, timestampMillis: 1_700_000_000_123)
        return SequencedRecord(update: update, origin: origin, payload: Array("{\"x\":1}".utf8), endsSegment: endsSegment)
    }

    @Test(arguments: [true, false])
    func roundTrips(full: Bool) {
        let original = Self.record(
            activities: full ? [Activity(category: .tradePromotion, executedVND: 0, projects: 2, beneficiaries: nil)] : nil,
            key: full ? Array("49".utf8) : nil, endsSegment: full)
        let bytes = original.encoded()
        let decoded = bytes.withUnsafeBytes { SequencedRecord.decode($0) }
        #expect(decoded == original)
    }

    @Test func markerIsSetAfterEncoding() {
        var bytes = Self.record(activities: nil, key: nil, endsSegment: false).encoded()
        SequencedRecord.markEndOfSegment(&bytes)
        #expect(bytes.withUnsafeBytes { SequencedRecord.decode($0) }?.endsSegment == true)
    }

    @Test func truncatedOrForeignBytesAreRejected() {
        let bytes = Self.record(activities: [Activity(category: .training, executedVND: 1)], key: [1], endsSegment: true).encoded()
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            #expect(Array(bytes.prefix(cut)).withUnsafeBytes { SequencedRecord.decode($0) } == nil)
        }
        #expect(Array("{\"schema\":1}".utf8).withUnsafeBytes { SequencedRecord.decode($0) } == nil)
    }

    /// Several records in one message: each comes back, and the pack's marker belongs to its last record only.
    @Test(arguments: [true, false])
    func packsRoundTrip(marked: Bool) {
        let records: [SequencedRecord] = [
            Self.record(activities: nil, key: Array("40".utf8), endsSegment: false),
            Self.record(activities: [Activity(category: .training, executedVND: 1)], key: Array("41".utf8), endsSegment: false),
            Self.record(activities: nil, key: nil, endsSegment: false),
        ]
        var w = BinaryWriter()
        SequencedPack.start(&w)
        for r in records {
            let encoded = r.encoded()  // format 1, as stage 1 writes it in place
            SequencedPack.add(&w) { w in w.bytes += encoded }
        }
        var bytes = w.bytes
        if marked { SequencedRecord.markEndOfSegment(&bytes) }
        let unpacked: [SequencedRecord] = bytes.withUnsafeBytes { SequencedPack.unpack($0) } ?? []
        #expect(unpacked.map { $0.update } == records.map { $0.update })
        #expect(unpacked.map { $0.origin } == records.map { $0.origin })
        #expect(unpacked.map { $0.endsSegment } == [false, false, marked])
        // A single record (format 1) is a message too. A cut pack never traps and never passes
        // for the whole (Kafka never delivers a cut message; this is about foreign bytes).
        #expect(records[0].encoded().withUnsafeBytes { SequencedPack.unpack($0) } == [records[0]])
        for cut in stride(from: 1, to: bytes.count, by: 11) {
            #expect((Array(bytes.prefix(cut)).withUnsafeBytes { SequencedPack.unpack($0) }?.count ?? 0) < records.count)
        }
    }

    @Test func segmentsEndAtMarkersWhateverThePollSlices() {
        var assembler = SegmentAssembler()
        let plain = Self.record(activities: nil, key: nil, endsSegment: false)
        let marker = Self.record(activities: nil, key: nil, endsSegment: true)
        var segments: [[Int64]] = []
        for (offset, record) in [plain, plain, marker, plain, marker, plain].enumerated() {
            if let s = assembler.append(.init(offset: Int64(offset), timestampMillis: Int64(100 + offset), record: record)) {
                segments.append(s.entries.map(\.offset))
                #expect(s.nextOffset == Int64(offset) + 1)
                #expect(s.timestampMillis == Int64(100 + offset))
            }
        }
        #expect(segments == [[0, 1, 2], [3, 4]])
        #expect(assembler.firstPendingOffset == 5)
        assembler.reset()
        #expect(assembler.firstPendingOffset == nil)
    }
}
