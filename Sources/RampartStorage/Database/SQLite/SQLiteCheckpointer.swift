import CSQLite
import Dispatch
import NIOConcurrencyHelpers

/// Copies the write-ahead log back into the database file on a thread of its own, so that no
/// commit waits for it.
///
/// Left to itself, SQLite checkpoints inside the commit that takes the WAL past 1,000 pages:
/// that commit copies megabytes into the database file and waits for two fsyncs
/// (`synchronous=NORMAL` syncs at checkpoints, not at commits), and every write queued behind
/// it waits too. Here the writer's commit only notices the WAL's size; a separate connection
/// runs a passive checkpoint, which never blocks the writer or the readers (figures in
/// docs/design.md, "SQLite checkpoints run beside the writer").
///
/// A passive checkpoint cannot copy frames written while it runs, so under a writer that
/// never pauses the WAL could keep growing; past `inlinePages` the writer checkpoints itself,
/// which is what SQLite would have done all along.
final class SQLiteCheckpointer: @unchecked Sendable {
    /// WAL size that starts a background checkpoint: SQLite's own default for
    /// `wal_autocheckpoint`, 1,000 pages of 4 KiB, kept in bytes whatever the page size.
    static let backgroundBytes = 4_096_000
    /// WAL size at which the writer checkpoints itself: 64 MB.
    static let inlineBytes = 65_536_000

    let backgroundPages: Int32
    let inlinePages: Int32

    private let connection: SQLiteConnection
    private let queue = DispatchQueue(label: "rampart.sqlite.checkpoint")
    private let scheduled = NIOLockedValueBox(false)
    private let completed = NIOLockedValueBox(0)

    /// Checkpoints that ran on the background connection; for tests and diagnostics.
    var backgroundCheckpoints: Int { completed.withLockedValue { $0 } }

    /// The thresholds in pages of the database at `path`, whose writer has created it.
    convenience init(path: String) throws {
        let connection = try SQLiteConnection(path: path, readOnly: false)
        var pageSize = 4096
        try connection.run("PRAGMA page_size") { row in
            if case .integer(let size) = row.values[0], size > 0 { pageSize = Int(size) }
        }
        self.init(connection: connection, backgroundPages: Int32(Self.backgroundBytes / pageSize),
                  inlinePages: Int32(Self.inlineBytes / pageSize))
    }

    convenience init(path: String, backgroundPages: Int32, inlinePages: Int32) throws {
        self.init(connection: try SQLiteConnection(path: path, readOnly: false), backgroundPages: backgroundPages,
                  inlinePages: inlinePages)
    }

    private init(connection: SQLiteConnection, backgroundPages: Int32, inlinePages: Int32) {
        self.connection = connection
        self.backgroundPages = backgroundPages
        self.inlinePages = inlinePages
    }

    /// Called by SQLite after each commit of `writer`, with the WAL's size in pages. The
    /// checkpointer must outlive the writer's connection.
    func watch(_ writer: SQLiteConnection) {
        writer.onCommit(context: Unmanaged.passUnretained(self).toOpaque()) { context, database, _, pages in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue()
            // What the hook returns becomes the commit's result, so it is always OK: a
            // checkpoint that is busy or fails is tried again after a later commit.
            if pages >= checkpointer.inlinePages {
                _ = sqlite3_wal_checkpoint_v2(database, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                return SQLITE_OK
            }
            if pages >= checkpointer.backgroundPages { checkpointer.schedule() }
            return SQLITE_OK
        }
    }

    private func schedule() {
        let alreadyScheduled = scheduled.withLockedValue { flag in
            defer { flag = true }
            return flag
        }
        guard !alreadyScheduled else { return }
        queue.async {
            // A checkpoint that fails (the file went away, the disk is full) leaves the WAL as
            // it is; nothing is lost and the next commit asks again.
            _ = self.connection.checkpointPassively()
            self.completed.withLockedValue { $0 += 1 }
            self.scheduled.withLockedValue { $0 = false }
        }
    }

    /// Waits for a running checkpoint, then closes the connection.
    func close() {
        queue.sync { connection.close() }
    }
}
