import NIOConcurrencyHelpers
import RampartCore

/// Decides when a token's last-used time is worth a write: at most once a minute per token,
/// so that reads stay reads under load.
final class TokenUsageRecorder: Sendable {
    private let lastWritten = NIOLockedValueBox<[String: Timestamp]>([:])
    static let interval: Double = 60

    func shouldRecord(_ tokenID: String, lastUsed stored: Timestamp?, now: Timestamp) -> Bool {
        lastWritten.withLockedValue { map in
            let previous = map[tokenID] ?? stored
            if let previous, now < previous.adding(seconds: Self.interval) { return false }
            map[tokenID] = now
            return true
        }
    }
}
