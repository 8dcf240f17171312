import SQLKit

/// What the two backends share: transactions, optionally scoped to one organisation.
protocol DatabaseDriver: Sendable {
    var flavor: SQLFlavor { get }
    /// Runs `body` in one transaction. With a tenant, PostgreSQL's row-level security
    /// sees only that organisation's rows for the whole transaction.
    func transaction<R: Sendable>(tenant: String?, readOnly: Bool,
                                  _ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs statements outside a transaction (migrations manage their own).
    func withConnection<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    func ping() async throws
    func run() async throws
    func close() async
    var connectionsInUse: Int { get }
    var connectionCapacity: Int { get }
}
