import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The `khuyencong` executable built beside the test bundle, run as a child process. Output goes
/// to files, not pipes: a pipe read interrupted by a signal (EINTR) traps in Foundation.
final class ChildProcess: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    static var executable: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("khuyencong")
    }

    init(_ arguments: [String], environment: [String: String] = [:], executable: URL = ChildProcess.executable) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("khuyencong-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stdoutURL = dir.appendingPathComponent("stdout")
        stderrURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KHUYENCONG_") }
            .merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// The first line of standard output.
    func firstLine(within limit: Duration) async throws -> String {
        try await eventually("the first line of standard output", within: limit) {
            guard process.isRunning else {
                throw Failure(description: "exited \(process.terminationStatus): \(stderr)")
            }
            return stdout.contains("\n")
        }
        return String(stdout.prefix { $0 != "\n" })
    }

    /// The exit status, waiting (bounded) for the child to end.
    func exitStatus(within limit: Duration) async throws -> Int32 {
        try await eventually("exit", within: limit) { !process.isRunning }
        return process.terminationStatus
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }
}

/// A loopback port nobody listens on right now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw ChildProcess.Failure(description: "no free port: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
