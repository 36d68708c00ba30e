/// How `docker network ls` matches its `name` and `id` filters, as dockerd's filters do:
/// a value equal to the field, or a regular expression found anywhere in it (so `name=^x$`
/// is one network and `name=x` any whose name holds an x). A value that is no valid
/// expression matches only by equality, as dockerd skips what Go's regexp cannot compile.
enum FilterPattern {
    static func matches(_ patterns: [String], _ field: String) -> Bool {
        patterns.contains { pattern in
            if pattern == field { return true }
            // Swift's own regex engine: NSRegularExpression would load ICU into the daemon.
            guard let expression = try? Regex(pattern) else { return false }
            return field.firstMatch(of: expression) != nil
        }
    }
}
