import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Synchronization
import Testing

/// Issue 18, finding 8: what API responses tell caches, bodies without a media type, and the
/// opt-in access log.
@Suite("Hardening: caching, media types, access log")
struct HardeningTests {
    @Test(arguments: Backend.all)
    func apiAnswersAreNeverStored(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let answers = [
                try await api.call(.get, "/users"),
                try await api.call(.get, "/users/\(org.admin.id)"),
                try await api.call(.post, "/api-tokens", json: #"{"name":"t","role":"auditor"}"#),
                try await api.call(.get, "/users", token: "rmp_nope"),
                try await api.call(.get, "/users/0190a000-0000-7000-8000-000000000000"),
            ]
            #expect(answers.map(\.status.code) == [200, 200, 201, 401, 404])
            for answer in answers { #expect(answer.headers[.cacheControl] == "no-store", "\(answer.status)") }
        }
    }

    @Test(arguments: Backend.all)
    func bodyWithoutContentTypeIs415AndChangesNothing(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let before = try await auditCount(store, org.organization.id)
            let response = try await client.execute(
                uri: "/api/v1/users", method: .post, headers: [.authorization: "Bearer \(org.apiToken)"],
                body: ByteBuffer(string: #"{"email":"untyped@example.com","displayName":"Untyped"}"#))
            #expect(response.status == .unsupportedMediaType)
            #expect(response.errorCode == "unsupported_media_type")
            #expect(try await auditCount(store, org.organization.id) == before)
            #expect(try await store.database.read(org: org.organization.id) { try await $0.userCount() } == 1)
        }
    }

    /// Runs requests against an app whose log lines are captured; returns the access lines.
    static func accessLines(enabled: Bool, _ body: @escaping @Sendable (any TestClientProtocol, String) async throws -> Void)
        async throws -> [[String: Any]]
    {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "rampart-test") { JSONLogHandler(label: $0) { line in lines.withLock { $0.append(line) } } }
        logger.logLevel = .info
        let captured = logger
        try await TestStore.with(.sqlite) { store in
            let org = try await store.createOrganization()
            var configuration = AppConfiguration(host: "127.0.0.1", port: 0, dataDirectory: store.dataDirectory,
                                                 database: store.configuration)
            configuration.accessLog = enabled
            let app = try await buildApplication(configuration, logger: captured, passwords: testPasswords)
            try await app.test(.router) { client in try await body(client, org.apiToken) }
        }
        return lines.withLock { $0 }.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.filter { $0["message"] as? String == "access" }
    }

    @Test func accessLogIsOneLinePerRequestWithoutQueryOrBody() async throws {
        let lines = try await Self.accessLines(enabled: true) { client, token in
            let api = API(client: client, token: token)
            _ = try await api.call(.get, "/users?email=secret-person%40example.com", headers: [.init("X-Request-Id")!: "req-1"])
            _ = try await api.call(.post, "/users", json: #"{"email":"body-secret@example.com","displayName":"B"}"#,
                                   headers: [.init("X-Request-Id")!: "req-2"])
            _ = try await api.call(.get, "/users/0190a000-0000-7000-8000-000000000000", headers: [.init("X-Request-Id")!: "req-3"])
        }
        #expect(lines.count == 3)
        let text = lines.map { jsonString($0) }.joined(separator: "\n")
        #expect(!text.contains("secret"), "no query string or body: \(text)")
        #expect(!text.contains("0190a000-0000-7000-8000-000000000000"), "the route pattern, not the path")
        #expect(lines.map { $0["request_id"] as? String } == ["req-1", "req-2", "req-3"])
        #expect(lines.map { $0["method"] as? String } == ["GET", "POST", "GET"])
        #expect(lines.map { $0["route"] as? String } == ["/api/v1/users", "/api/v1/users", "/api/v1/users/{id}"])
        #expect(lines.map { $0["status"] as? String } == ["200", "201", "404"])
        #expect(lines.allSatisfy { Double($0["duration_ms"] as? String ?? "") != nil })
    }

    @Test func accessLogIsOffUnlessAskedFor() async throws {
        let lines = try await Self.accessLines(enabled: false) { client, token in
            _ = try await API(client: client, token: token).call(.get, "/users")
        }
        #expect(lines.isEmpty)
    }
}

/// Issue 18, finding 5: a product's URL goes through the one RFC 3986 validator.
@Suite("Hardening: product URLs")
struct ProductURLTests {
    @Test(arguments: Backend.all)
    func badURLsAreRefusedAndGoodOnesStoredNormalised(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let before = try await auditCount(store, org.organization.id)
            for url in ["https://wiki.example.com/\u{0}", "https://wiki.example.com/a\r\nX: y", "https://wiki.example.com/a b",
                        "https://wiki.example.com/\"x", "https://admin:hunter2@wiki.example.com/", "http://wiki.example.com/"] {
                let body = jsonString(["name": "Wiki", "kind": "wiki", "url": url])
                let response = try await api.call(.post, "/products", json: body)
                #expect(response.status == .badRequest, "\(url.debugDescription)")
                #expect(response.errorCode == "invalid_field")
                #expect(!response.text.contains("hunter2"))
            }
            #expect(try await auditCount(store, org.organization.id) == before)
            let created = try await api.object(.post, "/products",
                                               json: #"{"name":"Wiki","kind":"wiki","url":"HTTPS://Wiki.Example.com:443"}"#,
                                               expect: .created)
            #expect(created["url"] as? String == "https://wiki.example.com")
        }
    }
}
