import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// Saved filters of the audit log: named per organisation, unique in any case, checked as the
/// list's parameters are, audited in the transaction of each change, and never seen by another
/// organisation, even through raw SQL on PostgreSQL's row-level security.
@Suite("Audit log saved filters")
struct AuditFilterTests {
    @Test(arguments: Backend.all)
    func savedListedAndDeletedEachWithItsEvent(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let by = acting(as: created.admin)
            let since = try #require(Timestamp(rfc3339: "2026-11-01T00:00:00Z"))
            let saved = try await store.database.write(org: org) { t in
                try await t.saveAuditFilter(name: "  Sign-in failures ", view: .init(q: " ada   lovelace ", action: "auth.signin_failed",
                                                                                       since: since), by: by)
            }
            #expect(saved.name == "Sign-in failures")
            #expect(saved.view == .init(q: "ada lovelace", action: "auth.signin_failed", since: since))
            let other = try await store.database.write(org: org) { t in
                try await t.saveAuditFilter(name: "admin changes", view: .init(action: "role."), by: by)
            }
            #expect(try await store.database.read(org: org) { try await $0.auditFilters() } == [other, saved], "by name, any case")

            var events = try await store.events(org)
            let createdEvent = try #require(events.last)
            #expect(createdEvent.action == "audit_filter.created" && createdEvent.actor.id == created.admin.id)
            #expect(AuditTarget.parse(createdEvent.targetsJSON) == [AuditTarget(type: "audit_filter", id: other.id, name: "admin changes")])
            #expect(createdEvent.detailsJSON == #"{"fields":["action"]}"#)
            #expect(events.dropLast().last?.detailsJSON == #"{"fields":["q","action","since"]}"#,
                    "the filters it sets, not their values")

            try await store.database.write(org: org) { try await $0.deleteAuditFilter(saved.id, by: by) }
            #expect(try await store.database.read(org: org) { try await $0.auditFilters() } == [other])
            events = try await store.events(org)
            #expect(events.last?.action == "audit_filter.deleted")
            #expect(try await store.verify(created.organization).failure == nil)
        }
    }

    @Test(arguments: Backend.all)
    func badInputIsRefusedAndChangesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            _ = try await store.database.write(org: org) {
                try await $0.saveAuditFilter(name: "Failures", view: .init(action: "auth.signin_failed"), by: .system)
            }
            let head = try await store.head(org)
            let since = Timestamp.now()
            let refused: [(RampartError.Code, String, AuditSavedFilter.View)] = [
                (.conflict, "FAILURES", .init(action: "user.")),
                (.invalidField, "   ", .init(action: "user.")),
                (.invalidField, String(repeating: "n", count: AuditSavedFilter.maxNameLength + 1), .init(action: "user.")),
                (.invalidField, "Tab\tname", .init(action: "user.")),
                (.invalidField, "Nothing", .init()),
                (.invalidField, "Blank", .init(q: "  ", action: " ")),
                (.invalidField, "Too many words", .init(q: (1...11).map(String.init).joined(separator: " "))),
                (.invalidField, "Too long", .init(target: String(repeating: "t", count: 201))),
                (.invalidField, "Backwards", .init(since: since, until: since.adding(seconds: -1))),
            ]
            for (code, name, view) in refused {
                await expectRampartError(code) {
                    _ = try await store.database.write(org: org) { try await $0.saveAuditFilter(name: name, view: view, by: .system) }
                }
            }
            await expectRampartError(.notFound) {
                try await store.database.write(org: org) { try await $0.deleteAuditFilter(Identifier.make(), by: .system) }
            }
            await expectRampartError(.notFound) {
                try await store.database.write(org: org) { try await $0.deleteAuditFilter("not-an-id", by: .system) }
            }
            #expect(try await store.head(org) == head, "nothing refused wrote an event")
            #expect(try await store.database.read(org: org) { try await $0.auditFilters() }.map(\.name) == ["Failures"])
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganisationNeitherSeesNorDeletesThem(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization().organization.id
            let b = try await store.createOrganization().organization.id
            let mine = try await store.database.write(org: a) {
                try await $0.saveAuditFilter(name: "Shared name", view: .init(action: "user."), by: .system)
            }
            let headB = try await store.head(b)
            try await store.database.read(org: b) { t in
                #expect(try await t.auditFilters().isEmpty)
                #expect(try await t.auditFilter(mine.id) == nil)
                let raw = try await t.sql.raw("SELECT COUNT(*) AS n FROM audit_filters WHERE id = \(bind: mine.id)").first()!
                #expect(try raw.decode(column: "n", as: Int64.self) == (backend == .postgres ? 0 : 1),
                        "PostgreSQL's row-level security hides the row even from SQL that names it")
            }
            await expectRampartError(.notFound) {
                try await store.database.write(org: b) { try await $0.deleteAuditFilter(mine.id, by: .system) }
            }
            // The same name is free in another organisation.
            _ = try await store.database.write(org: b) {
                try await $0.saveAuditFilter(name: "Shared name", view: .init(action: "group."), by: .system)
            }
            #expect(try await store.database.read(org: a) { try await $0.auditFilters() } == [mine])
            #expect(try await store.head(b).sequence == headB.sequence + 1)
        }
    }
}
