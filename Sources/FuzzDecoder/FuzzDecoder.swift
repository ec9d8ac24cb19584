import Domain
import Foundation

/// The decoder and validator under libFuzzer (`make fuzz`, docs/FUZZING.md): every input must
/// keep `DecoderInvariants`; a broken one stops the fuzzer with the input saved as a crash.
/// Built with `-sanitize=fuzzer,address -D FUZZING`, `main` hands over to libFuzzer's driver
/// (SwiftPM links an executable's `main` under its own name, so libFuzzer's `main` cannot
/// be used). A plain build's `main` checks the files given as arguments (a crash's input, or
/// a corpus) without the sanitizers.
enum FuzzTarget {
    static let decoder: ExecutionUpdateDecoder = {
        do {
            return ExecutionUpdateDecoder(registries: try Registries.load())
        } catch {
            fatalError("registries: \(error)")
        }
    }()

    static func check(_ input: [UInt8]) -> [String] {
        DecoderInvariants.violations(input, decoder: decoder)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let problems = FuzzTarget.check(input)
    if !problems.isEmpty { fatalError(problems.joined(separator: "\n")) }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzDecoder))
    }
}
#else
@main
struct ReplayInputs {
    static func main() {
        var failed = 0
        var paths = Array(CommandLine.arguments.dropFirst())
        if paths.isEmpty { print("usage: FuzzDecoder FILE|DIRECTORY …  (checks each input as the fuzz target does)") }
        while let path = paths.first {
            paths.removeFirst()
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                paths += names.sorted().map { path + "/" + $0 }
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read")
                failed += 1
                continue
            }
            let problems = FuzzTarget.check(Array(data))
            if !problems.isEmpty {
                failed += 1
                print("\(path):\n  " + problems.joined(separator: "\n  "))
            }
        }
        exit(failed == 0 ? 0 : 1)
    }
}
#endif
