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

    /// Renamed, then its view changed: the event names the fields changed, not their values;
    /// a change to what is already there writes nothing; another case of the same name is a rename.
    @Test(arguments: Backend.all)
    func renamedAndChangedEachWithTheFieldsItsEventNames(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let by = acting(as: created.admin)
            let since = try #require(Timestamp(rfc3339: "2026-11-01T00:00:00Z"))
            let saved = try await store.database.write(org: org) { t in
                try await t.saveAuditFilter(name: "Failures", view: .init(q: "ada", action: "auth.signin_failed", since: since), by: by)
            }
            let renamed = try await store.database.write(org: org) {
                try await $0.updateAuditFilter(saved.id, .init(name: "  Sign-in failures "), by: by)
            }
            #expect(renamed.name == "Sign-in failures" && renamed.view == saved.view && renamed.createdAt == saved.createdAt)
            var event = try #require(try await store.events(org).last)
            #expect(event.action == "audit_filter.updated" && event.actor.id == created.admin.id)
            #expect(AuditTarget.parse(event.targetsJSON) == [AuditTarget(type: "audit_filter", id: saved.id, name: "Sign-in failures")])
            #expect(event.detailsJSON == #"{"changed":["name"]}"#)

            let until = since.adding(days: 1)
            let changed = try await store.database.write(org: org) {
                try await $0.updateAuditFilter(saved.id, .init(q: .some(nil), actor: .some(" user-1 "), until: .some(until)), by: by)
            }
            #expect(changed.name == "Sign-in failures")
            #expect(changed.view == .init(action: "auth.signin_failed", actor: "user-1", since: since, until: until))
            event = try #require(try await store.events(org).last)
            #expect(event.detailsJSON == #"{"changed":["q","actor","until"]}"#, "the fields changed, not their values")
            #expect(try await store.database.read(org: org) { try await $0.auditFilter(saved.id) } == changed)

            let head = try await store.head(org)
            let same = try await store.database.write(org: org) {
                try await $0.updateAuditFilter(saved.id, .init(name: "Sign-in failures", action: .some("auth.signin_failed")), by: by)
            }
            #expect(same == changed)
            #expect(try await store.head(org) == head, "a change to nothing writes nothing")
            let recased = try await store.database.write(org: org) {
                try await $0.updateAuditFilter(saved.id, .init(name: "SIGN-IN failures"), by: by)
            }
            #expect(recased.name == "SIGN-IN failures")
            #expect(try await store.events(org).last?.detailsJSON == #"{"changed":["name"]}"#)
            #expect(try await store.verify(created.organization).failure == nil)
        }
    }

    /// Each refusal of `saveAuditFilter` holds for a change too, and a refused change that also
    /// renames renames nothing.
    @Test(arguments: Backend.all)
    func aRefusedChangeChangesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let since = Timestamp.now()
            let saved = try await store.database.write(org: org) { t in
                _ = try await t.saveAuditFilter(name: "Role changes", view: .init(action: "role."), by: .system)
                return try await t.saveAuditFilter(name: "Failures", view: .init(action: "auth.signin_failed", since: since), by: .system)
            }
            let head = try await store.head(org)
            let before = try await store.database.read(org: org) { try await $0.auditFilters() }
            let refused: [(RampartError.Code, AuditSavedFilter.Change)] = [
                (.conflict, .init(name: "ROLE changes")),
                (.invalidField, .init(name: "   ")),
                (.invalidField, .init(name: String(repeating: "n", count: AuditSavedFilter.maxNameLength + 1))),
                (.invalidField, .init(name: "Tab\tname")),
                (.invalidField, .init(action: .some(nil), since: .some(nil))),
                (.invalidField, .init(action: .some("  "), since: .some(nil))),
                (.invalidField, .init(until: .some(since.adding(seconds: -1)))),
                (.invalidField, .init(name: "Renamed", target: .some(String(repeating: "t", count: 201)))),
                (.invalidField, .init(name: "Renamed", q: .some((1...11).map(String.init).joined(separator: " ")))),
            ]
            for (code, change) in refused {
                await expectRampartError(code) {
                    _ = try await store.database.write(org: org) { try await $0.updateAuditFilter(saved.id, change, by: .system) }
                }
            }
            for id in [Identifier.make(), "not-an-id"] {
                await expectRampartError(.notFound) {
                    _ = try await store.database.write(org: org) { try await $0.updateAuditFilter(id, .init(name: "X"), by: .system) }
                }
            }
            #expect(try await store.head(org) == head, "nothing refused wrote an event")
            #expect(try await store.database.read(org: org) { try await $0.auditFilters() } == before)
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
            await expectRampartError(.notFound) {
                _ = try await store.database.write(org: b) { try await $0.updateAuditFilter(mine.id, .init(name: "Taken"), by: .system) }
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
