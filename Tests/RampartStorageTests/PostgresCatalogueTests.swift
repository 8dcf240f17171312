import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

@Suite("PostgreSQL catalogue", .enabled(if: Backend.all.contains(.postgres), "needs RAMPART_TEST_POSTGRES_*_URL"))
struct PostgresCatalogueTests {
    struct TableSecurity: Sendable, CustomStringConvertible {
        let name: String
        let enabled: Bool
        let forced: Bool
        let policies: Int64
        var description: String { "\(name) (rls \(enabled), forced \(forced), policies \(policies))" }
    }

    static var appRole: String { URLComponents(string: Backend.postgresAppURL ?? "")?.user ?? "" }

    @Test func everyTenantTableHasForcedRowLevelSecurity() async throws {
        try await TestStore.with(.postgres) { store async throws in
            let tables = try await store.asOwner { db in
                try await db.global { sql in
                    try await sql.raw("""
                        SELECT c.relname::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                               (SELECT COUNT(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id'
                                      AND a.attnum > 0 AND NOT a.attisdropped)
                        ORDER BY c.relname
                        """).all().map { row in
                        TableSecurity(name: try row.decode(column: "name", as: String.self),
                                      enabled: try row.decode(column: "enabled", as: Bool.self),
                                      forced: try row.decode(column: "forced", as: Bool.self),
                                      policies: try row.decode(column: "policies", as: Int64.self))
                    }
                }
            }
            #expect(tables.count >= 10, "\(tables)")
            let offending = tables.filter { !$0.enabled || !$0.forced || $0.policies == 0 }
            #expect(offending.isEmpty, "\(offending)")
            let names = Set(tables.map(\.name))
            for table in ["users", "api_tokens", "org_keys", "audit_events", "audit_heads", "audit_event_targets"] {
                #expect(names.contains(table), "\(table) is not a tenant table")
            }
        }
    }

    @Test func theAppRoleCannotBypassRowLevelSecurity() async throws {
        let role = Self.appRole
        try #require(!role.isEmpty)
        try await TestStore.with(.postgres) { store async throws in
            let connectedAs = try await store.database.global { sql in
                try await sql.raw("SELECT current_user::text AS u").first()!.decode(column: "u", as: String.self)
            }
            #expect(connectedAs == role)
            let (attributes, ownedTables, ownedRelations) = try await store.asOwner { db in
                try await db.global { sql in
                    let attributes = try await sql.raw("""
                        SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = \(bind: role)
                        """).all().map { [try $0.decode(column: "rolsuper", as: Bool.self),
                                          try $0.decode(column: "rolbypassrls", as: Bool.self)] }
                    let tables = try await sql.raw("""
                        SELECT tablename::text AS t FROM pg_tables WHERE tableowner = \(bind: role)
                        """).all().map { try $0.decode(column: "t", as: String.self) }
                    let relations = try await sql.raw("""
                        SELECT c.relname::text AS t FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE r.rolname = \(bind: role) AND n.nspname = 'public'
                        """).all().map { try $0.decode(column: "t", as: String.self) }
                    return (attributes, tables, relations)
                }
            }
            #expect(attributes == [[false, false]], "rolsuper, rolbypassrls")
            #expect(ownedTables.isEmpty, "\(ownedTables)")
            #expect(ownedRelations.isEmpty, "\(ownedRelations)")
        }
    }

    @Test func outsideATenantTransactionTheAppSeesNoTenantRows() async throws {
        try await TestStore.with(.postgres) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let inside = try await store.database.read(org: org) { t async throws in
                try await t.sql.raw("SELECT COUNT(*) AS n FROM users").first()!.decode(column: "n", as: Int64.self)
            }
            #expect(inside == 1)
            let outside = try await store.database.global { sql in
                var counts: [String: Int64] = [:]
                for table in ["users", "api_tokens", "org_keys", "audit_events", "audit_heads"] {
                    counts[table] = try await sql.raw(SQLQueryString("SELECT COUNT(*) AS n FROM \(ident: table)")).first()!
                        .decode(column: "n", as: Int64.self)
                }
                return counts
            }
            #expect(outside == ["users": 0, "api_tokens": 0, "org_keys": 0, "audit_events": 0, "audit_heads": 0])
            let organizations = try await store.database.global { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM organizations WHERE id = \(bind: org)").first()!
                    .decode(column: "n", as: Int64.self)
            }
            #expect(organizations == 1, "organizations belong to no tenant and stay visible")
        }
    }

    /// Row-level security holds even for SQL that forgets to name the organisation.
    @Test func rawSQLInAnotherTenantSeesAndChangesNothing() async throws {
        try await TestStore.with(.postgres) { store in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let victim = a.admin
            let seen = try await store.database.write(org: b.organization.id) { t in
                try await t.sql.raw("UPDATE users SET display_name = 'pwned' WHERE id = \(bind: victim.id)").run()
                return try await t.sql.raw("SELECT COUNT(*) AS n FROM users WHERE id = \(bind: victim.id)").first()!
                    .decode(column: "n", as: Int64.self)
            }
            #expect(seen == 0)
            #expect(try await store.database.read(org: a.organization.id) { try await $0.user(victim.id) }?.displayName
                == victim.displayName)
            await #expect(throws: (any Error).self) {
                try await store.database.write(org: b.organization.id) { t in
                    try await t.sql.raw("""
                        INSERT INTO users (org_id, id, email, display_name, status, created_at)
                        VALUES (\(bind: a.organization.id), \(bind: Identifier.make()), 'planted@example.com', 'Planted',
                                'active', 0)
                        """).run()
                }
            }
            #expect(try await store.database.read(org: a.organization.id) { try await $0.user(email: "planted@example.com") }
                == nil)
        }
    }
}
