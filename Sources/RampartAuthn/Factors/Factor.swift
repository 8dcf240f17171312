import RampartCore

/// A way a person proves who they are beyond their password. Every kind is stored in one
/// shape (kind, public settings as JSON, an optional sealed secret, a usage counter), so a
/// new kind such as WebAuthn adds a case and its settings, not a table.
public enum FactorKind: String, Sendable, Codable, CaseIterable {
    case totp
    case recoveryCodes = "recovery_codes"
}

public enum FactorState: String, Sendable, Codable {
    /// Created at enrolment, not usable until the person has proven it with one valid code.
    case pending
    case active
}

public struct Factor: Sendable, Equatable, Identifiable {
    public let id: String
    public let userID: String
    public let kind: FactorKind
    public var label: String
    public var state: FactorState
    public let createdAt: Timestamp
    public var lastUsedAt: Timestamp?

    public init(id: String, userID: String, kind: FactorKind, label: String, state: FactorState,
                createdAt: Timestamp, lastUsedAt: Timestamp?) {
        self.id = id; self.userID = userID; self.kind = kind; self.label = label
        self.state = state; self.createdAt = createdAt; self.lastUsedAt = lastUsedAt
    }

    /// Only an active factor of a kind that proves possession counts as a second factor.
    public var countsAsSecondFactor: Bool { state == .active && kind == .totp }
}

/// The public part of a TOTP factor; the seed itself is sealed with the key service.
public struct TOTPFactorSettings: Sendable, Codable, Equatable {
    public var algorithm: TOTP.Algorithm
    public var digits: Int
    public var period: Int

    public static let standard = TOTPFactorSettings(algorithm: .sha1, digits: 6, period: 30)

    public init(algorithm: TOTP.Algorithm, digits: Int, period: Int) {
        self.algorithm = algorithm; self.digits = digits; self.period = period
    }

    public func totp(secret: [UInt8]) throws(RampartError) -> TOTP {
        try TOTP(secret: secret, algorithm: algorithm, digits: digits, period: period)
    }
}
