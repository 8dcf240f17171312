import NIOConcurrencyHelpers

/// What a recalled value was read by: a statement and its parameters, which within one
/// state of the database always read the same rows.
struct RecallKey: Hashable, Sendable {
    let sql: String
    let parameters: [String]
}

/// Rows a PostgreSQL node answers from memory until any node announces a change to the
/// tables they come from: the rows every request reads again (its session, its API token).
///
/// SQLite's readers do the same per connection (`SQLiteConnection.recall`), told of every
/// commit by `PRAGMA data_version`. PostgreSQL has no such counter, and asking the server
/// would cost the round trip this saves, so changes are pushed instead: a trigger on each
/// of `announcingTables` sends a notification on `channel` when a transaction that changed
/// it commits (migration 14), and the driver listens on a connection of its own. Any
/// notification, and any write transaction of this node, forgets everything.
///
/// What that promises: this node refuses a session ended here by the very next request,
/// and one ended on another node (or by the CLI) as soon as PostgreSQL has delivered the
/// notification, a millisecond or so after that commit. While the listening connection is
/// down nothing is recalled at all.
final class RecallCache: Sendable {
    static let channel = "rampart_changes"
    /// The tables recalled statements read. A recalled statement that read another table
    /// could keep a stale answer, so `recalledRow` checks its statement against this list.
    static let announcingTables = ["user_sessions", "users", "role_assignments", "api_tokens"]
    static let limit = 4096

    private struct State {
        var listening = false
        var generation: UInt64 = 0
        var values: [RecallKey: any Sendable] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// The value kept under `key`, if nothing has changed since it was read.
    func value<T: Sendable>(_ key: RecallKey, as: T.Type = T.self) -> T? {
        state.withLockedValue { $0.values[key] as? T }
    }

    /// Whether changes are being heard, and so whether anything is kept.
    var isHearing: Bool { state.withLockedValue { $0.listening } }

    /// Taken before a read whose answer may be kept (`keep`).
    var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// Keeps what was read, unless a change was announced since `generation` was taken:
    /// the read may then have seen the state before it.
    func keep(_ value: some Sendable, for key: RecallKey, readAt generation: UInt64) {
        state.withLockedValue { state in
            guard state.listening, state.generation == generation else { return }
            if state.values.count >= Self.limit { state.values.removeAll(keepingCapacity: true) }
            state.values[key] = value
        }
    }

    /// Something changed: nothing read before may be answered again.
    func forget() {
        state.withLockedValue { state in
            state.generation &+= 1
            state.values.removeAll(keepingCapacity: true)
        }
    }

    /// Whether changes are being heard. Both ways everything is forgotten: what was kept
    /// while deaf may be stale, and nothing is kept until hearing again.
    func hearing(_ listening: Bool) {
        state.withLockedValue { state in
            state.listening = listening
            state.generation &+= 1
            state.values.removeAll(keepingCapacity: true)
        }
    }

    /// Whether `sql` reads only announcing tables: every name after FROM or JOIN is one.
    static func readsOnlyAnnouncingTables(_ sql: String) -> Bool {
        let words = sql.split(whereSeparator: { $0.isWhitespace || $0 == "(" || $0 == ")" || $0 == "," })
        return zip(words, words.dropFirst()).allSatisfy { word, next in
            !["FROM", "JOIN"].contains(word.uppercased()) || announcingTables.contains(String(next))
        }
    }
}
