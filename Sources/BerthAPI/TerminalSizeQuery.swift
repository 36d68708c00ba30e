import BerthOCI

/// The `h` and `w` of a resize (container or exec), read as dockerd reads them: both are
/// required and parsed with Go's strconv.Atoi, whose error text is the 400's message.
extension APIRequest {
    func terminalDimension(_ name: String) throws -> Int {
        let text = queryValue(name) ?? ""
        if let value = Int(text) { return value }
        let digits = text.first == "+" || text.first == "-" ? text.dropFirst() : Substring(text)
        let reason = !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) ? "value out of range" : "invalid syntax"
        // Go's %q of the text: quotes and backslashes escaped.
        let quoted = "\"" + text.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : String($0) }.joined() + "\""
        throw BerthError.invalidArgument("strconv.Atoi: parsing \(quoted): \(reason)")
    }
}
