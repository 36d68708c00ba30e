import BerthEngine
import BerthOCI

/// Query values read as dockerd's handlers read them (httputils' BoolValue and Uint32Value,
/// strconv.Atoi), with Go's error words. SDKs send values the CLI never does ("no", "-1",
/// huge numbers), and scripts check the answer's status and text.
extension APIRequest {
    /// dockerd's BoolValue: "", "0", "no", "false" and "none" (any case, spaces trimmed) are
    /// false; anything else that is present is true.
    func flag(_ name: String) -> Bool {
        guard let value = queryValue(name) else { return false }
        return !Self.falseWords.contains(value.trimmed().lowercased())
    }

    /// BoolValueOrDefault: the default only when the key is absent; `stream=` is false.
    func flag(_ name: String, default defaultValue: Bool) -> Bool {
        query[name] == nil ? defaultValue : flag(name)
    }

    static let falseWords: Set<String> = ["", "0", "no", "false", "none"]

    /// The `signal` of stop and restart: API 1.42 added it, and dockerd ignores it from
    /// older clients (docker-py and compose speak 1.41).
    var stopSignal: String? {
        guard !speaksBefore(1, 42), let signal = queryValue("signal"), !signal.isEmpty else { return nil }
        return signal
    }

    /// strconv.Atoi on a value dockerd passes on as it failed: its error is no errdefs type,
    /// so the answer is a 500 with Go's words (`stop?t=x`, `containers/json?limit=x`).
    func atoi(_ name: String) throws -> Int? {
        guard let text = queryValue(name), !text.isEmpty else { return nil }
        if let value = Int(text) { return value }
        throw BerthError.internalError(GoStrconv.numberError("Atoi", text))
    }

    /// httputils.Uint32Value for a terminal size: required, no sign, at most 2^32-1; dockerd's
    /// words `invalid resize height "x": invalid syntax`.
    func resizeDimension(_ name: String, word: String) throws -> Int {
        let text = queryValue(name) ?? ""
        let isNegative = text.hasPrefix("-")
        let digits = isNegative ? String(text.dropFirst()) : text
        let reason: String
        if digits.isEmpty || digits.hasPrefix("+") || !digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            reason = "invalid syntax"
        } else if let value = UInt32(digits) {
            // A terminal's size is 16 bits: Go's uint16 conversion keeps the low ones.
            if !isNegative { return Int(value & 0xFFFF) }
            reason = "value out of range"
        } else {
            reason = "value out of range"
        }
        throw BerthError.invalidArgument("invalid resize \(word) \(GoStrconv.quote(text)): \(reason)")
    }
}
