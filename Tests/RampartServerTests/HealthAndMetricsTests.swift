import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Synchronization
import Testing

@Suite("Health, readiness, metrics, request ids")
struct HealthAndMetricsTests {
    @Test(arguments: Backend.all)
    func healthReadinessAndMetrics(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.jsonObject["status"] as? String == "ready")

            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            _ = try await api.call(.get, "/users")
            _ = try await api.call(.get, "/users/\(org.admin.id)")
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests"))
            #expect(metrics.text.contains(#"http_route="/api/v1/users""#))
            // Labelled by the route's pattern, never by the ids in a path.
            #expect(metrics.text.contains(#"hb_requests{http_route="/api/v1/users/{id}",http_request_method="GET",http_response_status_code="200"}"#))
            #expect(!metrics.text.contains(org.admin.id))
            #expect(metrics.text.contains("http_server_request_duration_bucket"))
            #expect(metrics.text.contains(#"http_response_status_code="200""#))
            #expect(metrics.text.contains(#"http_server_active_requests{http_request_method="GET"}"#))
            #expect(metrics.text.contains("rampart_db_connections_max"))
            #expect(metrics.text.contains("# HELP rampart_db_connections_in_use Database connections leased right now."))
        }
    }

    @Test(arguments: Backend.all)
    func requestIDsAreEchoedOrMadeAndRecorded(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let response = try await api.call(.post, "/users", json: #"{"email":"r@example.com","displayName":"R"}"#,
                                              headers: [HTTPField.Name("X-Request-Id")!: "trace-42"])
            #expect(response.headers[HTTPField.Name("X-Request-Id")!] == "trace-42")
            let made = try await api.call(.get, "/users", headers: [HTTPField.Name("X-Request-Id")!: "bad id with spaces"])
            let generated = try #require(made.headers[HTTPField.Name("X-Request-Id")!])
            #expect(generated != "bad id with spaces" && !generated.isEmpty)
            let another = try #require(try await api.call(.get, "/users").headers[HTTPField.Name("X-Request-Id")!])
            for made in [generated, another] {
                #expect(made.utf8.count == 32 && made.utf8.allSatisfy { Character(UnicodeScalar($0)).isHexDigit }, "\(made)")
            }
            #expect(another != generated)
            var twice = HTTPFields()
            twice.append(HTTPField(name: HTTPField.Name("X-Request-Id")!, value: "first"))
            twice.append(HTTPField(name: HTTPField.Name("X-Request-Id")!, value: "second"))
            let repeated = try await api.call(.get, "/users", headers: twice)
            let chosen = try #require(repeated.headers[HTTPField.Name("X-Request-Id")!])
            #expect(!["first", "second", "first, second"].contains(chosen) && !chosen.isEmpty)
            let long = String(repeating: "a", count: 128)
            #expect(try await api.call(.get, "/users", headers: [HTTPField.Name("X-Request-Id")!: long])
                .headers[HTTPField.Name("X-Request-Id")!] == long)
            let tooLong = long + "a"
            #expect(try await api.call(.get, "/users", headers: [HTTPField.Name("X-Request-Id")!: tooLong])
                .headers[HTTPField.Name("X-Request-Id")!] != tooLong)
            let events = try await api.object(.get, "/audit-events?action=user.created&limit=1", expect: .ok)
            #expect((events["data"] as? [[String: Any]])?.first?["requestId"] as? String == "trace-42")
        }
    }

    /// PostgreSQL that does not answer: the server still starts, says it is not ready, and the
    /// API answers 503 with a stable error rather than hanging or failing with a 500.
    @Test func unreachableDatabaseMeansUnreadyAnd503() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rampart-down-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = AppConfiguration(dataDirectory: directory,
                                             database: .postgres(url: "postgres://nobody:x@127.0.0.1:1/none"))
        let app = try await buildApplication(configuration, logger: testLogger, passwords: testPasswords)
        try await app.test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            let token = SecretToken.generate(.apiToken, orgID: Identifier.make()).text
            let response = try await client.execute(uri: "/api/v1/users", method: .get,
                                                    headers: [.authorization: "Bearer \(token)"])
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "database_unavailable")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    /// Every log line of a request carries its id: the caller's when it sent a sane one, else
    /// the one the response names. (An unreachable database makes `/readyz` log a warning.)
    @Test func logLinesCarryTheRequestID() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rampart-logs-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "rampart-test") { JSONLogHandler(label: $0) { line in lines.withLock { $0.append(line) } } }
        logger.logLevel = .warning
        let configuration = AppConfiguration(dataDirectory: directory,
                                             database: .postgres(url: "postgres://nobody:x@127.0.0.1:1/none"))
        let app = try await buildApplication(configuration, logger: logger, passwords: testPasswords)
        /// The X-Request-Id a /readyz answered with, and the request ids of the lines it logged.
        @Sendable func readyz(sending header: String, _ client: some TestClientProtocol) async throws -> (String?, [String?]) {
            lines.withLock { $0.removeAll() }
            let response = try await client.execute(uri: "/readyz", method: .get,
                                                    headers: [HTTPField.Name("X-Request-Id")!: header])
            let ids = try lines.withLock { $0 }.map { line in
                let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(object["hb.request.id"] == nil, "the id is logged under one key")
                return object["request_id"] as? String
            }
            return (response.headers[HTTPField.Name("X-Request-Id")!], ids)
        }
        try await app.test(.router) { client in
            let (echoed, traced) = try await readyz(sending: "trace-7", client)
            #expect(echoed == "trace-7")
            #expect(!traced.isEmpty && traced.allSatisfy { $0 == "trace-7" }, "\(traced)")

            let (generated, made) = try await readyz(sending: "not sane!", client)
            #expect(generated != nil && generated != "not sane!")
            #expect(!made.isEmpty && made.allSatisfy { $0 == generated }, "\(made)")
        }
    }

    /// The handler keeps the two per-request keys apart from the rest; from outside, all
    /// metadata reads, replaces and logs as one dictionary.
    @Test func logMetadataIsOneDictionaryFromOutside() throws {
        let lines = Mutex<[String]>([])
        var handler = JSONLogHandler(label: "t") { line in lines.withLock { $0.append(line) } }
        handler[metadataKey: JSONLogHandler.requestIDKey] = "r-1"
        handler[metadataKey: JSONLogHandler.orgIDKey] = "o-1"
        handler[metadataKey: "user_id"] = "u-1"
        #expect(handler.metadata == [JSONLogHandler.requestIDKey: "r-1", JSONLogHandler.orgIDKey: "o-1", "user_id": "u-1"])
        #expect(handler[metadataKey: JSONLogHandler.orgIDKey] == "o-1")

        handler.metadata = [JSONLogHandler.orgIDKey: "o-2", "other": "x"]
        #expect(handler[metadataKey: JSONLogHandler.requestIDKey] == nil)
        #expect(handler[metadataKey: "user_id"] == nil)
        #expect(handler.metadata == [JSONLogHandler.orgIDKey: "o-2", "other": "x"])

        handler[metadataKey: JSONLogHandler.requestIDKey] = "r-2"
        handler.log(event: LogEvent(level: .info, message: "hello", metadata: ["other": "y"], source: "t",
                                    file: #file, function: #function, line: #line))
        let line = try #require(lines.withLock { $0 }.first)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["request_id"] == "r-2")
        #expect(object["org_id"] == "o-2")
        #expect(object["other"] == "y", "a line's own metadata wins")
        #expect(object["message"] == "hello")
        #expect(object[JSONLogHandler.requestIDKey] == nil)
    }
}
