import CCrypto
import Foundation

/// Streaming SHA-256 through OpenSSL's libcrypto (hardware-accelerated where the CPU has it).
final class SHA256Hasher {
    private let context: OpaquePointer

    init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    /// "sha256:<64 hex>"
    func finish() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return "sha256:" + digest.map { String(format: "%02x", $0) }.joined()
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
