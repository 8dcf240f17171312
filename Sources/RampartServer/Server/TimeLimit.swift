/// Work that must not wait forever on a peer (a receiver, the database at start-up) runs
/// under a time limit; the work is cancelled when the limit passes.
func withTimeLimit<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeLimitExceeded(after: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct TimeLimitExceeded: Error, CustomStringConvertible {
    let after: Duration
    var description: String { "no answer within \(after)" }
}
