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

    static func service(_ prepared: StorePrepared, made: NIOLockedValueBox<Int>, runs: NIOLockedValueBox<Int>)
        -> StartsAfterStorePrepared
    {
        StartsAfterStorePrepared(prepared: prepared) {
            made.withLockedValue { $0 += 1 }
            return Recorder(runs: runs)
        }
    }

    @Test
    func aServiceIsMadeAndRunOnceTheStoreIsPrepared() async throws {
        let prepared = StorePrepared()
        let (made, runs) = (NIOLockedValueBox(0), NIOLockedValueBox(0))
        let task = Task { try await Self.service(prepared, made: made, runs: runs).run() }
        try await Task.sleep(for: .milliseconds(60))
        #expect(made.withLockedValue { $0 } == 0)
        prepared.open()
        try await task.value
        #expect(made.withLockedValue { $0 } == 1)
        #expect(runs.withLockedValue { $0 } == 1)
    }

    @Test
    func aServiceStoppedBeforeTheStoreIsPreparedIsNeverMade() async throws {
        let prepared = StorePrepared()
        let (made, runs) = (NIOLockedValueBox(0), NIOLockedValueBox(0))
        let task = Task { try await Self.service(prepared, made: made, runs: runs).run() }
        try await Task.sleep(for: .milliseconds(60))
        task.cancel()
        try await task.value
        prepared.open()
        #expect(made.withLockedValue { $0 } == 0)
        #expect(runs.withLockedValue { $0 } == 0)
    }
}
