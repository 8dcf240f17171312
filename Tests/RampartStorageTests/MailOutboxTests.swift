import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Mail outbox")
struct MailOutboxTests {
    @Test(arguments: Backend.all)
    func mailIsQueuedWithItsChangeSealedAndLeavesWhenSent(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            let keys = store.keys
            // A change that rolls back takes its mail with it.
            await #expect(throws: RampartError.self) {
                try await store.database.write(org: org) { tenant in
                    try await tenant.queueMail(to: "a@example.com", subject: "Lost", body: "never sent", keys: keys)
                    throw RampartError(.conflict, "the change failed")
                }
            }
            #expect(try await store.database.read(org: org) { try await $0.outboxState().waiting } == 0)

            try await store.database.write(org: org) { tenant in
                try await tenant.queueMail(to: "a@example.com", subject: "Reset", body: "link: secret-123", keys: keys)
            }
            let stored = try await store.database.read(org: org) { tenant in
                try await tenant.sql.raw("SELECT sealed_body FROM mail_outbox").first()?.decode(column: "sealed_body", as: String.self)
            }
            #expect(stored?.contains("secret-123") == false, "the body is sealed at rest")
            let due = try await store.database.read(org: org) { try await $0.dueMail(keys: keys) }
            #expect(due.map(\.body) == ["link: secret-123"])

            // A failed attempt waits before the next; a sent message is gone.
            let id = try #require(due.first?.id)
            try await store.database.write(org: org) { try await $0.mailFailed(id, attempts: 0, error: "exit 75") }
            #expect(try await store.database.read(org: org) { try await $0.dueMail(keys: keys) }.isEmpty)
            let later = Timestamp.now().adding(seconds: 6)
            #expect(try await store.database.read(org: org) { try await $0.dueMail(at: later, keys: keys) }.map(\.attempts) == [1])
            #expect(try await store.database.read(org: org) { try await $0.outboxState().lastError } == "exit 75")
            try await store.database.write(org: org) { try await $0.mailSent(id) }
            #expect(try await store.database.read(org: org) { try await $0.outboxState().waiting } == 0)
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganisationSeesNoneOfIt(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let first = try await store.createOrganization().organization.id
            let second = try await store.createOrganization().organization.id
            let keys = store.keys
            try await store.database.write(org: first) {
                try await $0.queueMail(to: "a@example.com", subject: "Reset", body: "for the first", keys: keys)
            }
            #expect(try await store.database.read(org: second) { try await $0.dueMail(keys: keys) }.isEmpty)
            #expect(try await store.database.read(org: second) { try await $0.outboxState().waiting } == 0)
        }
    }
}
