import Foundation
import HummingbirdTesting
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// The console's log stream form per kind: the kind's own fields are shown, an empty required
/// field or a bad URL is refused beside its field with nothing written and no secret sent
/// back, and a webhook's generated secret is shown on the one page after it was made.
@Suite("Console log stream kinds")
struct ConsoleLogStreamKindsTests {
    /// The stream's page lists its dead letters with Replay and Discard; a replay the receiver
    /// refuses says why and keeps the dead letter; a discard, after its confirmation, removes it.
    @Test(arguments: Backend.all)
    func deadLettersAreShownReplayedAndDiscarded(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let (stream, letter) = try await store.database.write(org: orgID) { tenant in
                // A receiver on a closed port: every replay is refused.
                let stream = try await tenant.createLogStream(name: "SIEM", kind: .syslog,
                                                              fields: LogStreamFields(endpoint: "127.0.0.1:1", deadLetterAfter: 2),
                                                              caCertificate: nil, start: .beginning, keys: store.keys, by: .system).stream
                _ = try await tenant.leaseLogStream(stream.id, owner: "test", until: Timestamp.now().adding(seconds: 30))
                return (stream, try #require(try await tenant.deadLetterLogStreamBatch(
                    stream.id, owner: "test", first: 1, last: 2, events: 2, error: "HTTP 500: poison", attempts: 2)))
            }
            let page = try await browser.get("/console/log-streams/\(stream.id)", cookie: session)
            #expect(page.text.contains(#"id="dead-letter-count">1 (a batch becomes one after 2 failed attempts)"#), "\(page.text)")
            #expect(page.text.contains(#"id="dead-letter-\#(letter.id)""#) && page.text.contains("HTTP 500: poison (after 2 attempts)"))
            #expect(page.text.contains(#"id="replay-\#(letter.id)""#) && page.text.contains(#"id="discard-\#(letter.id)""#))
            let csrf = try #require(ConsoleBrowser.csrf(in: page))

            let refused = try await browser.post("/console/log-streams/\(stream.id)/dead-letters/\(letter.id)/replay",
                                                 form: ["csrf": csrf], cookie: session)
            #expect(refused.status == .badGateway && refused.text.contains(#"id="test-result""#) && refused.text.contains("did not take"))
            #expect(try await store.database.read(org: orgID) { try await $0.logStreamDeadLetters(stream.id) } == [letter])

            let confirm = try await browser.get("/console/log-streams/\(stream.id)/dead-letters/\(letter.id)/discard", cookie: session)
            #expect(confirm.text.contains("Discard the dead letter of events 1 to 2?"))
            let discarded = try await browser.post("/console/log-streams/\(stream.id)/dead-letters/\(letter.id)/discard",
                                                   form: ["csrf": csrf], cookie: session)
            #expect(discarded.status == .seeOther)
            #expect(try await store.database.read(org: orgID) { try await $0.logStreamDeadLetters(stream.id) }.isEmpty)
            let after = try await browser.get("/console/log-streams/\(stream.id)", cookie: session)
            #expect(after.text.contains(#"id="dead-letter-count">0"#) && !after.text.contains(#"id="dead-letters""#))
        }
    }

    @Test(arguments: Backend.all)
    func eachKindHasItsFieldsAndRefusalsStayBesideThem(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let syslog = try await browser.get("/console/log-streams", cookie: session)
            #expect(syslog.text.contains(#"name="kind" value="syslog""#) && !syslog.text.contains(#"name="token""#))
            let sentinel = try await browser.get("/console/log-streams?kind=sentinel", cookie: session)
            for field in ["tenant_id", "client_id", "client_secret", "dcr_immutable_id", "stream_name", "token_url"] {
                #expect(sentinel.text.contains(#"name="\#(field)""#), "\(field)")
            }
            #expect(sentinel.text.contains(#"id="client_secret" name="client_secret" type="password""#))
            let csrf = try #require(ConsoleBrowser.csrf(in: sentinel))
            let form = ["csrf": csrf, "kind": "sentinel", "name": "Sentinel", "endpoint": "https://dce.example.com",
                        "tenant_id": "contoso.onmicrosoft.com", "client_id": "", "client_secret": "top-secret-value",
                        "dcr_immutable_id": "dcr-0123456789abcdef0123456789abcdef", "stream_name": "Custom-Rampart_CL",
                        "format": "", "start": "now", "ca_certificate": "", "token_url": ""]

            let before = try await auditCount(store, orgID)
            let empty = try await browser.post("/console/log-streams", form: form, cookie: session)
            #expect(empty.status == .badRequest)
            #expect(empty.text.contains(#"id="client_id-error""#), "\(empty.text)")
            #expect(!empty.text.contains("top-secret-value"), "a typed secret is not sent back")
            #expect(empty.text.contains(#"value="dcr-0123456789abcdef0123456789abcdef""#), "the rest stays as typed")
            let badURL = try await browser.post("/console/log-streams", form: form.merging(["client_id": "app", "endpoint": "http://dce.example.com"]) { $1 },
                                                cookie: session)
            #expect(badURL.status == .badRequest && badURL.text.contains(#"id="endpoint-error""#) && badURL.text.contains("https"))
            let badFormat = try await browser.post("/console/log-streams", form: form.merging(["client_id": "app", "format": "cef"]) { $1 },
                                                   cookie: session)
            #expect(badFormat.status == .badRequest && badFormat.text.contains(#"id="format-error""#))
            #expect(try await auditCount(store, orgID) == before, "a refused form writes nothing")

            let created = try await browser.post("/console/log-streams", form: form.merging(["client_id": "app"]) { $1 }, cookie: session)
            #expect(created.status == .seeOther, "\(created.text)")
            let hook = try await browser.post("/console/log-streams",
                                              form: ["csrf": csrf, "kind": "webhook", "name": "Hook", "format": "leef",
                                                     "endpoint": "https://hooks.example.com/rampart", "start": "now"],
                                              cookie: session)
            #expect(hook.status == .created && hook.text.contains(#"id="stream-secret">whsec_"#), "\(hook.text)")
            let streams = try await store.database.read(org: orgID) { try await $0.logStreams() }
            #expect(streams.map(\.kind) == [.webhook, .sentinel] && streams[0].format == .leef && streams.allSatisfy(\.hasSecret))
            let page = try await browser.get("/console/log-streams/\(streams[1].id)", cookie: session)
            #expect(page.text.contains("Custom-Rampart_CL") && page.text.contains("sealed") && !page.text.contains("top-secret-value"))
        }
    }
}
