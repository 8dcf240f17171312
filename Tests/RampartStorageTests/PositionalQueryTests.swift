import RampartCore
@testable import RampartStorage
import RampartTestSupport
import Testing

/// The lean query path: `?n` parameters and columns read by position, on SQLite straight
/// through the connection, on PostgreSQL through SQLKit's binds.
@Suite("Positional queries")
struct PositionalQueryTests {
    @Test(arguments: Backend.all)
    func parametersAreMatchedByNumberNotByOrder(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization()
            let row = try await store.database.read(org: a.organization.id) { tenant async throws in
                try await tenant.row("SELECT ?2 AS a, ?1 AS b, ?2 AS c, ?10 AS d", ["x", "y", "", "", "", "", "", "", "", "ten"]) {
                    [try $0.text(0), try $0.text(1), try $0.text(2), try $0.text(3)]
                }
            }
            #expect(row == ["y", "x", "y", "ten"])
        }
    }

    @Test(arguments: Backend.all)
    func nullsAndTypesAreReadByPosition(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization()
            try await store.database.read(org: a.organization.id) { tenant async throws in
                let values = try await tenant.row("SELECT CAST(NULL AS TEXT) AS a, CAST(NULL AS BIGINT) AS b, CAST(42 AS BIGINT) AS c", []) {
                    (try $0.optionalText(0), try $0.optionalInteger(1), try $0.integer(2), try $0.optionalInteger(2))
                }
                #expect(values?.0 == nil && values?.1 == nil && values?.2 == 42 && values?.3 == 42)
                // A column of the wrong type is an error, not a wrong value.
                await #expect(throws: (any Error).self) {
                    _ = try await tenant.row("SELECT 'text' AS a", []) { try $0.integer(0) }
                }
            }
        }
    }

    @Test(arguments: Backend.all)
    func aQueryWithoutRowsGivesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization()
            let users = try await store.database.read(org: a.organization.id) { tenant async throws in
                try await tenant.rows(tenant.userSelect + " WHERE u.org_id = ?1 AND u.id = ?2", [a.organization.id, "none"],
                                      Tenant.decodeUser)
            }
            #expect(users.isEmpty)
        }
    }
}
