/// The valid name closest to a misspelt one, for "did you mean …?" in configuration errors.
/// Hand-written: no maintained Swift package offers an edit distance, and it is a dozen lines.
enum ClosestName {
    /// The candidate with the smallest edit distance to `name`, if close enough to be a typo
    /// (at most a third of the name's length, and at least 2 edits allowed); ties go to the first.
    static func suggestion(for name: String, among candidates: [String]) -> String? {
        let limit = max(2, name.count / 3)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = distance(name.uppercased(), candidate.uppercased())
            if d <= limit, d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// " (did you mean X?)", or "" when nothing is close.
    static func hint(for name: String, among candidates: [String]) -> String {
        suggestion(for: name, among: candidates).map { " (did you mean \($0)?)" } ?? ""
    }

    /// Levenshtein distance over characters (insert, delete, substitute: 1 each).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
