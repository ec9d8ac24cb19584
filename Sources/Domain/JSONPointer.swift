/// RFC 6901 JSON Pointer helpers.
public enum JSONPointer {
    /// Escapes one reference token: `~` → `~0`, `/` → `~1`.
    public static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        return token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// A pointer built token by token, from the root down, that stops growing at `limit` bytes:
    /// a rejected record quotes at most that much of it, whatever the input's depth or names.
    /// A cut pointer ends with "…" (cut on a character boundary, never inside `~0`/`~1`), so it
    /// still has the pointer form and shows that it was cut.
    struct Builder {
        let limit: Int
        private(set) var bytes: [UInt8] = []
        /// Set once a token did not fit: later tokens are ignored.
        private(set) var isCut = false

        init(limit: Int) {
            self.limit = limit
            bytes.reserveCapacity(limit + 3)
        }

        mutating func append(index: Int) {
            append(token: Array(String(index).utf8))
        }

        /// Appends `/` and the escaped token (unescaped UTF-8).
        mutating func append(token: some Collection<UInt8>) {
            guard !isCut else { return }
            if !put(UInt8(ascii: "/")) { return cut() }
            for b in token {
                let fits: Bool
                switch b {
                case UInt8(ascii: "~"): fits = put(UInt8(ascii: "~"), UInt8(ascii: "0"))
                case UInt8(ascii: "/"): fits = put(UInt8(ascii: "~"), UInt8(ascii: "1"))
                default: fits = put(b)
                }
                if !fits { return cut() }
            }
        }

        /// Appends the bytes (one character's or one escape's) only when they all fit.
        private mutating func put(_ a: UInt8, _ b: UInt8? = nil) -> Bool {
            guard bytes.count + (b == nil ? 1 : 2) <= limit else { return false }
            bytes.append(a)
            if let b { bytes.append(b) }
            return true
        }

        private mutating func cut() {
            bytes.removeLast(bytes.count - RejectionText.characterBoundary(bytes, atMost: bytes.count))
            bytes += Array("…".utf8)
            isCut = true
        }

        var string: String { String(decoding: bytes, as: UTF8.self) }
    }
}
