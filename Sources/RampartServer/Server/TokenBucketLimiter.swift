import Foundation

/// A token bucket per key, per node: per SCIM token, so that a misbehaving provisioning job
/// slows down with 429 and `Retry-After` instead of starving everyone else (identity providers
/// retry on 429), and per client address for password-reset requests.
final class TokenBucketLimiter: @unchecked Sendable {
    struct Limit: Sendable {
        var requestsPerSecond: Double
        var burst: Double
    }

    private struct Bucket { var tokens: Double; var updated: TimeInterval }

    private let limit: Limit
    private let lock = NSLock()
    private var buckets: [String: Bucket] = [:]

    init(_ limit: Limit) { self.limit = limit }

    /// Nil when the request may go ahead, else the seconds to wait before the next one.
    func admit(_ key: String, now: TimeInterval = ProcessInfo.processInfo.systemUptime) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
        bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.requestsPerSecond)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
        buckets[key] = bucket
        return max(1, Int(((1 - bucket.tokens) / limit.requestsPerSecond).rounded(.up)))
    }
}
