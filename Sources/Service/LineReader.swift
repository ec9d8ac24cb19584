import Foundation

/// Reads a file's lines as bytes, in chunks, without loading the whole file. A trailing `\r`
/// is dropped (files written on Windows); line numbers count every line, blank ones included.
public struct LineReader: Sequence, IteratorProtocol {
    public typealias Element = (number: Int, bytes: [UInt8])

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var number = 0
    private var atEnd = false

    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
    }

    public mutating func next() -> Element? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<newline])
                start = newline + 1
                if line.last == 0x0D { line.removeLast() }
                number += 1
                return (number, line)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                var line = Array(buffer[start...])
                start = buffer.count
                if line.last == 0x0D { line.removeLast() }
                number += 1
                return (number, line)
            }
            buffer.removeFirst(start)
            start = 0
            let chunk = (try? handle.read(upToCount: 1 << 20)) ?? nil
            if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
        }
    }

    /// Number of lines in the file (for progress), counted without splitting them.
    public static func countLines(path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var count = 0
        var last: UInt8 = 0x0A
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            count += chunk.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
            last = chunk.last ?? last
        }
        return last == 0x0A ? count : count + 1
    }
}

/// The Kafka key of an input line: its `province` member when the line is a JSON object with a
/// string `province`; otherwise nil — the line is still sent, with no key, so the worker
/// rejects it visibly (as `malformed_json`, `schema_mismatch`, `missing_field` or `invalid_field`).
public enum InputKey {
    public static func of(_ line: [UInt8]) -> [UInt8]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let province = object["province"] as? String
        else { return nil }
        return Array(province.utf8)
    }

    /// Lines with nothing but whitespace are skipped by `produce` and `validate`.
    public static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }
}
