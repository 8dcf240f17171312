import NIOCore
import RampartStorage

/// The threads that run NIO's event loops: socket reads and writes, HTTP parsing, and every
/// PostgreSQL round trip. Handlers do not run on them but on Swift's global executor, which
/// keeps a thread per core of its own.
///
/// On SQLite the handler threads do the database work themselves (SQLite runs on the
/// caller's thread), so the loops carry only HTTP, and one loop per core (NIO's default) puts
/// two busy threads on every core: half as many loops cost about a tenth less CPU per
/// request on two cores, and one loop still carries more than the handlers serve. On
/// PostgreSQL the loops also carry the database protocol, and one loop per core serves about
/// an eighth more than half as many (docs/design.md, "Where request time goes today").
public enum IOThreads {
    public static let allowed = 1...256

    public static func `default`(for database: DatabaseConfiguration) -> Int {
        switch database {
        case .sqlite: max(1, System.coreCount / 2)
        case .postgres: System.coreCount
        }
    }

    /// Sizes NIO's shared event loops. It must run before anything starts them (the server,
    /// the PostgreSQL client), and only once in a process.
    public static func configure(_ count: Int) {
        NIOSingletons.groupLoopCountSuggestion = count
    }
}
