import Foundation
import HTTPTypes
import HummingbirdTesting
import RampartCore
@testable import RampartServer
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// The console's proof pages (`ConsoleAuditProofsController`): what they show, what they offer
/// to download, and what they say when the log was changed or the input is wrong.
@Suite("Console audit proofs")
struct ConsoleAuditProofTests {
    /// An organisation with an admin signed in, `count` more events, and a checkpoint of them.
    struct Fixture {
        let browser: ConsoleBrowser
        let session: String
        let orgID: String
        let slug: String
        let checkpoint: AuditCheckpoint
    }

    static func fixture(_ client: some TestClientProtocol, _ store: TestStore, events count: Int) async throws -> Fixture {
        let org = try await store.createOrganization()
        let browser = ConsoleBrowser(client: client)
        let session = try await ConsoleTests.setUpAdmin(browser, org)
        let checkpoint = try await appendAndSign(store, org.organization.id, events: count)
        return Fixture(browser: browser, session: session, orgID: org.organization.id, slug: org.organization.slug,
                       checkpoint: checkpoint)
    }

    static func appendAndSign(_ store: TestStore, _ orgID: String, events count: Int) async throws -> AuditCheckpoint {
        let keys = store.keys
        return try #require(try await store.database.write(org: orgID) { tenant in
            for _ in 0..<count {
                _ = try await tenant.createGroup(name: "Group \(UUID().uuidString.prefix(8))", description: nil, by: .system)
            }
            return try await tenant.signAuditCheckpoint(keys: keys)
        })
    }

    @Test(arguments: Backend.all)
    func anEventsProveLinkShowsItsProofAndOffersItToCheckOffline(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let f = try await Self.fixture(client, store, events: 6)
            let log = try await f.browser.get("/console/audit", cookie: f.session)
            #expect(log.text.contains(#"id="prove-3""#) && log.text.contains(#"id="prove-\#(f.checkpoint.sequence)""#))
            #expect(log.text.contains(#"id="prove-checkpoint""#))

            // An event after the checkpoint has no link yet.
            _ = try await store.database.write(org: f.orgID) { try await $0.createGroup(name: "Later", description: nil, by: .system) }
            let newer = try await f.browser.get("/console/audit", cookie: f.session)
            #expect(!newer.text.contains(#"id="prove-\#(f.checkpoint.sequence + 1)""#))

            let page = try await f.browser.get("/console/audit/proofs/inclusion?seq=3", cookie: f.session)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"class="banner success" id="verdict""#) && page.text.contains("Proven: event 3"))
            let expected = try await store.database.read(org: f.orgID) { try await $0.auditInclusionProof(sequence: 3) }
            let root = try #require(expected.checkpoint.treeRoot)
            #expect(page.text.contains(expected.eventHash) && page.text.contains(root))
            for hash in expected.auditPath { #expect(page.text.contains("<li><code>\(hash)</code></li>")) }

            let download = try await f.browser.get("/console/audit/proofs/inclusion/download?seq=3&treeSize=\(expected.treeSize)",
                                                   cookie: f.session)
            #expect(download.status == .ok)
            #expect(download.headers[AuditDownload.contentDisposition]?.contains(".proof.json") == true)
            #expect(Array(buffer: download.body) == (try JSONBodyEncoder.encode(expected, pretty: true)), "the API's JSON")
            let saved = try JSONDecoder().decode(AuditInclusionProof.self, from: Data(buffer: download.body))
            #expect(saved.verify(trustedKeys: [expected.checkpoint.publicKey]).proven)
        }
    }

    /// The same hash edited in the database: the page says so instead of "Proven".
    @Test(arguments: Backend.all)
    func anEditedEventIsNotProven(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let f = try await Self.fixture(client, store, events: 6)
            try await store.asOwner { database in
                try await database.write(org: f.orgID) {
                    try await $0.sql.raw("""
                        UPDATE audit_events SET hash = \(bind: String(repeating: "0", count: 64))
                        WHERE org_id = \(bind: f.orgID) AND seq = 4
                        """).run()
                }
            }
            let page = try await f.browser.get("/console/audit/proofs/inclusion?seq=4", cookie: f.session)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"class="error" id="verdict""#))
            #expect(page.text.contains("Not proven: the audit path does not lead from the event&#39;s hash to the signed tree root")
                || page.text.contains("Not proven: the audit path does not lead from the event's hash to the signed tree root"))
            #expect(!page.text.contains("Proven:"))
        }
    }

    /// Empty, non-numeric, too new and unknown: the form comes back with the message, the
    /// values typed, and the status the API gives.
    @Test(arguments: Backend.all)
    func badInclusionInputComesBackWithItsMessage(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let f = try await Self.fixture(client, store, events: 2)
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("seq=", .badRequest, "Give the sequence number of the event to prove"),
                ("", .badRequest, "Give the sequence number of the event to prove"),
                ("seq=three", .badRequest, "must be a whole number from 1 on"),
                ("seq=-1", .badRequest, "must be a whole number from 1 on"),
                ("seq=\(f.checkpoint.sequence + 1)", .badRequest, "is after the tree of \(f.checkpoint.sequence) events"),
                ("seq=1&treeSize=\(f.checkpoint.sequence - 1)", .notFound, "No checkpoint signs a tree of"),
            ]
            for (query, status, message) in cases {
                let page = try await f.browser.get("/console/audit/proofs/inclusion?\(query)", cookie: f.session)
                #expect(page.status == status, "\(query)")
                #expect(page.text.contains(#"id="proof-error""#) && page.text.contains(message), "\(query)")
                #expect(page.text.contains(#"id="inclusion-form""#) && !page.text.contains(#"id="verdict""#), "\(query)")
                let download = try await f.browser.get("/console/audit/proofs/inclusion/download?\(query)", cookie: f.session)
                #expect(download.status == status, "\(query)")
            }
            let typed = try await f.browser.get("/console/audit/proofs/inclusion?seq=three&treeSize=+7", cookie: f.session)
            #expect(typed.text.contains(#"name="seq" inputmode="numeric" value="three""#), "the form keeps what was typed")
        }
    }

    /// A witness pastes the checkpoint it kept: proven against a newer one, refused when forged
    /// or not a checkpoint, and the size given must be that checkpoint's.
    @Test(arguments: Backend.all)
    func aHeldCheckpointIsProvenTheStartOfANewerOne(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let f = try await Self.fixture(client, store, events: 3)
            let newer = try await Self.appendAndSign(store, f.orgID, events: 5)
            let held = String(decoding: try JSONEncoder().encode(f.checkpoint), as: UTF8.self)
            let encoded = Self.formEncoded(held)

            let bySize = try await f.browser.get("/console/audit/proofs/consistency?first=\(f.checkpoint.sequence)", cookie: f.session)
            #expect(bySize.status == .ok && bySize.text.contains("Proven: the tree of the first \(f.checkpoint.sequence) events"))
            #expect(bySize.text.contains("the store&#39;s checkpoint") || bySize.text.contains("the store's checkpoint"))

            let fromHeld = try await f.browser.get("/console/audit/proofs/consistency?held=\(encoded)&first=&second=", cookie: f.session)
            #expect(fromHeld.status == .ok)
            #expect(fromHeld.text.contains("as the checkpoint you hold signs it") && fromHeld.text.contains(#"class="banner success""#))
            let newerRoot = try #require(newer.treeRoot)
            #expect(fromHeld.text.contains(newerRoot))

            let download = try await f.browser.get(
                "/console/audit/proofs/consistency/download?first=\(f.checkpoint.sequence)&second=\(newer.sequence)", cookie: f.session)
            let proof = try JSONDecoder().decode(AuditConsistencyProof.self, from: Data(buffer: download.body))
            #expect(proof.verify(from: f.checkpoint, trustedKeys: [newer.publicKey]).proven)

            // A root the witness did not get from this log: the signature no longer verifies.
            let forgedRoot = String(repeating: "a", count: 64)
            let forged = held.replacingOccurrences(of: try #require(f.checkpoint.treeRoot), with: forgedRoot)
            let refused = try await f.browser.get("/console/audit/proofs/consistency?held=\(Self.formEncoded(forged))", cookie: f.session)
            #expect(refused.status == .ok && refused.text.contains(#"class="error" id="verdict""#))
            #expect(refused.text.contains("Not proven: the first checkpoint"))

            let cases: [(String, HTTPResponse.Status, String)] = [
                ("held=not+json", .badRequest, "is not a checkpoint"),
                ("held=\(encoded)&first=\(f.checkpoint.sequence + 1)", .badRequest, "is not the size of the checkpoint you hold"),
                ("first=&held=", .badRequest, "Give the size of the tree you hold"),
                ("first=1&second=\(newer.sequence + 1)", .notFound, "No checkpoint signs a tree"),
                ("first=\(newer.sequence)&second=\(f.checkpoint.sequence)", .badRequest, "is larger than the second"),
            ]
            for (query, status, message) in cases {
                let page = try await f.browser.get("/console/audit/proofs/consistency?\(query)", cookie: f.session)
                #expect(page.status == status, "\(query)")
                #expect(page.text.contains(#"id="proof-error""#) && page.text.contains(message), "\(query): \(page.text)")
            }
        }
    }

    /// A user administrator may not read the log: no proof pages, no downloads. Another
    /// organisation's admin asking for the same numbers gets their own log's answer.
    @Test(arguments: Backend.all)
    func proofsFollowTheReaderAndTheirOrganisation(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let f = try await Self.fixture(client, store, events: 4)
            let other = try await store.createOrganization()
            let otherSession = try await ConsoleTests.setUpAdmin(f.browser, other)
            let foreign = try await f.browser.get("/console/audit/proofs/inclusion?seq=2&treeSize=\(f.checkpoint.sequence)",
                                                  cookie: otherSession)
            #expect(foreign.status == .notFound, "B has no checkpoint of A's size")
            let root = try #require(f.checkpoint.treeRoot)
            #expect(!foreign.text.contains(root))
            let foreignDownload = try await f.browser.get(
                "/console/audit/proofs/inclusion/download?seq=2&treeSize=\(f.checkpoint.sequence)", cookie: otherSession)
            #expect(foreignDownload.status == .notFound)

            try await store.database.write(org: f.orgID) { tenant in
                let admin = try #require(try await tenant.user(email: "admin@example.com"))
                let successor = try await tenant.createUser(email: "next@example.com", displayName: "Next", by: .system)
                try await tenant.assignRole(.orgAdmin, to: successor.id, by: .system)
                try await tenant.assignRole(.userAdmin, to: admin.id, by: .system)
                try await tenant.revokeRole(.orgAdmin, from: admin.id, by: .system)
            }
            let signedIn = try await SignInTests.signIn(f.browser, slug: f.slug, email: "admin@example.com",
                                                        password: "correct horse battery")
            let session = try #require(ConsoleBrowser.cookie("rampart_session", in: signedIn))
            for path in ["/console/audit/proofs", "/console/audit/proofs/inclusion?seq=1",
                         "/console/audit/proofs/inclusion/download?seq=1", "/console/audit/proofs/consistency?first=1",
                         "/console/audit/proofs/consistency/download?first=1"] {
                #expect(try await f.browser.get(path, cookie: session).status == .forbidden, "\(path)")
            }
        }
    }

    /// As a browser sends a form's field in a GET query.
    static func formEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "").replacingOccurrences(of: "%20", with: "+")
    }
}
