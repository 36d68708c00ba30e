/// Sizes written the way Docker's go-units reads them ("10m", "1.5GB", "512KiB", "100"):
/// log options take them from users, so Berth reads them alike and fails with the same words.
enum GoUnitsSize {
    /// FromHumanSize: k = 1000 (what json-file's max-size uses).
    static func decimal(_ text: String) throws(SizeError) -> Int64 { try parse(text, multiple: 1000) }
    /// RAMInBytes: k = 1024 (what max-buffer-size uses).
    static func binary(_ text: String) throws(SizeError) -> Int64 { try parse(text, multiple: 1024) }

    struct SizeError: Error { let message: String }

    private static func parse(_ text: String, multiple: Double) throws(SizeError) -> Int64 {
        // The number runs to the last digit, dot or space; a space before the unit is dropped.
        let characters = Array(text)
        guard let last = characters.lastIndex(where: { $0.isASCII && ($0.isNumber || $0 == "." || $0 == " ") }) else {
            throw SizeError(message: "invalid size: '\(text)'")
        }
        let number = characters[last] == " " ? String(characters[..<last]) : String(characters[...last])
        var suffix = String(characters[(last + 1)...]).lowercased()
        guard let value = Double(number), number.allSatisfy({ !$0.isWhitespace }) else {
            throw SizeError(message: "strconv.ParseFloat: parsing \"\(number)\": invalid syntax")
        }
        guard value >= 0 else { throw SizeError(message: "invalid size: '\(text)'") }
        if suffix.isEmpty { return Int64(value) }
        let badSuffix = SizeError(message: "invalid suffix: '\(suffix)'")
        guard suffix.count <= 3 else { throw badSuffix }
        if suffix.first == "b" {
            guard suffix.count == 1 else { throw badSuffix }
            return Int64(value)
        }
        let powers: [Character: Double] = ["k": 1, "m": 2, "g": 3, "t": 4, "p": 5]
        guard let power = powers[suffix.removeFirst()] else { throw badSuffix }
        // What may follow the unit: nothing, "b", or "ib".
        guard suffix.isEmpty || suffix == "b" || suffix == "ib" else { throw badSuffix }
        var scale = 1.0
        for _ in 0..<Int(power) { scale *= multiple }
        return Int64(value * scale)
    }
}
