import Foundation

/// Runs `python3` for the tests' independent checks. Standard input and output go through files,
/// not pipes: a read from a pipe interrupted by a signal (EINTR) traps in Foundation.
public enum Python {
    public struct Run {
        public var status: Int32
        public var output: Data
        public var errors: String
    }

    /// A fresh scratch directory for the duration of `body`, for the files a script reads or writes.
    public static func withScratchDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("python-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }

    /// `python3 arguments…` with `input` on standard input, waiting for it to exit.
    public static func run(_ arguments: [String], input: Data = Data(), scratch dir: URL) throws -> Run {
        let inURL = dir.appendingPathComponent("stdin"), outURL = dir.appendingPathComponent("stdout")
        let errURL = dir.appendingPathComponent("stderr")
        try input.write(to: inURL)
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, output: try Data(contentsOf: outURL),
            errors: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
