import Testing
@testable import Domain

@Suite struct JSONWriterTests {
    @Test func writesMembersInOrderWithCommas() {
        var w = JSONWriter()
        w.beginObject()
        w.key("b"); w.int(1)
        w.key("a"); w.beginArray(); w.int(Int64(-2)); w.string(nil); w.bool(true); w.beginObject(); w.endObject();
        w.endArray()
        w.key("e"); w.beginArray(); w.endArray()
        w.key("n"); w.null()
        w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"{"b":1,"a":[-2,null,true,{}],"e":[],"n":null}"#)
    }

    @Test func escapesStringsAndKeepsUnicode() {
        var w = JSONWriter()
        w.string("a\"b\\c\n\t\u{01}Cả nước – ~/")
        #expect(String(decoding: w.bytes, as: UTF8.self) == #""a\"b\\c\n\t\u0001Cả nước – ~/""#)
    }

    @Test(arguments: [
        (2844, "28.44"), (0, "0.00"), (5, "0.05"), (-5, "-0.05"), (-1234, "-12.34"), (100, "1.00"), (10000, "100.00"),
    ])
    func decimal2(hundredths: Int, expected: String) {
        var w = JSONWriter()
        w.decimal2(hundredths: hundredths)
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
    }

    @Test func nilDecimalIsNull() {
        var w = JSONWriter()
        w.beginArray(); w.decimal2(hundredths: Int?.none); w.int(Int?.none); w.raw("{\"x\":1}".utf8); w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"[null,null,{"x":1}]"#)
    }
}
