import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Products append their events with `POST /api/v1/events`: with an ingestion key or a
/// `client_credentials` token carrying `events:write`, once per idempotency key, all of a
/// batch or none of it, and only ever into the credential's own organisation.
@Suite("Product event ingestion")
struct EventIngestionTests {
    /// An organisation with a product and an ingestion key made through the admin API.
    struct Setup {
        let org: OrganizationProvisioner.Result
        let admin: API
        let product: Product
        let key: String
        let keyID: String
        var orgID: String { org.organization.id }
    }

    static func setUp(_ client: any TestClientProtocol, _ store: TestStore) async throws -> Setup {
        let org = try await store.createOrganization()
        let product = try await store.database.write(org: org.organization.id) {
            try await $0.createProduct(name: "Wiki", kind: .wiki, url: "https://wiki.example.com", by: .system)
        }
        let admin = API(client: client, token: org.apiToken)
        let created = try await admin.object(.post, "/ingestion-keys", json: #"{"productId":"\#(product.id)","name":"wiki prod"}"#,
                                             expect: .created)
        let key = try #require(created["key"] as? String)
        return Setup(org: org, admin: admin, product: product, key: key, keyID: try #require(created["id"] as? String))
    }

    static func event(_ key: String, action: String = "product.content_viewed", at time: Timestamp = .now(),
                      extra: [String: Any] = [:]) -> [String: Any] {
        ["idempotencyKey": key, "action": action, "occurredAt": time.rfc3339,
         "actor": ["id": "u-1", "email": "Ada@Example.com", "ip": "203.0.113.9", "userAgent": "Mozilla/5.0"],
         "targets": [["type": "page", "id": "p-42", "name": "Roadmap"]], "outcome": "success",
         "details": ["space": "ENG", "version": 3]].merging(extra) { $1 }
    }

    static func batch(_ events: [[String: Any]]) -> String { jsonString(["events": events]) }

    @Test(arguments: Backend.all)
    func aBatchIsAppendedOnceWithTheProductAsItsSource(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let s = try await Self.setUp(client, store)
            #expect(s.key.hasPrefix("rik_"))
            let listed = try await s.admin.object(.get, "/ingestion-keys?productId=\(s.product.id)", expect: .ok)
            let keys = try #require(listed["data"] as? [[String: Any]])
            #expect(keys.count == 1 && keys[0]["productId"] as? String == s.product.id && keys[0]["key"] == nil)

            let before = try await auditCount(store, s.orgID)
            let body = Self.batch([Self.event("e-1"), Self.event("e-2", action: "product.content_exported"), Self.event("e-3")])
            let first = try await s.admin.call(.post, "/events", json: body, token: s.key)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.jsonObject["accepted"] as? Int == 3 && first.jsonObject["duplicates"] as? Int == 0)
            let results = try #require(first.jsonObject["events"] as? [[String: Any]])
            #expect(results.map { $0["sequence"] as? Int64 } == [before + 1, before + 2, before + 3])
            #expect(try await auditCount(store, s.orgID) == before + 3)

            // Sent again, with one new event between: only the new one is appended.
            let again = try await s.admin.call(.post, "/events", json: Self.batch([Self.event("e-1"), Self.event("e-4"), Self.event("e-4")]),
                                               token: s.key)
            #expect(again.status == .ok, "\(again.text)")
            #expect(again.jsonObject["accepted"] as? Int == 1 && again.jsonObject["duplicates"] as? Int == 2)
            let second = try #require(again.jsonObject["events"] as? [[String: Any]])
            #expect(second.map { $0["duplicate"] as? Bool } == [true, false, true])
            #expect(second.map { $0["sequence"] as? Int64 } == [before + 1, before + 4, before + 4])
            #expect(try await auditCount(store, s.orgID) == before + 4)

            let page = try await s.admin.object(.get, "/audit-events?target=\(s.product.id)&action=product.content_exported", expect: .ok)
            let stored = try #require((page["data"] as? [[String: Any]])?.first)
            let actor = try #require(stored["actor"] as? [String: Any])
            #expect(actor["type"] as? String == "user" && actor["name"] as? String == "ada@example.com" && actor["ip"] as? String == "203.0.113.9")
            let details = try #require(stored["details"] as? [String: Any])
            let source = try #require(details["source"] as? [String: Any])
            #expect(source["productId"] as? String == s.product.id && source["credential"] as? String == "ingestion_key"
                && source["credentialId"] as? String == s.keyID)
            #expect(details["idempotencyKey"] as? String == "e-2" && (details["data"] as? [String: Any])?["space"] as? String == "ENG")
            #expect((stored["targets"] as? [[String: Any]])?.compactMap { $0["type"] as? String } == ["page", "product"])
            // The details are stored in their canonical text, which ingestion writes directly.
            let events = try await store.database.read(org: s.orgID) { try await $0.auditEvents(after: before, limit: 10) }
            #expect(events.count == 4)
            for event in events {
                #expect(event.detailsJSON == JSONValue.parse(event.detailsJSON)?.canonical)
                #expect(event.detailsJSON.hasPrefix(#"{"data":{"space":"ENG","version":3},"idempotencyKey":"e-"#))
            }
            let verified = try await AuditVerifier(database: store.database).verify(s.org.organization)
            #expect(verified.failure == nil)
        }
    }

    /// Each bad input gets a 400 naming the event and field, and nothing of the batch is written.
    @Test(arguments: Backend.all)
    func aBadEventRefusesTheWholeBatch(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let s = try await Self.setUp(client, store)
            let good = Self.event("ok-1")
            var deep: Any = "leaf"
            for _ in 0..<6 { deep = ["d": deep] }
            let cases: [(String, [String: Any]?, String)] = [
                ("unknown event field", ["severity": "high"], "events[1].severity"),
                ("unknown action", ["action": "user.deleted"], "events[1].action"),
                ("far future", ["occurredAt": Timestamp.now().adding(seconds: 3600).rfc3339], "events[1].occurredAt"),
                ("absurdly old", ["occurredAt": "1999-01-01T00:00:00Z"], "events[1].occurredAt"),
                ("not RFC 3339", ["occurredAt": "yesterday"], "events[1].occurredAt"),
                ("LF in actor name", ["actor": ["name": "Ada\nLovelace"]], "events[1].actor.name"),
                ("CR in target id", ["targets": [["type": "page", "id": "p\r1"]]], "events[1].targets[0].id"),
                ("bad target type", ["targets": [["type": "Page Type", "id": "p1"]]], "events[1].targets[0].type"),
                ("bad email", ["actor": ["email": "not-an-email"]], "events[1].actor.email"),
                ("bad ip", ["actor": ["id": "u", "ip": "localhost"]], "events[1].actor.ip"),
                ("no actor identity", ["actor": ["ip": "203.0.113.9"]], "events[1].actor"),
                ("unknown actor field", ["actor": ["id": "u", "role": "admin"]], "events[1].actor.role"),
                ("bad outcome", ["outcome": "maybe"], "events[1].outcome"),
                ("details not an object", ["details": "text"], "events[1].details"),
                ("details too deep", ["details": deep], "events[1].details"),
                ("control character in details", ["details": ["q": "a\u{7}b"]], "events[1].details.q"),
                ("oversized event", ["details": ["blob": String(repeating: "x", count: 17_000)]], "events[1]"),
                ("empty idempotency key", ["idempotencyKey": ""], "events[1].idempotencyKey"),
            ]
            let before = try await auditCount(store, s.orgID)
            for (name, change, field) in cases {
                let bad = Self.event("bad", extra: change ?? [:])
                let response = try await s.admin.call(.post, "/events", json: Self.batch([good, bad]), token: s.key)
                #expect(response.status == .badRequest, "\(name): \(response.text)")
                #expect(response.text.contains(field), "\(name): \(response.text)")
            }
            var missing = Self.event("bad")
            missing["idempotencyKey"] = nil
            let whole: [(String, String, String)] = [
                ("missing key", Self.batch([good, missing]), "events[1].idempotencyKey"),
                ("unknown top-level field", jsonString(["events": [good], "source": "x"]), "source"),
                ("empty batch", Self.batch([]), "events"),
                ("too many events", Self.batch(Array(repeating: good, count: 1001)), "events"),
                ("not JSON", "{\"events\": [", "JSON"),
            ]
            for (name, body, field) in whole {
                let response = try await s.admin.call(.post, "/events", json: body, token: s.key)
                #expect(response.status == .badRequest, "\(name): \(response.text)")
                #expect(response.text.contains(field), "\(name): \(response.text)")
            }
            #expect(try await auditCount(store, s.orgID) == before, "nothing of a refused batch is written")
            // The good event's key was not taken by the refused batches.
            let later = try await s.admin.call(.post, "/events", json: Self.batch([good]), token: s.key)
            #expect(later.jsonObject["accepted"] as? Int == 1, "\(later.text)")
        }
    }

    @Test(arguments: Backend.all)
    func revokedKeysAndOtherCredentialsAreRefused(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let s = try await Self.setUp(client, store)
            let body = Self.batch([Self.event("r-1")])
            #expect(try await s.admin.call(.post, "/events", json: body).status == .unauthorized, "an admin API token is not an ingestion key")
            #expect(try await s.admin.call(.get, "/users", token: s.key).status == .unauthorized, "an ingestion key is not an admin token")
            #expect(try await s.admin.call(.post, "/events", json: body, token: "rik_garbage").status == .unauthorized)
            let before = try await auditCount(store, s.orgID)
            #expect(try await s.admin.call(.delete, "/ingestion-keys/\(s.keyID)").status == .noContent)
            #expect(try await auditCount(store, s.orgID) == before + 1, "revoking is audited")
            let refused = try await s.admin.call(.post, "/events", json: body, token: s.key)
            #expect(refused.status == .unauthorized && refused.errorCode == "unauthorized")
            // Refused before the body is read: a bad body gets the same 401, not a 400.
            let unread = try await s.admin.call(.post, "/events", json: "{not json", token: s.key)
            #expect(unread.status == .unauthorized)
            #expect(try await auditCount(store, s.orgID) == before + 1)
            let listed = try await s.admin.object(.get, "/ingestion-keys", expect: .ok)
            #expect((listed["data"] as? [[String: Any]])?.first?["revokedAt"] is String)
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganisationsKeyNeitherWritesHereNorSeesThisOrganisation(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let mine = try await Self.setUp(client, store)
            let theirs = try await Self.setUp(client, store)
            let before = try await auditCount(store, mine.orgID)
            let sent = try await theirs.admin.call(.post, "/events", json: Self.batch([Self.event("x-1")]), token: theirs.key)
            #expect(sent.status == .ok)
            #expect(try await auditCount(store, mine.orgID) == before, "their key writes only into their log")
            let page = try await theirs.admin.object(.get, "/audit-events?target=\(mine.product.id)", expect: .ok)
            #expect((page["data"] as? [Any])?.isEmpty == true)
            // Their admin cannot see, revoke or mint keys of this organisation.
            let listed = try await theirs.admin.object(.get, "/ingestion-keys", expect: .ok)
            #expect((listed["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [theirs.keyID])
            #expect(try await theirs.admin.call(.delete, "/ingestion-keys/\(mine.keyID)").status == .notFound)
            let minted = try await theirs.admin.call(.post, "/ingestion-keys", json: #"{"productId":"\#(mine.product.id)","name":"x"}"#)
            #expect(minted.status == .notFound)
            #expect(try await theirs.admin.call(.get, "/ingestion-keys?productId=\(mine.product.id)").status == .notFound)
            // The same idempotency key in two organisations is two events.
            let same = try await mine.admin.call(.post, "/events", json: Self.batch([Self.event("x-1")]), token: mine.key)
            #expect(same.jsonObject["accepted"] as? Int == 1)
        }
    }

    @Test(arguments: Backend.all)
    func aClientCredentialsTokenWritesOnlyWithTheEventsWriteScope(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let s = try await Self.setUp(client, store)
            func token(scopes: [String]) async throws -> String {
                let (registered, secret) = try await store.database.write(org: s.orgID) {
                    try await $0.createOAuthClient(productID: s.product.id, name: "svc \(scopes[0])", type: .confidential,
                                                   authMethod: .clientSecretBasic, firstParty: true,
                                                   redirectURIs: ["https://wiki.example.com/cb"], postLogoutRedirectURIs: [],
                                                   scopes: scopes, by: .system)
                }
                let basic = Data("\(registered.id):\(try #require(secret))".utf8).base64EncodedString()
                let response = try await client.execute(
                    uri: "/o/\(s.org.organization.slug)/oauth/token", method: .post,
                    headers: [.authorization: "Basic \(basic)", .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "grant_type=client_credentials"))
                #expect(response.status == .ok, "\(response.text)")
                return try #require(response.jsonObject["access_token"] as? String)
            }
            let body = Self.batch([Self.event("c-1")])
            let without = try await s.admin.call(.post, "/events", json: body, token: try await token(scopes: ["openid"]))
            #expect(without.status == .forbidden, "\(without.text)")
            let with = try await token(scopes: ["events:write"])
            let accepted = try await s.admin.call(.post, "/events", json: body, token: with)
            #expect(accepted.status == .ok, "\(accepted.text)")
            let page = try await s.admin.object(.get, "/audit-events?action=product.content_viewed", expect: .ok)
            let details = (page["data"] as? [[String: Any]])?.first?["details"] as? [String: Any]
            #expect((details?["source"] as? [String: Any])?["credential"] as? String == "oauth_client")
            // The same token, tampered with, is refused.
            var forged = Array(with.utf8)
            forged[forged.count - 3] = forged[forged.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let refused = try await s.admin.call(.post, "/events", json: body, token: String(decoding: forged, as: UTF8.self))
            #expect(refused.status == .unauthorized)
        }
    }
}
