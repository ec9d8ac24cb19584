import Foundation
import Testing
@testable import Domain

/// Bad registry files are refused with the file, the line and the problem.
@Suite struct RegistryFileTests {
    static let good2004 = (try? String(contentsOfFile: Registries.bundledPath("provinces-2004"), encoding: .utf8)) ?? ""
    static let good2025 = (try? String(contentsOfFile: Registries.bundledPath("provinces-2025"), encoding: .utf8)) ?? ""

    /// Writes both files into a fresh directory and loads them.
    func load(_ text2004: String, _ text2025: String) -> (error: RegistryFileError?, dir: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let f2004 = dir + "/p2004.csv", f2025 = dir + "/p2025.csv"
        _ = FileManager.default.createFile(atPath: f2004, contents: Data(text2004.utf8))
        _ = FileManager.default.createFile(atPath: f2025, contents: Data(text2025.utf8))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try Registries.load(file2004: f2004, file2025: f2025)
            return (nil, dir)
        } catch {
            return (error, dir)
        }
    }

    /// The line number (1-based) of the line starting with `prefix`.
    func line(of prefix: String, in text: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix(prefix) } ?? -1) + 1
    }

    @Test func bundledFilesPass() {
        #expect(load(Self.good2004, Self.good2025).error == nil)
    }

    @Test func predecessorNotIn2004() {
        let bad = Self.good2025.replacing("08,Tuyên Quang,02+08,bac", with: "08,Tuyên Quang,02+08+28,bac")
        let (e, dir) = load(Self.good2004, bad)
        #expect(e?.file == dir + "/p2025.csv")
        #expect(e?.line == line(of: "08,", in: bad))
        #expect(e?.problem == "unit 08: predecessor 28 is not a unit of the 2004 registry (\(dir)/p2004.csv)")
    }

    @Test func unitNotAbsorbed() {
        let bad = Self.good2025.replacing("08,Tuyên Quang,02+08,bac", with: "08,Tuyên Quang,08,bac")
        let (e, dir) = load(Self.good2004, bad)
        #expect(e?.file == dir + "/p2004.csv")
        #expect(e?.line == line(of: "02,", in: Self.good2004))
        #expect(e?.problem == "unit 02 (Hà Giang) is not absorbed by any 2025 unit (\(dir)/p2025.csv)")
    }

    @Test func unitAbsorbedTwice() {
        let bad = Self.good2025.replacing("11,Điện Biên,11,bac", with: "11,Điện Biên,11+02,bac")
        let (e, dir) = load(Self.good2004, bad)
        #expect(e?.file == dir + "/p2025.csv")
        #expect(e?.line == line(of: "11,", in: bad))
        #expect(e?.problem == "unit 11: predecessor 02 is already absorbed by unit 08")
    }

    @Test func predecessorListedTwice() {
        let bad = Self.good2025.replacing("08,Tuyên Quang,02+08,bac", with: "08,Tuyên Quang,02+08+02,bac")
        let (e, _) = load(Self.good2004, bad)
        #expect(e?.line == line(of: "08,", in: bad))
        #expect(e?.problem == "unit 08 lists predecessor 02 twice")
    }

    @Test(arguments: [
        ("02,Hà Giang,bac", "2,Hà Giang,bac", "code '2' is not 2 digits"),
        (
            "02,Hà Giang,bac", "02,Hà Giang,north",
            "unknown region 'north' (expected bac, mien-trung-tay-nguyen or "
                + "nam)"
        ),
        ("02,Hà Giang,bac", "02,Hà Giang", "expected 3 columns, found 2"),
        ("02,Hà Giang,bac", "01,Hà Giang,bac", "duplicate code 01"),
        ("02,Hà Giang,bac", "02,,bac", "empty name"),
    ])
    func bad2004Lines(_ good: String, _ bad: String, _ problem: String) {
        let text = Self.good2004.replacing(good, with: bad)
        let (e, dir) = load(text, Self.good2025)
        #expect(e?.file == dir + "/p2004.csv")
        #expect(e?.line == line(of: "02,Hà Giang", in: Self.good2004))
        #expect(e?.problem == problem)
    }

    @Test func bad2025PredecessorSyntax() {
        let bad = Self.good2025.replacing("08,Tuyên Quang,02+08,bac", with: "08,Tuyên Quang,02;08,bac")
        let (e, _) = load(Self.good2004, bad)
        #expect(e?.line == line(of: "08,", in: bad))
        #expect(e?.problem == "predecessors '02;08' must be 2-digit codes joined by '+'")
    }

    @Test func badHeaderAndMissingFile() {
        let (e, _) = load(
            "ma,ten,vung\n" + Self.good2004.split(separator: "\n").dropFirst().joined(separator: "\n"), Self.good2025)
        #expect(e?.line == 1)
        #expect(e?.problem == "header must be code,name,region, found ma,ten,vung")
        do {
            _ = try Registries.load(file2004: "/nonexistent/p2004.csv")
            Issue.record("a missing file must fail")
        } catch {
            #expect(error.file == "/nonexistent/p2004.csv")
            #expect(error.problem == "cannot read the file")
        }
    }

    @Test func restatementFollowsPredecessors() throws {
        let r = try Registries.load()
        for unit in r.r2004.units {
            let successor = try #require(r.successor2025(of: unit.code))
            #expect(successor.predecessors.contains(unit.code))
            #expect(r.restated2025(unit.code)?.code == successor.code)
            #expect(r.restated2025(unit.code)?.region == successor.region)
        }
        #expect(r.restated2025("49")?.code == "48")  // Quảng Nam → Đà Nẵng
        #expect(r.restated2025("28") == nil)
    }
}
