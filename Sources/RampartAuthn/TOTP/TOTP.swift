import Crypto
import Foundation
import RampartCore

/// A time-based one-time password generator and verifier (RFC 6238 over RFC 4226's HOTP).
///
/// Verification is a verdict, not a throw: a wrong code is an expected outcome that the
/// caller records (audit reason, throttling), not an error.
public struct TOTP: Sendable, Equatable {
    public enum Algorithm: String, Sendable, Codable, CaseIterable {
        case sha1 = "SHA1", sha256 = "SHA256", sha512 = "SHA512"
    }

    public let secret: [UInt8]
    public let algorithm: Algorithm
    public let digits: Int
    public let period: Int

    /// Steps either side of the current one that are still accepted (clock drift, typing time).
    public static let window: UInt64 = 1

    public init(secret: [UInt8], algorithm: Algorithm = .sha1, digits: Int = 6, period: Int = 30) throws(RampartError) {
        // RFC 4226 §4 asks for at least 128 bits of shared secret.
        guard secret.count >= 16 else { throw .invalidField("secret", "must be at least 16 bytes") }
        guard digits == 6 || digits == 8 else { throw .invalidField("digits", "must be 6 or 8") }
        guard (15...300).contains(period) else { throw .invalidField("period", "must be between 15 and 300 seconds") }
        self.secret = secret; self.algorithm = algorithm; self.digits = digits; self.period = period
    }

    /// A fresh 160-bit secret (the HMAC-SHA-1 block RFC 4226 recommends), from the system's CSPRNG.
    public static func generateSecret(byteCount: Int = 20) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: byteCount * 8)).withUnsafeBytes { Array($0) }
    }

    /// The time step that contains `time`; times before the epoch fall in step 0.
    public func step(at time: Date) -> UInt64 {
        let seconds = time.timeIntervalSince1970
        guard seconds > 0 else { return 0 }
        return UInt64(seconds) / UInt64(period)
    }

    public func code(at time: Date) -> String { code(forStep: step(at: time)) }

    public func code(forStep step: UInt64) -> String {
        let counter = withUnsafeBytes(of: step.bigEndian) { Array($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8] = switch algorithm {
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: counter, using: key))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: counter, using: key))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: counter, using: key))
        }
        // RFC 4226 §5.3 dynamic truncation.
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = UInt32(mac[offset] & 0x7F) << 24 | UInt32(mac[offset + 1]) << 16
            | UInt32(mac[offset + 2]) << 8 | UInt32(mac[offset + 3])
        let value = binary % (digits == 8 ? 100_000_000 : 1_000_000)
        let text = String(value)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// Checks `presented` against the steps around `time`. A step at or before
    /// `lastAcceptedStep` is never accepted again, so a code cannot be replayed even inside
    /// its window. The caller must then store the accepted step with compare-and-set.
    public func verify(_ presented: String, at time: Date, lastAcceptedStep: UInt64?) -> TOTPVerdict {
        let typed = presented.filter { $0 != " " }
        guard typed.utf8.count == digits, typed.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return .rejected(.malformed)
        }
        let current = step(at: time)
        let first = current >= Self.window ? current - Self.window : 0
        var matched: UInt64?
        var replayed = false
        // Every candidate is compared, in constant time, so timing says nothing about which one matched.
        for candidate in first...(current + Self.window) {
            guard constantTimeEquals(typed, code(forStep: candidate)) else { continue }
            if let last = lastAcceptedStep, candidate <= last { replayed = true } else { matched = candidate }
        }
        if let matched { return .accepted(step: matched) }
        return .rejected(replayed ? .replayed : .wrongCode)
    }
}

public enum TOTPVerdict: Sendable, Equatable {
    case accepted(step: UInt64)
    case rejected(TOTPRejection)
}

public enum TOTPRejection: String, Sendable, Equatable {
    /// Not `digits` decimal digits.
    case malformed = "malformed_code"
    /// No step in the window produces this code.
    case wrongCode = "wrong_code"
    /// The code belongs to a step at or before the last accepted one.
    case replayed = "replayed_code"
}
