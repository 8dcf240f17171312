import NIOConcurrencyHelpers

/// A fixed set of connections handed out one caller at a time, first come first served.
///
/// SQLite allows one writer: the writer pool has one connection, so writes queue here
/// instead of failing with SQLITE_BUSY; readers get a few connections of their own (WAL).
///
/// Not generic on purpose: every request passes through here twice, and a generic class's
/// methods stay unspecialised, looking up type metadata at run time on each call.
final class SQLiteConnectionPool: Sendable {
    typealias Resource = SQLiteConnection

    private struct State {
        var idle: [Resource]
        var waiters: [CheckedContinuation<Resource, Never>] = []
        var inUse = 0

        mutating func takeIdle() -> Resource? {
            guard let r = idle.popLast() else { return nil }
            inUse += 1
            return r
        }
    }
    private let state: NIOLockedValueBox<State>
    /// Every resource, idle or not, so that closing the pool reaches all of them.
    let all: [Resource]
    var capacity: Int { all.count }

    init(_ resources: [Resource]) {
        all = resources
        state = NIOLockedValueBox(State(idle: resources))
    }

    func withResource<R: Sendable>(_ body: (Resource) async throws -> R) async throws -> R {
        let resource = await acquire()
        defer { release(resource) }
        return try await body(resource)
    }

    /// The same, except that a caller who has to wait does so on `executor`, and runs `body`
    /// there once it is handed a resource; a caller who finds one idle runs `body` where it is.
    func withResource<R: Sendable>(waitingOn executor: any TaskExecutor, _ body: (Resource) async throws -> R)
        async throws -> R
    {
        if let idle = takeIdle() {
            defer { release(idle) }
            return try await body(idle)
        }
        return try await withTaskExecutorPreference(executor) { try await withResource(body) }
    }

    /// Waits until every resource is idle and runs `body` with all of them (to close them).
    func withAll(_ body: ([Resource]) -> Void) async {
        var taken: [Resource] = []
        for _ in all { taken.append(await acquire()) }
        body(taken)
        for resource in taken { release(resource) }
    }

    var inUse: Int { state.withLockedValue { $0.inUse } }
    var waiting: Int { state.withLockedValue { $0.waiters.count } }

    private func takeIdle() -> Resource? { state.withLockedValue { $0.takeIdle() } }

    private func acquire() async -> Resource {
        // The common case takes an idle resource without suspending the task.
        if let idle = takeIdle() { return idle }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Resource, Never>) in
            let ready: Resource? = state.withLockedValue { s in
                if let r = s.takeIdle() { return r }
                s.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func release(_ resource: Resource) {
        let waiter: CheckedContinuation<Resource, Never>? = state.withLockedValue { s in
            if s.waiters.isEmpty {
                s.idle.append(resource)
                s.inUse -= 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        waiter?.resume(returning: resource)
    }
}
