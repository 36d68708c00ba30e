import BerthEngine
import Foundation
import Testing

/// daemon.json values dockerd refuses at start, refused by berthd with dockerd's words.
struct DaemonConfigChecksTests {
    /// The message berthd stops with for `json` as its daemon.json, nil when it is accepted.
    func failure(_ json: String, flags: [String] = []) throws -> String? {
        let path = NSTemporaryDirectory() + "berth-daemon-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try DaemonOptions.parse(["--config-file", path] + flags)
            return nil
        } catch {
            return "\(error)".replacingOccurrences(of: path, with: "FILE")
        }
    }

    @Test func logOptionsTheDefaultDriverRefuses() throws {
        let prefix = "failed to start daemon: failed to set log opts: failed to set log opts: "
        #expect(try failure(#"{"log-opts": {"bogus": "1"}}"#) == prefix + "unknown log opt 'bogus' for json-file log driver")
        #expect(try failure(#"{"log-driver": "local", "log-opts": {"max-buffer": "1"}}"#) == prefix + "unknown log opt 'max-buffer' for log driver local")
        #expect(try failure(#"{"log-opts": {"mode": "fast"}}"#) == prefix + "logger: logging mode not supported: fast")
        #expect(try failure(#"{"log-opts": {"max-buffer-size": "1m"}}"#)
                == prefix + "logger: max-buffer-size option is only supported with 'mode=non-blocking'")
        #expect(try failure(#"{"log-driver": "syslog", "log-opts": {"syslog-address": "corrupted:42"}}"#)
                == prefix + "syslog-address should be in form proto://address, got corrupted:42")
        #expect(try failure(#"{"log-driver": "nosuch", "log-opts": {"a": "b"}}"#)
                == prefix + #"error looking up logging plugin nosuch: plugin "nosuch" not found"#)
        #expect(try failure("{}", flags: ["--log-opt", "bogus=1"]) == prefix + "unknown log opt 'bogus' for json-file log driver")
        // As dockerd: values only a logger's start reads, and a driver without options, wait
        // for a container.
        #expect(try failure(#"{"log-opts": {"max-size": "abc"}}"#) == nil)
        #expect(try failure(#"{"log-driver": "nosuch"}"#) == nil)
        #expect(try failure(#"{"log-driver": "none", "log-opts": {"anything": "1"}}"#) == nil)
    }

    @Test func addressesAndPrefixesInGosWords() throws {
        let file = "unable to configure the Berth daemon with file FILE: "
        #expect(try failure(#"{"dns": ["1.1.1.1", "abc"]}"#) == file + #"ParseAddr("abc"): unable to parse IP"#)
        #expect(try failure(#"{"dns": ["1.2.3"]}"#) == file + #"ParseAddr("1.2.3"): IPv4 address too short"#)
        #expect(try failure(#"{"dns": ["1.2.3.4.5"]}"#) == file + #"ParseAddr("1.2.3.4.5"): IPv4 address too long"#)
        #expect(try failure(#"{"dns": ["1.2.3.256"]}"#) == file + #"ParseAddr("1.2.3.256"): IPv4 field has value >255"#)
        #expect(try failure(#"{"dns": ["01.2.3.4"]}"#) == file + #"ParseAddr("01.2.3.4"): IPv4 field has octet with leading zero"#)
        #expect(try failure(#"{"dns": ["1..2.3"]}"#) == file + #"ParseAddr("1..2.3"): IPv4 field must have at least one digit (at ".2.3")"#)
        #expect(try failure(#"{"dns": ["1.2.3.x"]}"#) == file + #"ParseAddr("1.2.3.x"): unexpected character (at "x")"#)
        #expect(try failure(#"{"dns": ["%eth0"]}"#) == file + #"ParseAddr("%eth0"): missing IPv6 address"#)
        #expect(try failure(#"{"dns": ["8.8.8.8", "2001:db8::1", ""]}"#) == nil)
        let pool = #"{"default-address-pools": [{"base": "BASE", "size": 24}]}"#
        func pools(_ base: String) throws -> String? { try failure(pool.replacingOccurrences(of: "BASE", with: base)) }
        #expect(try pools("10.0.0.0") == file + #"netip.ParsePrefix("10.0.0.0"): no '/'"#)
        #expect(try pools("10.0.0.0/x") == file + #"netip.ParsePrefix("10.0.0.0/x"): bad bits after slash: "x""#)
        #expect(try pools("10.0.0.0/08") == file + #"netip.ParsePrefix("10.0.0.0/08"): bad bits after slash: "08""#)
        #expect(try pools("10.0.0.0/33") == file + #"netip.ParsePrefix("10.0.0.0/33"): prefix length out of range"#)
        #expect(try pools("10.0.0/8") == file + #"netip.ParsePrefix("10.0.0/8"): ParseAddr("10.0.0"): IPv4 address too short"#)
        #expect(try pools("10.0.0.0/8") == nil)
    }

    @Test func bridgeAddressesAsTheNetworkControllerReadsThem() throws {
        let controller = "failed to start daemon: Error initializing network controller: "
        #expect(try failure(#"{"bip": "10.5.0.1"}"#) == controller + "parse bip failed: invalid CIDR address: 10.5.0.1")
        #expect(try failure(#"{"bip": "10.5.0.1/33"}"#) == controller + "parse bip failed: invalid CIDR address: 10.5.0.1/33")
        #expect(try failure(#"{"bip": "10.05.0.1/24"}"#) == controller + "parse bip failed: invalid CIDR address: 10.05.0.1/24")
        #expect(try failure(#"{"fixed-cidr": "10.5.0.0"}"#) == controller + "parse fixed-cidr failed: invalid CIDR address: 10.5.0.0")
        #expect(try failure(#"{"bip": "10.5.0.1/24", "fixed-cidr": "10.5.0.128/25"}"#) == nil)
    }

    @Test func validationOfTheMergedConfiguration() throws {
        let merged = "unable to configure the Berth daemon with file FILE: merged configuration validation from file and command line flags failed: "
        #expect(try failure(#"{"dns-search": ["example.com", "-bad.example"]}"#) == merged + "-bad.example is not a valid domain")
        #expect(try failure(#"{"dns-search": ["123"]}"#) == merged + "123 is not a valid domain")
        #expect(try failure(#"{"dns-search": [".", "a-b.example.", "x1"]}"#) == nil)
        #expect(try failure(#"{"labels": ["a=b", "nolabel"]}"#) == merged + "bad attribute format: nolabel")
        #expect(try failure(#"{"max-concurrent-downloads": -1}"#) == merged + "invalid max concurrent downloads: -1")
        #expect(try failure(#"{"max-concurrent-uploads": -2}"#) == merged + "invalid max concurrent uploads: -2")
        #expect(try failure(#"{"max-concurrent-downloads": 3, "max-concurrent-uploads": 0}"#) == nil)
    }
}
