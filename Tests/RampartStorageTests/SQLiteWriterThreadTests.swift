import Foundation
@testable import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// SQLite's writes run on a thread of their own (`SQLiteWriterThread`): every write
/// transaction, before and after it suspends, and no read; the thread ends when the store
/// closes, and a transaction that comes later still finishes somewhere.
@Suite("SQLite writer thread")
struct SQLiteWriterThreadTests {
    /// What the system calls the thread running the caller.
    static func threadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test
    func writesRunOnTheWritersThreadAndReadsDoNot() async throws {
        try await TestStore.with(.sqlite) { store in
            let write = try await store.database.global(readOnly: false) { _ in Self.threadName() }
            let read = try await store.database.global { _ in Self.threadName() }
            let afterSuspending = try await store.database.global(readOnly: false) { sql in
                try await Task.sleep(for: .milliseconds(5))
                try await sql.raw("UPDATE schema_migrations SET name = name WHERE version = 1").run()
                return Self.threadName()
            }
            #expect(write == "sqlite-writer")
            #expect(read != "sqlite-writer" && !read.isEmpty)
            #expect(afterSuspending == "sqlite-writer")
        }
    }

    @Test
    func closingTheStoreEndsTheWritersThread() async throws {
        let directory = try makeScratchDirectory("writer-thread")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let driver = try SQLiteDriver.open(path: directory + "/test.sqlite", logger: testLogger)
        try await driver.transaction(tenant: nil, readOnly: false) { try await $0.raw("CREATE TABLE t (x)").run() }
        #expect(driver.writerThreadIsRunning)
        await driver.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while driver.writerThreadIsRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!driver.writerThreadIsRunning)
    }

    /// A job enqueued once the thread has ended runs on the shared pool: the task resumes,
    /// where on a stopped thread it would wait forever.
    @Test
    func aTaskThatPrefersAStoppedThreadStillRuns() async throws {
        let thread = SQLiteWriterThread(name: "stopped-writer")
        #expect(await withTaskExecutorPreference(thread) { Self.threadName() } == "stopped-writer")
        thread.stop()
        let deadline = ContinuousClock.now + .seconds(10)
        while thread.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!thread.isRunning)
        let ran = await withTaskExecutorPreference(thread) {
            await Task.yield()
            return Self.threadName()
        }
        #expect(ran != "stopped-writer" && !ran.isEmpty)
    }
}
