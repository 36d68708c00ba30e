import BerthOCI
import BerthRuntime
import FoundationEssentials

/// The capability set of a container from CapAdd, CapDrop and Privileged, as dockerd
/// computes it: names are case-insensitive, `CAP_` is optional, and `ALL` means every
/// capability available: known to this kernel and in the daemon's own bounding set.
public enum ContainerCapabilities {
    /// Docker's default 14, in Docker's order.
    public static let defaults: [String] = CapabilitySets.dockerDefaults.map { "CAP_" + $0 }

    /// The daemon's bounding set: no process it starts can hold a capability outside it (a
    /// host or a container that dropped some, as a sandbox may), so dockerd leaves those out
    /// of `--privileged` and `ALL`.
    static let daemonBoundingSet: UInt64 = HostFacts.ownStatusField("CapBnd").flatMap { UInt64($0, radix: 16) } ?? .max

    static func isAvailable(_ number: Int, lastCapability: Int) -> Bool {
        number <= lastCapability && number < 64 && daemonBoundingSet & (1 << UInt64(number)) != 0
    }

    /// Every available capability, in number order.
    public static func all(lastCapability: Int) -> [String] {
        CapabilitySets.allNames.filter { isAvailable(CapabilitySets.numbers[$0] ?? .max, lastCapability: lastCapability) }
            .map { "CAP_" + $0 }
    }

    /// Upper-cased, CAP_-prefixed names; "ALL" kept as is. Errors as dockerd words them.
    public static func normalize(_ names: [String], lastCapability: Int) throws -> [String] {
        try names.map { name in
            let upper = name.uppercased()
            if upper == "ALL" { return upper }
            let full = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
            guard let number = CapabilitySets.numbers[String(full.dropFirst(4))] else {
                throw BerthError.invalidArgument("unknown capability: \"\(full)\"")
            }
            guard isAvailable(number, lastCapability: lastCapability) else {
                throw BerthError.invalidArgument(
                    "capability not supported by your kernel or not available in the current environment: \"\(full)\"")
            }
            return full
        }
    }

    /// Checks CapAdd and CapDrop, with dockerd's "invalid CapAdd: ..." prefix.
    public static func validate(add: [String]?, drop: [String]?, lastCapability: Int) throws {
        for (field, names) in [("CapAdd", add), ("CapDrop", drop)] {
            do {
                _ = try normalize(names ?? [], lastCapability: lastCapability)
            } catch let error as BerthError {
                throw BerthError.invalidArgument("invalid \(field): \(error.message)")
            }
        }
    }

    /// The container's capabilities: all when privileged; with `ALL` added, all but the
    /// dropped; with `ALL` dropped, only the added; else the defaults minus drops plus adds.
    public static func effective(add: [String]?, drop: [String]?, privileged: Bool,
                                 lastCapability: Int = 40) throws -> [String] {
        if privileged { return all(lastCapability: lastCapability) }
        let add = try normalize(add ?? [], lastCapability: lastCapability)
        let drop = try normalize(drop ?? [], lastCapability: lastCapability)
        if add.isEmpty && drop.isEmpty { return defaults }
        var result: [String]
        if add.contains("ALL") {
            result = all(lastCapability: lastCapability).filter { !drop.contains($0) }
        } else if drop.contains("ALL") {
            result = add
        } else {
            result = defaults.filter { !drop.contains($0) } + add
        }
        // Adding a default capability again should not list it twice.
        var seen = Set<String>()
        result = result.filter { seen.insert($0).inserted }
        return result
    }
}
