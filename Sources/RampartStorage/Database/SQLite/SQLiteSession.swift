import Logging
import NIOCore
import NIOPosix
import SQLKit

/// SQLKit's view of one leased connection: queries are rendered by SQLKit and run inline.
struct SQLiteSession: SQLDatabase {
    let connection: SQLiteConnection
    let logger: Logger
    /// Only SQLKit's legacy future API asks for it; not looked up for every transaction.
    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    let dialect: any SQLDialect = SQLiteDialect()
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try run(query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeCompletedFuture { try run(query, onRow) }
    }

    private func run(_ query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) throws {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        try connection.run(serializer.sql, try serializer.binds.map(SQLiteValue.init(bind:)), onRow: onRow)
    }
}

/// How SQLKit writes SQL for SQLite (3.35 or later, for RETURNING).
struct SQLiteDialect: SQLDialect {
    var name: String { "sqlite" }
    var identifierQuote: any SQLExpression { SQLRaw("\"") }
    var literalStringQuote: any SQLExpression { SQLRaw("'") }
    func bindPlaceholder(at position: Int) -> any SQLExpression { SQLRaw("?\(position)") }
    func literalBoolean(_ value: Bool) -> any SQLExpression { SQLRaw(value ? "1" : "0") }
    /// SQLite has no DEFAULT keyword in VALUES.
    var literalDefault: any SQLExpression { SQLLiteral.null }
    var supportsAutoIncrement: Bool { false }
    var autoIncrementClause: any SQLExpression { SQLRaw("AUTOINCREMENT") }
    var supportsIfExists: Bool { true }
    var enumSyntax: SQLEnumSyntax { .unsupported }
    var supportsDropBehavior: Bool { false }
    var supportsReturning: Bool { true }
    var alterTableSyntax: SQLAlterTableSyntax { .init(allowsBatch: false) }
    var upsertSyntax: SQLUpsertSyntax { .standard }
    var unionFeatures: SQLUnionFeatures { [.union, .unionAll, .intersect, .except] }
}
