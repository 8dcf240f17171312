import NIOConcurrencyHelpers
import ServiceLifecycle

/// Opens once start-up has prepared the store (migrated SQLite, checked PostgreSQL). The
/// services beside the server read every organisation at once; on a new SQLite store they ran
/// before its tables existed, and each logged a failed sweep to an admin's first start.
final class StorePrepared: Sendable {
    private let prepared = NIOLockedValueBox(false)

    func open() { prepared.withLockedValue { $0 = true } }

    /// Returns once the store is prepared; throws when the task is cancelled first. Start-up
    /// takes a fraction of a second, so a short poll is all the waiting needs.
    func wait() async throws {
        while !prepared.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
    }
}

/// A service beside the server that is made and started once the store is prepared, or not
/// at all when the server stops (or fails to prepare the store) first. Made late, since some
/// hold resources from the start that only their `run` releases (an HTTP client, say).
struct StartsAfterStorePrepared: Service {
    let prepared: StorePrepared
    let make: @Sendable () -> any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await prepared.wait() }
        } catch {
            return
        }
        try await make().run()
    }
}
