import NIOCore

/// The threads that run NIO's event loops: socket reads and writes and HTTP parsing.
/// Handlers do not run on them but on Swift's global executor, which keeps a thread per core
/// of its own, so one event loop per core (NIO's default) puts two busy threads on every core.
/// Half as many event loops cost about a tenth less CPU per request on two cores, and one
/// loop still carries more traffic than the handlers can serve (docs/design.md, "Where
/// request time goes today").
public enum IOThreads {
    public static let allowed = 1...256

    /// Half the cores, at least one.
    public static var `default`: Int { max(1, System.coreCount / 2) }

    /// Sizes NIO's shared event loops. It must run before anything starts them (the server,
    /// the PostgreSQL client), and only once in a process.
    public static func configure(_ count: Int) {
        NIOSingletons.groupLoopCountSuggestion = count
    }
}
