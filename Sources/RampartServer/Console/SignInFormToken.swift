import Crypto
import Foundation
import RampartCore
import RampartStorage

/// The CSRF token of a sign-in form, which has no session to bind to: an expiry and a nonce,
/// authenticated with HMAC-SHA256 under a key only the servers hold. A value another site
/// makes up (and plants as a cookie) does not verify, so it cannot sign a victim in to an
/// account it controls (login CSRF). Every node of one store derives the same key from the
/// key-encryption key, so a form served by one node is accepted by another.
///
/// Form: `<expiry, unix seconds>.<nonce, base64url>.<HMAC, base64url>`.
struct SignInFormToken: Sendable {
    /// Long enough to type a password after a coffee; short enough that a harvested token is stale.
    static let lifetime: Int64 = 3600

    private let key: SymmetricKey

    init(key: SymmetricKey) { self.key = key }

    init(keys: KeyService) { self.init(key: keys.derivedKey(purpose: "rampart.signin-form-token.v1")) }

    func issue(now: Timestamp = .now()) -> String {
        let expiry = now.microseconds / 1_000_000 + Self.lifetime
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }.base64URLEncoded
        let payload = "\(expiry).\(nonce)"
        return payload + "." + Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)).base64URLEncoded
    }

    /// Whether `token` was issued by a server of this store and has not expired. The MAC is
    /// compared in constant time (swift-crypto's `isValidAuthenticationCode`).
    func verify(_ token: String, now: Timestamp = .now()) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count <= 12, let expiry = Int64(parts[0]),
              let mac = Data(base64URLEncoded: String(parts[2])), mac.count == SHA256.byteCount
        else { return false }
        let payload = Data("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { return false }
        return now.microseconds / 1_000_000 < expiry
    }
}
