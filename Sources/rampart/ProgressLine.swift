import Foundation

/// Progress of long CLI work, on standard error so that standard output stays the result.
/// Quiet for the first second, so quick runs print nothing; then a line a second.
final class ProgressLine: @unchecked Sendable {
    private let subject: String
    private let unit: String
    private let started = ContinuousClock.now
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var lastPrinted: ContinuousClock.Instant?

    init(subject: String, unit: String) {
        self.subject = subject
        self.unit = unit
    }

    @Sendable func update(_ done: Int64, of total: Int64) {
        let now = ContinuousClock.now
        let due = lock.withLock {
            guard now - (lastPrinted ?? started) >= .seconds(1) else { return false }
            lastPrinted = now
            return true
        }
        guard due else { return }
        let percent = total > 0 ? " (\(min(100, done * 100 / total))%)" : ""
        FileHandle.standardError.write(Data("\(subject): \(done) of \(total) \(unit)\(percent)\n".utf8))
    }
}
