import Foundation
import RampartCore
import SQLKit

/// Applies pending migrations, each in its own transaction, one migrator at a time.
public struct Migrator: Sendable {
    static let all: [Migration] = [.foundation, .authentication, .scim, .mailOutbox, .logStreams, .oauth,
                                    .oauthClientKeys, .backchannelLogout, .eventIngestion, .logStreamTargets,
                                    .sessionSID, .auditCheckpoints, .domainClaims, .identityProviders, .logStreamDeadLetters, .auditRetention,
                                    .samlServiceProviderKeys, .auditSubjectKeys, .auditFilters, .auditExports,
                                    .auditExportSearch, .auditMerkleTree, .auditIndexBlocks, .auditTargetRanges]
    public static var latestVersion: Int64 { all.last!.version }

    let database: Database

    public init(database: Database) { self.database = database }

    /// Returns the versions it applied. On PostgreSQL, `grantTo` names the role the server
    /// connects as: it gets row access only, never ownership, so it cannot bypass row-level security.
    @discardableResult
    public func migrate(grantTo appRole: String? = nil) async throws -> [Int64] {
        if let appRole, !Migrator.isPlainIdentifier(appRole) {
            throw RampartError(.configuration, "--grant-to must be a plain role name (letters, digits, '_').")
        }
        let flavor = database.flavor
        return try await database.withConnection { sql in
            if flavor == .postgres { try await sql.raw("SELECT pg_advisory_lock(7245190318)").run() }
            do {
                let applied = try await Migrator.apply(sql: sql, flavor: flavor, appRole: appRole)
                if flavor == .postgres { try await sql.raw("SELECT pg_advisory_unlock(7245190318)").run() }
                return applied
            } catch {
                if flavor == .postgres { try? await sql.raw("SELECT pg_advisory_unlock(7245190318)").run() }
                throw error
            }
        }
    }

    private static func apply(sql: any SQLDatabase, flavor: SQLFlavor, appRole: String?) async throws -> [Int64] {
        try await sql.raw("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
            """).run()
        let done = Set(try await sql.raw("SELECT version FROM schema_migrations").all()
            .map { try $0.decode(column: "version", as: Int64.self) })
        var applied: [Int64] = []
        for migration in all where !done.contains(migration.version) {
            try await sql.raw("BEGIN").run()
            do {
                for statement in migration.statements(flavor) { try await sql.raw(SQLQueryString(statement)).run() }
                if flavor == .postgres {
                    for table in migration.tenantTables {
                        for statement in rowLevelSecurity(table) { try await sql.raw(SQLQueryString(statement)).run() }
                    }
                }
                try await sql.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Timestamp.now().microseconds))
                    """).run()
                try await sql.raw("COMMIT").run()
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
            applied.append(migration.version)
        }
        if flavor == .postgres, let appRole {
            try await sql.raw(SQLQueryString("GRANT USAGE ON SCHEMA public TO \(ident: appRole)")).run()
            try await sql.raw(SQLQueryString(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(ident: appRole)")).run()
            // The server reads the schema version but never changes it.
            try await sql.raw(SQLQueryString(
                "REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM \(ident: appRole)")).run()
        }
        return applied
    }

    /// Forced, so that even the owner is filtered; the policy compares each row's `org_id`
    /// with the transaction's `rampart.org_id`, which is unset (null, so nothing matches)
    /// outside a tenant transaction.
    static func rowLevelSecurity(_ table: String) -> [String] {
        [
            "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY tenant_isolation ON \(table)
                USING (org_id = current_setting('rampart.org_id', true))
                WITH CHECK (org_id = current_setting('rampart.org_id', true))
            """,
        ]
    }

    /// The version the store is at, or nil before the first migration.
    public func currentVersion() async throws -> Int64? {
        try await database.global { sql in
            do {
                let row = try await sql.raw("SELECT MAX(version) AS v FROM schema_migrations").first()
                return try row?.decodeNil(column: "v") == false ? try row?.decode(column: "v", as: Int64.self) : nil
            } catch let error as RampartError {
                throw error
            } catch {
                return nil
            }
        }
    }

    static func isPlainIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63 && s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}
