import RampartCore

/// How repeated sign-in failures slow an attacker down: after `freeFailures` failures within
/// `window`, each further failure locks the account (or source address) for twice as long
/// as the one before, from `baseLockout` up to `maximumLockout`.
public struct SignInThrottle: Sendable, Equatable {
    public enum Scope: String, Sendable { case account, address }

    public var freeFailures: Int64
    public var window: Double
    public var baseLockout: Double
    public var maximumLockout: Double

    /// Five tries for one account, then 1 min, 2 min, 4 min... up to an hour.
    public static let account = SignInThrottle(freeFailures: 5, window: 15 * 60, baseLockout: 60, maximumLockout: 3600)
    /// One address may try many accounts (an office behind one NAT), so it gets more room.
    public static let address = SignInThrottle(freeFailures: 50, window: 15 * 60, baseLockout: 60, maximumLockout: 3600)

    public init(freeFailures: Int64, window: Double, baseLockout: Double, maximumLockout: Double) {
        self.freeFailures = freeFailures; self.window = window; self.baseLockout = baseLockout; self.maximumLockout = maximumLockout
    }

    public static func forScope(_ scope: Scope) -> SignInThrottle { scope == .account ? .account : .address }

    /// The end of the lockout that `failures` consecutive failures earn, counted from `now`;
    /// nil while still within the free failures.
    public func lockedUntil(afterFailures failures: Int64, at now: Timestamp) -> Timestamp? {
        guard failures >= freeFailures else { return nil }
        let doublings = min(failures - freeFailures, 20)
        let seconds = min(baseLockout * Double(Int64(1) << doublings), maximumLockout)
        return now.adding(seconds: seconds)
    }
}
