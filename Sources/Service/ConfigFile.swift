import Yams

/// The optional YAML config file of `khuyencong run`: keys named like the long flags, plus a
/// `kafka:` map of librdkafka properties. Errors never quote the file (it may hold secrets).
struct ConfigFile: Sendable {
    var values: [RunSetting: String] = [:]
    var kafka = KafkaProperties()

    static func parse(_ text: String, path: String) throws(ConfigurationError) -> ConfigFile {
        let document: Any?
        do {
            // The basic resolver keeps every scalar a string: a password like 0123 stays 0123.
            document = try Yams.load(yaml: text, .basic)
        } catch let error as YamlError {
            throw ConfigurationError("config file \(path) is not valid YAML\(location(of: error)): fix its syntax")
        } catch {
            throw ConfigurationError("config file \(path) is not valid YAML: fix its syntax")
        }
        guard let document else { return ConfigFile() }
        guard let map = document as? [String: Any] else {
            throw ConfigurationError("config file \(path) must be a YAML mapping of option names to values")
        }
        var file = ConfigFile()
        for key in map.keys.sorted() {
            let keys = RunSetting.allCases.compactMap(\.fileKey)
            guard let option = RunSetting.allCases.first(where: { $0.fileKey == key }) else {
                let hint =
                    ClosestName.suggestion(for: key, among: keys).map { "did you mean \($0)?" }
                    ?? "known keys: \(keys.joined(separator: ", "))"
                throw ConfigurationError("config file \(path): unknown setting '\(key)' (\(hint))")
            }
            let raw = map[key]
            if option == .kafka {
                guard let properties = raw as? [String: Any] else {
                    throw ConfigurationError(
                        "config file \(path): 'kafka' must be a mapping of librdkafka property names to values")
                }
                for (name, v) in properties {
                    guard let scalar = scalarText(v) else {
                        throw ConfigurationError("config file \(path): kafka property '\(name)' must be a single value")
                    }
                    file.kafka.set(name, scalar, from: "kafka: \(name) in the config file \(path)")
                }
            } else {
                guard let scalar = scalarText(raw) else {
                    throw ConfigurationError("config file \(path): '\(key)' must be a single value")
                }
                file.values[option] = scalar
            }
        }
        return file
    }

    private static func scalarText(_ value: Any?) -> String? {
        value as? String
    }

    private static func location(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            " (line \(mark.line): \(problem))"
        case .duplicatedKeysInMapping(let duplicates, _):
            " (duplicate keys: \(duplicates.joined(separator: ", ")))"
        default:
            ""
        }
    }
}
