import Domain

/// Where provinces send their updates.
public enum InputTopicLayout: String, Sendable, Hashable, CaseIterable {
    /// One topic for every province (the contract's default): for trusted networks.
    case shared
    /// One topic per unit, `{input-topic}.{code}`, which the broker's ACLs let only that unit write;
    /// an update whose key or province is another unit's is rejected (`key_mismatch`).
    case perProvince = "per-province"
}

/// The worker's input topics: what it subscribes to, which topics are input, and, per topic, the
/// unit whose updates it may carry (none on the shared topic). `name` is the shared topic, or the
/// prefix of the per-province ones.
public struct InputTopics: Sendable, Hashable {
    public var name: String
    public var layout: InputTopicLayout

    public init(name: String, layout: InputTopicLayout) {
        self.name = name
        self.layout = layout
    }

    /// The subscription: the shared topic, or a regular expression (librdkafka treats a leading
    /// `^` as one) matching every `{name}.{two digits}`. librdkafka re-reads the cluster's topics
    /// every `topic.metadata.refresh.interval.ms` (5 minutes by default), so a unit's topic
    /// created later is read without a restart; the registries need not list it yet.
    public var subscription: String {
        switch layout {
        case .shared: name
        case .perProvince: "^" + Self.escapedForRegex(name) + "\\.[0-9]{2}$"
        }
    }

    /// Whether `topic` is one of the input topics.
    public func contains(_ topic: String) -> Bool {
        switch layout {
        case .shared: topic == name
        case .perProvince: unit(of: topic) != nil
        }
    }

    /// The unit code a per-province topic belongs to (`"49"` for `….v1.49`); nil for the shared
    /// topic and for any other topic.
    public func unit(of topic: String) -> String? {
        guard layout == .perProvince else { return nil }
        let bytes = Array(topic.utf8), prefix = Array(name.utf8)
        guard bytes.count == prefix.count + 3, bytes.starts(with: prefix), bytes[prefix.count] == UInt8(ascii: ".")
        else { return nil }
        let code = bytes[(prefix.count + 1)...]
        guard code.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return String(decoding: code, as: UTF8.self)
    }

    /// The topic of unit `code`.
    public func topic(ofUnit code: String) -> String {
        switch layout {
        case .shared: name
        case .perProvince: name + "." + code
        }
    }

    /// The topics to create: the shared one, or one per distinct code of both registries (63).
    public func names(registries: Registries) -> [String] {
        switch layout {
        case .shared: return [name]
        case .perProvince:
            let codes = Set(registries.r2004.units.map(\.code)).union(registries.r2025.units.map(\.code))
            return codes.sorted().map(topic(ofUnit:))
        }
    }

    /// Topic names allow `.`, `_` and `-` besides letters and digits (RunConfiguration checks
    /// it); each other byte is escaped too, so the prefix matches only itself.
    static func escapedForRegex(_ text: String) -> String {
        var out = ""
        for c in text {
            let plain = c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-")
            out += plain ? String(c) : "\\\(c)"
        }
        return out
    }
}
