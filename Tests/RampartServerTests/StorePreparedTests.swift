import NIOConcurrencyHelpers
@testable import RampartServer
import ServiceLifecycle
import Testing

/// The services beside the server are made and started once start-up has prepared the store,
/// and never made when the server stops first: one that was made but never run kept an HTTP
/// client nobody shut down.
@Suite("Services wait for the store")
struct StorePreparedTests {
    struct Recorder: Service {
        let runs: NIOLockedValueBox<Int>
        func run() async throws { runs.withLockedValue { $0 += 1 } }
    }

    /// A service started before the store is prepared, given 60 ms to wait; `made` and `runs`
    /// count what became of it.
    struct Started {
        let prepared = StorePrepared()
        let made = NIOLockedValueBox(0)
        let runs = NIOLockedValueBox(0)
        let task: Task<Void, any Error>

        init() async throws {
            let (prepared, made, runs) = (prepared, made, runs)
            task = Task {
                try await StartsAfterStorePrepared(prepared: prepared) {
                    made.withLockedValue { $0 += 1 }
                    return Recorder(runs: runs)
                }.run()
            }
            try await Task.sleep(for: .milliseconds(60))
        }

        var counts: (made: Int, runs: Int) { (made.withLockedValue { $0 }, runs.withLockedValue { $0 }) }
    }

    @Test
    func aServiceIsMadeAndRunOnceTheStoreIsPrepared() async throws {
        let started = try await Started()
        #expect(started.counts.made == 0)
        started.prepared.open()
        try await started.task.value
        #expect(started.counts.made == 1)
        #expect(started.counts.runs == 1)
    }

    @Test
    func aServiceStoppedBeforeTheStoreIsPreparedIsNeverMade() async throws {
        let started = try await Started()
        started.task.cancel()
        try await started.task.value
        started.prepared.open()
        #expect(started.counts.made == 0)
        #expect(started.counts.runs == 0)
    }
}
