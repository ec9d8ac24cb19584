import Domain
@testable import Pipeline
import Testing

@Suite struct SequencedRecordTests {
    static func update(province: String, full: Bool) -> ExecutionUpdate {
        ExecutionUpdate(
            reportID: "r-1:a.b", province: province, fiscalYear: 2022,
            periodEnd: YearMonth(year: 2022, month: full ? 7 : 12),
            source: full ? .kcdp : .kcqg, status: full ? .actual : .estimate, planVND: 1_000_000_000_000_000,
            executedVND: full ? 0 : 5,
            revision: full ? 9_007_199_254_740_991 : 1, reportedAt: "2022-08-01T09:00:00+07:00",
            advancedVND: full ? 5 : nil,
            activities: full ? [Activity(category: .tradePromotion, executedVND: 0, projects: 2)] : nil,
            consulting: full ? Consulting(projects: 3, revenueVND: 7) : nil)
    }

    /// (update, partition, offset, timestamp, payload) of one record to pack.
    typealias Input = (update: ExecutionUpdate, partition: Int32, offset: Int64, timestamp: Int64, payload: [UInt8])

    static let inputs: [Input] = [
        (update(province: "49", full: true), 63, 1 << 40, 1_700_000_000_123, Array("{\"x\":1}".utf8)),
        (update(province: "01", full: false), 0, 0, 0, []),
        (update(province: "96", full: true), 5, 17, -1, Array(repeating: 0x7B, count: 70_000)),
    ]

    static func pack(_ inputs: [Input], topic: String = "khuyencong.execution-updates.v1", marked: Bool) -> [UInt8] {
        var bytes = SequencedPack.seal(body(inputs, topic: topic))
        if marked { SequencedPack.markEndOfSegment(&bytes) }
        return bytes
    }

    /// A pack's body before it is sealed (compressed): its topic, then its records.
    static func body(_ inputs: [Input], topic: String = "khuyencong.execution-updates.v1") -> [UInt8] {
        var w = BinaryWriter()
        SequencedPack.start(&w, topic: topic)
        for i in inputs {
            SequencedPack.add(&w) { w in
                i.payload.withUnsafeBytes { p in
                    SequencedRecord.encode(
                        ReportFacts(i.update), partition: i.partition, offset: i.offset, timestampMillis: i.timestamp,
                        payload: p, into: &w)
                }
            }
        }
        return w.bytes
    }

    /// Every record comes back with its facts (digest included), origin and payload; the pack's
    /// marker belongs to its last record only.
    @Test(arguments: [true, false])
    func packsRoundTrip(marked: Bool) throws {
        let bytes = Self.pack(Self.inputs, marked: marked)
        let records = try #require(bytes.withUnsafeBytes { SequencedPack.unpack($0) })
        #expect(records.map(\.facts) == Self.inputs.map { ReportFacts($0.update) })
        #expect(records.map(\.facts.digest) == Self.inputs.map { ReportFacts($0.update).digest })
        #expect(records.map { Array($0.payload) } == Self.inputs.map(\.payload))
        #expect(
            records.map(\.origin)
                == Self.inputs.map {
                    InputOrigin(
                        topic: "khuyencong.execution-updates.v1", partition: $0.partition, offset: $0.offset,
                        key: Array($0.update.province.utf8), timestampMillis: $0.timestamp)
                })
        #expect(records.map(\.endsSegment) == [false, false, marked])
    }

    /// Kafka never delivers a cut message; this is about foreign bytes: never a trap, never the whole.
    @Test func cutOrForeignBytesAreRejected() {
        let bytes = Self.pack(Array(Self.inputs.prefix(2)), marked: true)
        for cut in 0..<bytes.count {
            #expect((Array(bytes.prefix(cut)).withUnsafeBytes { SequencedPack.unpack($0) }?.count ?? 0) < 2)
        }
        // Appending into a batch's array: a pack that fails midway leaves the array as it was.
        let whole = bytes.withUnsafeBytes { SequencedPack.unpack($0) } ?? []
        for cut in 1..<bytes.count {
            var batch = [0]
            let complete = Array(bytes.prefix(cut)).withUnsafeBytes {
                SequencedPack.unpack($0, into: &batch) { _ in 1 }
            }
            #expect(complete ? batch.count > 1 && batch.count <= whole.count + 1 : batch == [0])
        }
        var batch = [0]
        #expect(bytes.withUnsafeBytes { SequencedPack.unpack($0, into: &batch) { Int($0.offset) } })
        #expect(batch == [0] + whole.map { Int($0.offset) })
        #expect(Array("{\"schema\":1}".utf8).withUnsafeBytes { SequencedPack.unpack($0) } == nil)
        // Earlier formats (1: a single record, 2: a pack of them) are not read; 3 (below) is.
        for version: UInt8 in [1, 2] {
            var old = bytes
            old[0] = version
            #expect(old.withUnsafeBytes { SequencedPack.unpack($0) } == nil)
        }
    }

    /// A pack is compressed (the bench's updates repeat their member names), and format 3, the
    /// same body uncompressed, is still read: a log written before stage 1 compressed is not lost.
    @Test func packsAreCompressedAndTheUncompressedFormatIsRead() throws {
        let repeated = Array(repeating: Self.inputs[0], count: 200)
        let sealed = Self.pack(repeated, marked: true)
        let records = try #require(sealed.withUnsafeBytes { SequencedPack.unpack($0) })
        #expect(records.count == 200)
        let body = Self.body(repeated)
        #expect(sealed.count * 4 < body.count)
        let formatThree = [SequencedPack.uncompressedFormatVersion, SequencedPack.endsSegmentFlag] + body
        let old = try #require(formatThree.withUnsafeBytes { SequencedPack.unpack($0) })
        #expect(old == records)
        // A compressed body that does not decompress to its stated length is no pack.
        var lying = sealed
        lying[2] ^= 1
        #expect(lying.withUnsafeBytes { SequencedPack.unpack($0) } == nil)
    }

    @Test func segmentsEndAtMarkersWhateverThePollSlices() throws {
        let one = Array(Self.inputs.prefix(1))
        let plain = try #require(Self.pack(one, marked: false).withUnsafeBytes { SequencedPack.unpack($0) }?.first)
        let marker = try #require(Self.pack(one, marked: true).withUnsafeBytes { SequencedPack.unpack($0) }?.first)
        var assembler = SegmentAssembler()
        var segments: [[Int64]] = []
        for (offset, record) in [plain, plain, marker, plain, marker, plain].enumerated() {
            let entry = SegmentAssembler.Entry(
                offset: Int64(offset), timestampMillis: Int64(100 + offset), record: record)
            for s in assembler.append(contentsOf: [entry]) {
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
