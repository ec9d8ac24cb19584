import Foundation

/// Runs `python3` for the tests' independent checks. Standard input and output go through files,
/// not pipes: a read from a pipe interrupted by a signal (EINTR) traps in Foundation.
public enum Python {
    public struct Run: Sendable {
        public var status: Int32
        public var output: Data
        public var errors: String

        /// Standard output as text.
        public var text: String { String(decoding: output, as: UTF8.self) }
    }

    /// A fresh scratch directory for the duration of `body`, for the files a script reads or writes.
    public static func withScratchDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("python-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try await body(dir)
    }

    /// `python3 arguments…` with `input` on standard input, until it exits.
    public static func run(_ arguments: [String], input: Data = Data()) async throws -> Run {
        try await withScratchDirectory { try await run(arguments, input: input, scratch: $0) }
    }

    /// `python3 arguments…` with `input` on standard input, until it exits; its files in `dir`.
    ///
    /// The wait holds no thread. The suite's cooperative pool has one thread per core, and a
    /// `waitUntilExit` there blocked it: on 2 cores two schema checks at once stalled every
    /// in-process worker and HTTP server of the parallel suite for tens of seconds.
    public static func run(_ arguments: [String], input: Data = Data(), scratch dir: URL) async throws -> Run {
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
        let status = try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { exited.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                exited.resume(throwing: error)
            }
        }
        return Run(
            status: status, output: try Data(contentsOf: outURL),
            errors: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
