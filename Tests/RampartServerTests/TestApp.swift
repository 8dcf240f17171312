import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Cheap Argon2 parameters: the tests exercise the flow, not the cost.
let testPasswords = PasswordHasher(parameters: .init(iterations: 1, memoryKiB: 256, parallelism: 1))

/// A fresh application on a fresh store for one test, driven through the router.
func withApp(_ backend: Backend, _ body: @escaping @Sendable (any TestClientProtocol, TestStore) async throws -> Void)
    async throws
{
    try await TestStore.with(backend) { store in
        let configuration = AppConfiguration(host: "127.0.0.1", port: 0, dataDirectory: store.dataDirectory,
                                             database: store.configuration)
        let app = try await buildApplication(configuration, logger: testLogger, passwords: testPasswords)
        try await app.test(.router) { client in try await body(client, store) }
    }
}

/// Requests with a bearer token and JSON, and JSON out.
struct API: Sendable {
    let client: any TestClientProtocol
    let token: String

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, token: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        headers[.authorization] = "Bearer \(token ?? self.token)"
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: "/api/v1" + path, method: method, headers: headers,
                                        body: json.map { ByteBuffer(string: $0) })
    }

    func object(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, expect status: HTTPResponse.Status)
        async throws -> [String: Any]
    {
        let response = try await call(method, path, json: json)
        #expect(response.status == status, "\(method) \(path): \(String(buffer: response.body))")
        return response.jsonObject
    }
}

extension TestResponse {
    var jsonObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    var errorCode: String? { (jsonObject["error"] as? [String: Any])?["code"] as? String }
    var text: String { String(buffer: body) }
}

/// The number of events in an organisation's log: the witness that nothing was written.
func auditCount(_ store: TestStore, _ orgID: String) async throws -> Int64 {
    try await store.database.read(org: orgID) { try await $0.auditHead().sequence }
}

func jsonString(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}
