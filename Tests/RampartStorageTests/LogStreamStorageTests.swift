import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Log streams in storage: audited changes, where a new stream starts reading, one node per
/// stream by lease, a cursor only its lease holder moves, and nothing seen across organisations.
@Suite("Log stream storage")
struct LogStreamStorageTests {
    @Test(arguments: Backend.all)
    func startPointsAndAuditedChanges(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            let (fromNow, fromStart, backfill, head) = try await store.database.write(org: org) { tenant in
                let before = try await tenant.auditHead().sequence
                let now = try await tenant.createLogStream(name: "Now", kind: .syslog,
                                                           fields: LogStreamFields(endpoint: "siem.example.com:6514"),
                                                           caCertificate: nil, start: .now, keys: store.keys, by: .system).stream
                let all = try await tenant.createLogStream(name: "All", kind: .syslog, fields: LogStreamFields(endpoint: "[::1]:6514"),
                                                           caCertificate: nil, start: .beginning, keys: store.keys, by: .system).stream
                let future = try await tenant.createLogStream(name: "Later", kind: .syslog,
                                                              fields: LogStreamFields(endpoint: "10.0.0.1:514"),
                                                              caCertificate: nil, start: .since(Timestamp.now().adding(days: 1)),
                                                              keys: store.keys, by: .system).stream
                return (now, all, future, before)
            }
            #expect(fromNow.cursor == head, "from now on: the stream's own creation event is its first")
            #expect(fromStart.cursor == 0)
            #expect(backfill.cursor == head + 2, "a time after every event: only what comes next")
            #expect(fromStart.hostAndPort == ("::1", 6514))

            // A change that would change nothing writes nothing; a real one writes its event.
            let events = try await store.database.read(org: org) { try await $0.auditHead().sequence }
            _ = try await store.database.write(org: org) { tenant in
                try await tenant.updateLogStream(fromNow.id, name: "Now", caCertificate: .unchanged, status: .active,
                                                 keys: store.keys, by: .system)
            }
            #expect(try await store.database.read(org: org) { try await $0.auditHead().sequence } == events)
            let paused = try await store.database.write(org: org) { tenant in
                try await tenant.updateLogStream(fromNow.id, name: nil, caCertificate: .pem("PEM"), status: .paused,
                                                 keys: store.keys, by: .system)
            }
            #expect(paused.status == .paused && paused.caCertificate == "PEM")
            let last = try await store.database.read(org: org) { try await $0.auditEvents(after: events, limit: 10) }
            #expect(last.map(\.action) == ["log_stream.updated"])
            #expect(last.first?.detailsJSON.contains("PEM sha256:") == true && last.first?.detailsJSON.contains("system roots") == true)

            await #expect(throws: RampartError.self) {
                try await store.database.write(org: org) { tenant in
                    try await tenant.createLogStream(name: "now", kind: .syslog, fields: LogStreamFields(endpoint: "a:1"),
                                                     caCertificate: nil, start: .now,
                                                     keys: store.keys, by: .system).stream
                }
            }
            for endpoint in ["siem", "siem:0", "siem:70000", "https://siem:514", "a b:514", ":514"] {
                await #expect(throws: RampartError.self, "\(endpoint)") {
                    try await store.database.write(org: org) { tenant in
                        try await tenant.createLogStream(name: "Bad", kind: .syslog, fields: LogStreamFields(endpoint: endpoint),
                                                         caCertificate: nil, start: .now, keys: store.keys, by: .system).stream
                    }
                }
            }
            try await store.database.write(org: org) { try await $0.deleteLogStream(backfill.id, by: .system) }
            #expect(try await store.database.read(org: org) { try await $0.logStreams() }.map(\.name) == ["All", "Now"])
        }
    }

    @Test(arguments: Backend.all)
    func oneNodeHoldsTheLeaseAndOnlyItMovesTheCursor(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            let stream = try await store.database.write(org: org) { tenant in
                try await tenant.createLogStream(name: "SIEM", kind: .syslog, fields: LogStreamFields(endpoint: "siem:6514"),
                                                 caCertificate: nil, start: .beginning, keys: store.keys, by: .system).stream
            }
            let until = Timestamp.now().adding(seconds: 30)
            let first = try await store.database.write(org: org) { try await $0.leaseLogStream(stream.id, owner: "node-a", until: until) }
            let second = try await store.database.write(org: org) { try await $0.leaseLogStream(stream.id, owner: "node-b", until: until) }
            #expect(first != nil && second == nil, "a leased stream is not given to another node")

            try await store.database.write(org: org) { try await $0.logStreamDelivered(stream.id, owner: "node-b", cursor: 3) }
            #expect(try await store.database.read(org: org) { try await $0.requireLogStream(stream.id) }.cursor == 0)
            try await store.database.write(org: org) { try await $0.logStreamDelivered(stream.id, owner: "node-a", cursor: 3) }
            try await store.database.write(org: org) { try await $0.logStreamDelivered(stream.id, owner: "node-a", cursor: 2) }
            let delivered = try await store.database.read(org: org) { try await $0.requireLogStream(stream.id) }
            #expect(delivered.cursor == 3 && delivered.lastSuccessAt != nil, "the cursor never moves back")
            // Checkpoints sent alone move their own cursor, and it never moves back either.
            try await store.database.write(org: org) {
                try await $0.logStreamDelivered(stream.id, owner: "node-a", cursor: 3, checkpointCursor: 3)
            }
            try await store.database.write(org: org) {
                try await $0.logStreamDelivered(stream.id, owner: "node-a", cursor: 3, checkpointCursor: 1)
            }
            let checkpointed = try await store.database.read(org: org) { try await $0.requireLogStream(stream.id) }
            #expect(checkpointed.cursor == 3 && checkpointed.checkpointCursor == 3)

            // A failure keeps the cursor and makes the stream wait; nobody can lease it before then.
            try await store.database.write(org: org) {
                try await $0.logStreamFailed(stream.id, owner: "node-a", error: "refused", retryAt: Timestamp.now().adding(seconds: 60))
            }
            let failed = try await store.database.read(org: org) { try await $0.requireLogStream(stream.id) }
            #expect(failed.cursor == 3 && failed.failures == 1 && failed.lastError == "refused" && failed.nextAttemptAt != nil)
            #expect(try await store.database.write(org: org) { try await $0.leaseLogStream(stream.id, owner: "node-a", until: until) } == nil)

            // An expired lease passes to another node; a paused stream is leased by nobody.
            _ = try await store.database.write(org: org) { tenant in
                try await tenant.updateLogStream(stream.id, name: nil, fields: LogStreamFields(endpoint: "siem:6515"),
                                                 caCertificate: .unchanged, status: nil, keys: store.keys, by: .system)
            }
            let expired = Timestamp.now().adding(seconds: -1)
            _ = try await store.database.write(org: org) { try await $0.leaseLogStream(stream.id, owner: "node-a", until: expired) }
            #expect(try await store.database.write(org: org) { try await $0.leaseLogStream(stream.id, owner: "node-b", until: until) } != nil)
            _ = try await store.database.write(org: org) { tenant in
                try await tenant.updateLogStream(stream.id, name: nil, caCertificate: .unchanged, status: .paused,
                                                 keys: store.keys, by: .system)
            }
            #expect(try await store.database.write(org: org) { try await $0.leaseLogStream(stream.id, owner: "node-b", until: until) } == nil)
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganisationSeesNoStream(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let first = try await store.createOrganization().organization.id
            let second = try await store.createOrganization().organization.id
            let stream = try await store.database.write(org: first) { tenant in
                try await tenant.createLogStream(name: "SIEM", kind: .syslog, fields: LogStreamFields(endpoint: "siem:6514"),
                                                 caCertificate: nil, start: .now,
                                                 keys: store.keys, by: .system).stream
            }
            #expect(try await store.database.read(org: second) { try await $0.logStreams() }.isEmpty)
            await #expect(throws: RampartError.self) {
                try await store.database.read(org: second) { try await $0.requireLogStream(stream.id) }
            }
            #expect(try await store.database.write(org: second) {
                try await $0.leaseLogStream(stream.id, owner: "x", until: Timestamp.now().adding(seconds: 30))
            } == nil)
            await #expect(throws: RampartError.self) {
                try await store.database.write(org: second) { try await $0.deleteLogStream(stream.id, by: .system) }
            }
            #expect(try await store.database.read(org: first) { try await $0.logStreams() }.count == 1)
        }
    }

    @Test(arguments: Backend.all)
    func aBatchGivenUpOnBecomesADeadLetterAndTheStreamMovesOn(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            let other = try await store.createOrganization().organization.id
            let stream = try await store.database.write(org: org) { tenant in
                try await tenant.createLogStream(name: "SIEM", kind: .syslog,
                                                 fields: LogStreamFields(endpoint: "siem:6514", deadLetterAfter: 3),
                                                 caCertificate: nil, start: .beginning, keys: store.keys, by: .system).stream
            }
            #expect(stream.deadLetterAfter == 3 && stream.deadLetters == 0)
            for refused in [Int64(0), 1001] {
                await #expect(throws: RampartError.self, "\(refused)") {
                    try await store.database.write(org: org) { tenant in
                        try await tenant.updateLogStream(stream.id, name: nil, fields: LogStreamFields(deadLetterAfter: refused),
                                                         caCertificate: .unchanged, status: nil, keys: store.keys, by: .system)
                    }
                }
            }
            let until = Timestamp.now().adding(seconds: 30)
            _ = try await store.database.write(org: org) { try await $0.leaseLogStream(stream.id, owner: "node-a", until: until) }
            try await store.database.write(org: org) {
                try await $0.logStreamFailed(stream.id, owner: "node-a", error: "HTTP 500", retryAt: .now())
            }
            let head = try await store.database.read(org: org) { try await $0.auditHead().sequence }

            // Only the lease holder gives a batch up.
            #expect(try await store.database.write(org: org) {
                try await $0.deadLetterLogStreamBatch(stream.id, owner: "node-b", first: 1, last: 2, events: 2, error: "x", attempts: 3)
            } == nil)
            let letter = try #require(try await store.database.write(org: org) {
                try await $0.deadLetterLogStreamBatch(stream.id, owner: "node-a", first: 1, last: 2, events: 2, error: "HTTP 500: poison",
                                                      attempts: 3)
            })
            let moved = try await store.database.read(org: org) { try await $0.requireLogStream(stream.id) }
            #expect(moved.cursor == 2 && moved.failures == 0 && moved.nextAttemptAt == nil && moved.deadLetters == 1,
                    "the stream moves past the batch and starts its attempts again")
            let event = try #require(try await store.database.read(org: org) { try await $0.auditEvents(after: head, limit: 10) }.last)
            #expect(event.action == "log_stream.dead_lettered" && event.actor.type == .system)
            #expect(event.detailsJSON.contains(#""firstSequence":1"#) && event.detailsJSON.contains(#""lastSequence":2"#))
            // A batch the cursor already passed is not given up twice.
            #expect(try await store.database.write(org: org) {
                try await $0.deadLetterLogStreamBatch(stream.id, owner: "node-a", first: 1, last: 2, events: 2, error: "x", attempts: 3)
            } == nil)
            let listed = try await store.database.read(org: org) { try await $0.logStreamDeadLetters(stream.id) }
            #expect(listed == [letter] && letter.error == "HTTP 500: poison" && letter.events == 2)

            // Another organisation neither sees nor removes it.
            await #expect(throws: RampartError.self) {
                try await store.database.read(org: other) { try await $0.logStreamDeadLetters(stream.id) }
            }
            await #expect(throws: RampartError.self) {
                try await store.database.write(org: other) {
                    try await $0.removeLogStreamDeadLetter(stream.id, letter.id, replayed: false, by: .system)
                }
            }
            await #expect(throws: RampartError.self, "a dead letter is found only under its own stream") {
                try await store.database.read(org: org) { try await $0.requireLogStreamDeadLetter(Identifier.make(), letter.id) }
            }
            if backend == .postgres {
                let seen = try await store.database.read(org: other) { tenant in
                    try await tenant.sql.raw("SELECT COUNT(*) AS n FROM log_stream_dead_letters").first()?.decode(column: "n", as: Int64.self)
                }
                #expect(seen == 0, "row-level security hides other organisations' dead letters")
            }

            let discarded = try await store.database.write(org: org) {
                try await $0.removeLogStreamDeadLetter(stream.id, letter.id, replayed: false, by: .system)
            }
            #expect(discarded == letter)
            #expect(try await store.database.read(org: org) { try await $0.logStreamDeadLetters(stream.id) }.isEmpty)
            let last = try #require(try await store.database.read(org: org) { try await $0.auditEvents(after: head, limit: 10) }.last)
            #expect(last.action == "log_stream.dead_letter_discarded" && last.detailsJSON.contains(letter.id))
            await #expect(throws: RampartError.self, "gone once discarded") {
                try await store.database.write(org: org) {
                    try await $0.removeLogStreamDeadLetter(stream.id, letter.id, replayed: true, by: .system)
                }
            }
        }
    }

    @Test(arguments: Backend.all)
    func aPseudonymousStreamHasItsOrganisationsStablePseudonyms(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            let other = try await store.createOrganization().organization.id
            func stream(in org: String, _ personalData: String?) async throws -> LogStream {
                try await store.database.write(org: org) { tenant in
                    try await tenant.createLogStream(name: "SIEM \(personalData ?? "default")", kind: .syslog,
                                                     fields: LogStreamFields(endpoint: "siem:6514", personalData: personalData),
                                                     caCertificate: nil, start: .now, keys: store.keys, by: .system).stream
                }
            }
            let full = try await stream(in: org, nil)
            let pseudonymous = try await stream(in: org, "pseudonymous")
            let elsewhere = try await stream(in: other, "pseudonymous")
            #expect(full.personalData == .full && pseudonymous.personalData == .pseudonymous)
            await #expect(throws: RampartError.self) { try await stream(in: org, "anonymous") }
            func pseudonyms(_ org: String, _ stream: LogStream) async throws -> ActorPseudonyms? {
                try await store.database.read(org: org) { try await $0.logStreamPseudonyms(stream, keys: store.keys) }
            }
            #expect(try await pseudonyms(org, full) == nil)
            let ada = AuditActor(type: .user, id: "u-1", name: "ada@example.com")
            let here = try #require(try await pseudonyms(org, pseudonymous)).pseudonym(of: ada)
            #expect(try #require(try await pseudonyms(org, pseudonymous)).pseudonym(of: ada) == here, "stable in the organisation")
            #expect(try #require(try await pseudonyms(other, elsewhere)).pseudonym(of: ada) != here, "another in another organisation")

            let head = try await store.database.read(org: org) { try await $0.auditHead().sequence }
            let changed = try await store.database.write(org: org) { tenant in
                try await tenant.updateLogStream(full.id, name: nil, fields: LogStreamFields(personalData: "pseudonymous"),
                                                 caCertificate: .unchanged, status: nil, keys: store.keys, by: .system)
            }
            #expect(changed.personalData == .pseudonymous)
            #expect(try await store.database.read(org: org) { try await $0.requireLogStream(full.id) }.personalData == .pseudonymous)
            let event = try #require(try await store.database.read(org: org) { try await $0.auditEvents(after: head, limit: 5) }.last)
            #expect(event.detailsJSON.contains(#""personalData":{"after":"pseudonymous","before":"full"}"#), "\(event.detailsJSON)")
        }
    }
}
