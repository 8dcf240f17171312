import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// A thread of its own for the writer connection's transactions: a task that prefers this
/// executor (`withTaskExecutorPreference`) runs here, and resumes here, whatever Swift's shared
/// pool is doing (docs/design.md, "The writer has a thread of its own").
///
/// On the shared pool, one thread per core, a transaction handed the writer waited for a free
/// thread while both sealed and read other batches: the writer stood assigned and unused for
/// 7 to 17 % of the time under ingestion.
final class SQLiteWriterThread: TaskExecutor, @unchecked Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var running = true
    }
    private let state = NIOLockedValueBox(State())
    /// Signalled once per enqueued job, and once to stop.
    private let wakeups = DispatchSemaphore(value: 0)

    init(name: String) {
        Thread.detachNewThread { [self] in
            Self.name(name)
            run()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // After `stop`, nothing runs here any more: a late job goes to the shared pool,
        // where its transaction fails on the closed connection instead of never resuming.
        guard state.withLockedValue({ state in
            guard state.running else { return false }
            state.jobs.append(job)
            return true
        }) else {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        wakeups.signal()
    }

    /// Ends the thread once the jobs queued before it have run.
    func stop() {
        wakeups.signal()
    }

    /// Whether the thread is still running: false some time after `stop`.
    var isRunning: Bool { state.withLockedValue { $0.running } }

    /// The name `top -H` and /proc/PID/task/*/comm show, 15 bytes at most. Written to comm
    /// directly: a new thread inherits its creator's name (a pool thread's), and Foundation's
    /// `Thread.name` is lost when the thread runs before `start` has returned.
    private static func name(_ name: String) {
        try? String(name.utf8.prefix(15))?.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
    }

    private func run() {
        while true {
            wakeups.wait()
            // Each job signals once and `stop` once more, so a wake-up that finds no job is the stop.
            guard let job = state.withLockedValue({ state -> UnownedJob? in
                if state.jobs.isEmpty {
                    state.running = false
                    return nil
                }
                return state.jobs.removeFirst()
            }) else { return }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
