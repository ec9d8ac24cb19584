import Foundation

/// Validates JSON documents against the JSON Schemas in `Schemas/` with Python's `jsonschema`
/// (Draft202012Validator, format checking on, so `date-time` is checked). Many documents go
/// through one `python3` run. Any test target can depend on this module (`SchemaTestSupport`).
public enum SchemaValidation {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The repository root, found from this file's path (Tests/SchemaTestSupport/SchemaValidation.swift).
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    public static func schemaPath(_ schemaFile: String) -> String {
        schemaFile.hasPrefix("/")
            ? schemaFile : repoRoot.appendingPathComponent("Schemas").appendingPathComponent(schemaFile).path
    }

    /// For each (document, schema file) the list of violations; empty when valid. A document
    /// that is not JSON gets one violation starting with "not JSON".
    public static func violations(_ documents: [(json: [UInt8], schemaFile: String)]) async throws -> [[String]] {
        guard !documents.isEmpty else { return [] }
        let request = documents.map {
            ["schema": schemaPath($0.schemaFile), "document": Data($0.json).base64EncodedString()]
        }
        let input = try JSONSerialization.data(withJSONObject: request)
        let run = try await Python.run(["-c", script], input: input)
        guard run.status == 0,
            let result = try JSONSerialization.jsonObject(with: run.output) as? [[String]],
            result.count == documents.count
        else {
            throw Failure(
                description: "python3 jsonschema failed (\(run.status)); it needs python3 with "
                    + "jsonschema and rfc3339-validator (pip install jsonschema rfc3339-validator): \(run.errors)")
        }
        return result
    }

    /// Throws when `json` does not conform to `schemaFile` (a name in `Schemas/` or a path).
    public static func validate(_ json: [UInt8], against schemaFile: String) async throws {
        let v = try await violations([(json, schemaFile)])
        if let first = v.first, !first.isEmpty {
            throw Failure(description: "\(schemaFile): " + first.joined(separator: "; "))
        }
    }

    private static let script = #"""
        import base64, json, sys
        from jsonschema import Draft202012Validator
        cache = {}
        def validator(path):
            if path not in cache:
                with open(path, encoding="utf-8") as f:
                    schema = json.load(f)
                Draft202012Validator.check_schema(schema)
                cache[path] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            return cache[path]
        out = []
        for item in json.load(sys.stdin):
            raw = base64.b64decode(item["document"])
            try:
                doc = json.loads(raw.decode("utf-8"))
            except Exception as e:
                out.append(["not JSON: %s" % e])
                continue
            errors = sorted(validator(item["schema"]).iter_errors(doc), key=lambda e: list(e.absolute_path))
            out.append(["%s: %s" % ("/" + "/".join(str(p) for p in e.absolute_path), e.message) for e in errors])
        json.dump(out, sys.stdout)
        """#
}

/// Throws when `json` does not conform to `schemaFile` in `Schemas/`.
public func validate(_ json: [UInt8], against schemaFile: String) async throws {
    try await SchemaValidation.validate(json, against: schemaFile)
}
