import Foundation

/// A token bucket per SCIM token, per node: a misbehaving provisioning job slows down with
/// 429 and `Retry-After` instead of starving everyone else. Identity providers retry on 429.
final class SCIMRateLimiter: @unchecked Sendable {
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
    func admit(_ tokenID: String, now: TimeInterval = ProcessInfo.processInfo.systemUptime) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        var bucket = buckets[tokenID] ?? Bucket(tokens: limit.burst, updated: now)
        bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.requestsPerSecond)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[tokenID] = bucket
            return nil
        }
        buckets[tokenID] = bucket
        return max(1, Int(((1 - bucket.tokens) / limit.requestsPerSecond).rounded(.up)))
    }
}
