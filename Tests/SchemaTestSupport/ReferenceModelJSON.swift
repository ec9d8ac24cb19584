/// How Tests/Oracle/reference_model.py writes numbers, for comparing JSON against its output.
public enum ReferenceModelJSON {
    /// The JSON text with every number that has a fraction or exponent turned into the string
    /// "#num:<text>" (trailing fraction zeros dropped): compared exactly, never through Double.
    public static func markingFractions(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], i = 0, inString = false
        while i < json.count {
            let b = json[i]
            if inString {
                out.append(b)
                if b == UInt8(ascii: "\\"), i + 1 < json.count {
                    out.append(json[i + 1]); i += 1
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                i += 1
            } else if b == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) {
                var j = i
                while j < json.count, "+-.eE0123456789".utf8.contains(json[j]) { j += 1 }
                var token = String(decoding: json[i..<j], as: UTF8.self)
                if token.contains(where: { ".eE".contains($0) }) {
                    if token.contains("."), !token.contains(where: { "eE".contains($0) }) {
                        while token.hasSuffix("0") { token.removeLast() }
                        if token.hasSuffix(".") { token.removeLast() }
                    }
                    out += Array("\"#num:\(token)\"".utf8)
                } else {
                    out += json[i..<j]
                }
                i = j
            } else {
                if b == UInt8(ascii: "\"") { inString = true }
                out.append(b)
                i += 1
            }
        }
        return out
    }
}
