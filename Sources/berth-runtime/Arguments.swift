/// runc-style command lines: `berth-runtime [global flags] command [flags] args...`.
/// Flags take `--name value`, `--name=value` or `-n value`; booleans take no value; flags end
/// at the first argument that is not one (or at `--`), as with runc.
struct Arguments {
    struct Flag {
        let names: [String]
        let takesValue: Bool
        let repeatable: Bool
        init(_ names: String..., value: Bool = true, repeatable: Bool = false) {
            self.names = names
            self.takesValue = value
            self.repeatable = repeatable
        }
    }

    private(set) var values: [String: [String]] = [:]
    private(set) var positional: [String] = []

    /// Parses `args` against `flags`; the key of each value is the flag's first name.
    init(_ args: ArraySlice<String>, flags: [Flag], stopAtPositional: Bool = true) throws {
        var rest = args[...]
        while let arg = rest.first {
            if arg == "--" {
                rest = rest.dropFirst()
                break
            }
            guard arg.hasPrefix("-"), arg.count > 1 else {
                if stopAtPositional { break }
                positional.append(arg)
                rest = rest.dropFirst()
                continue
            }
            rest = rest.dropFirst()
            let body = arg.drop(while: { $0 == "-" })
            let name: Substring
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = body[..<equals]
                inlineValue = String(body[body.index(after: equals)...])
            } else {
                name = body
            }
            guard let flag = flags.first(where: { $0.names.contains(String(name)) }) else {
                throw UsageError("flag provided but not defined: -\(name)")
            }
            let key = flag.names[0]
            if flag.takesValue {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else if let next = rest.first {
                    value = next
                    rest = rest.dropFirst()
                } else {
                    throw UsageError("flag needs an argument: -\(name)")
                }
                values[key, default: []].append(value)
            } else {
                if let inlineValue, inlineValue != "true" && inlineValue != "false" {
                    throw UsageError("invalid boolean value \"\(inlineValue)\" for -\(name)")
                }
                values[key] = [inlineValue ?? "true"]
            }
        }
        positional.append(contentsOf: rest)
    }

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func bool(_ name: String) -> Bool { values[name]?.last == "true" }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
