import BerthOCI
import CCrypto
import FoundationEssentials
import Glibc

/// Streaming SHA-256 through nettle (which libarchive loads anyway; it uses the CPU's SHA
/// instructions where there are some). OpenSSL's libcrypto would add 1.4 MiB to the daemon.
public final class SHA256Hasher {
    private var context = sha256_ctx()

    public init() {
        nettle_sha256_init(&context)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        nettle_sha256_update(&context, bytes.count, base.assumingMemoryBound(to: UInt8.self))
    }

    /// "sha256:<64 hex>"
    public func finish() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        nettle_sha256_digest(&context, digest.count, &digest)
        return "sha256:" + digest.hexString
    }

    static func digest(_ data: Data) -> String {
        let hasher = SHA256Hasher()
        data.withUnsafeBytes { hasher.update($0) }
        return hasher.finish()
    }
}

/// Validates "sha256:<64 lowercase hex>" and returns the hex part.
func digestHex(_ digest: String) -> String? {
    guard digest.hasPrefix("sha256:") else { return nil }
    let hex = digest.dropFirst(7)
    guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
    return String(hex)
}
