import BerthOCI

/// dockerd's start-up refusals of daemon.json values Berth reads or only accepts, in
/// dockerd's words: a value it cannot decode stops it with the file's name, one its
/// validation refuses with "merged configuration validation ... failed", a default bridge
/// address it cannot parse as "Error initializing network controller", and log options the
/// default driver refuses as "failed to set log opts".
extension DaemonOptions {
    /// The checks of keys Berth accepts without using them yet (`path`: the file, named in
    /// the message as dockerd names it).
    static func checkAcceptedValue(_ key: String, _ value: Any, path: String) throws {
        let prefix = "unable to configure the Berth daemon with file \(path): "
        let validation = prefix + "merged configuration validation from file and command line flags failed: "
        let invalid = Failure(prefix + "invalid value for \(key): \(describe(value))")
        switch key {
        case "dns":
            guard let list = value as? [String] else { throw invalid }
            // An empty string decodes as no address.
            for text in list where !text.isEmpty {
                if let error = GoAddressParsing.parseAddrError(text) { throw Failure(prefix + error) }
            }
        case "dns-search":
            guard let list = value as? [String] else { throw invalid }
            for domain in list where !isDNSSearchDomain(domain) {
                throw Failure(validation + "\(domain) is not a valid domain")
            }
        case "labels":
            guard let list = value as? [String] else { throw invalid }
            for label in list where !label.contains("=") {
                throw Failure(validation + "bad attribute format: \(label)")
            }
        case "max-concurrent-downloads", "max-concurrent-uploads":
            guard let number = value as? Int, !(value is Bool) else { throw invalid }
            if number < 0 {
                let what = key == "max-concurrent-downloads" ? "downloads" : "uploads"
                throw Failure(validation + "invalid max concurrent \(what): \(number)")
            }
        case "fixed-cidr":
            guard let text = value as? String else { throw invalid }
            if !text.isEmpty && !GoAddressParsing.isCIDR(text) {
                throw Failure("failed to start daemon: Error initializing network controller: parse fixed-cidr failed: invalid CIDR address: \(text)")
            }
        default:
            break
        }
    }

    /// ValidateDNSSearch: "." or a domain of letters, digits and inner hyphens, with at least
    /// one letter, shorter than 255, a trailing dot and spaces allowed.
    static func isDNSSearchDomain(_ text: String) -> Bool {
        let trimmed = text.trimmingSpaces()
        if trimmed == "." { return true }
        guard trimmed.contains(where: { $0.isASCII && $0.isLetter }) else { return false }
        var domain = Substring(trimmed)
        while let last = domain.last, last.isWhitespace { domain = domain.dropLast() }
        if domain.last == "." { domain = domain.dropLast() }
        guard !domain.isEmpty, domain.utf8.count < 255 else { return false }
        return domain.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let alphanumeric: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber) }
            guard let first = label.first, let last = label.last, alphanumeric(first), alphanumeric(last) else { return false }
            return label.allSatisfy { alphanumeric($0) || $0 == "-" }
        }
    }

    /// The default bridge's address and the default driver's options, checked as dockerd's
    /// start checks them (after the file is read).
    func checkStartSettings() throws {
        if let bip, !bip.isEmpty, !GoAddressParsing.isCIDR(bip) {
            throw Failure("failed to start daemon: Error initializing network controller: parse bip failed: invalid CIDR address: \(bip)")
        }
        // As dockerd: only when options are given; what only a container's start can tell
        // (max-size "abc" for json-file) is refused when a container is created.
        guard !logOptions.isEmpty else { return }
        if let message = LogSettings.daemonDefaultsError(driver: logDriver, options: logOptions) {
            throw Failure("failed to start daemon: failed to set log opts: failed to set log opts: \(message)")
        }
    }
}

private extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}

extension LogSettings {
    /// What dockerd's start says of the daemon's log driver and options (its ValidateLogOpts:
    /// the driver, the delivery mode, the option names, a remote driver's address), nil when
    /// they pass; rotation values are read when a container is created, not here.
    static func daemonDefaultsError(driver: String, options: [String: String]) -> String? {
        // dockerd checks nothing for the none driver.
        guard driver != "none" else { return nil }
        do {
            _ = try LogSettings(merged: LogConfig(Type: driver, Config: options))
            return nil
        } catch let error as BerthError {
            return error.message.hasPrefix("failed to initialize logging driver") ? nil : error.message
        } catch {
            return "\(error)"
        }
    }
}
