import Foundation
import HTTPTypes
import NIOCore
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Every way a client can get a body wrong: a stable 4xx, and not one row or event written.
@Suite("Admin API: bad input changes nothing")
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let path: String
        let body: String
        let contentType: String
        let status: HTTPResponse.Status
        let code: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "malformed JSON", path: "/users", body: #"{"email": "a@b.com","#, contentType: "application/json",
             status: .badRequest, code: "invalid_json"),
        Case(name: "not an object", path: "/users", body: #"["a@b.com"]"#, contentType: "application/json",
             status: .badRequest, code: "invalid_json"),
        Case(name: "unknown field", path: "/users", body: #"{"email":"a@b.com","displayName":"A","admin":true}"#,
             contentType: "application/json", status: .badRequest, code: "unknown_field"),
        Case(name: "wrong type", path: "/users", body: #"{"email":42,"displayName":"A"}"#,
             contentType: "application/json", status: .badRequest, code: "invalid_field"),
        Case(name: "null for a required field", path: "/users", body: #"{"email":null,"displayName":"A"}"#,
             contentType: "application/json", status: .badRequest, code: "invalid_field"),
        Case(name: "missing field", path: "/groups", body: #"{"description":"x"}"#, contentType: "application/json",
             status: .badRequest, code: "invalid_field"),
        Case(name: "invalid email", path: "/users", body: #"{"email":"not-an-email","displayName":"A"}"#,
             contentType: "application/json", status: .badRequest, code: "invalid_field"),
        Case(name: "empty name", path: "/groups", body: #"{"name":"   "}"#, contentType: "application/json",
             status: .badRequest, code: "invalid_field"),
        Case(name: "bad enum", path: "/products", body: #"{"name":"P","kind":"spreadsheet","url":"https://p.example"}"#,
             contentType: "application/json", status: .badRequest, code: "invalid_field"),
        Case(name: "non-http url", path: "/products", body: #"{"name":"P","kind":"wiki","url":"javascript:alert(1)"}"#,
             contentType: "application/json", status: .badRequest, code: "invalid_field"),
        Case(name: "token expiring in the past", path: "/api-tokens",
             body: #"{"name":"t","role":"auditor","expiresAt":"2001-01-01T00:00:00Z"}"#, contentType: "application/json",
             status: .badRequest, code: "invalid_field"),
        Case(name: "form body", path: "/users", body: "email=a%40b.com&displayName=A",
             contentType: "application/x-www-form-urlencoded", status: .unsupportedMediaType, code: "unsupported_media_type"),
        Case(name: "body over 1 MiB", path: "/users",
             body: #"{"email":"a@b.com","displayName":""# + String(repeating: "x", count: 1 << 20) + #""}"#,
             contentType: "application/json", status: .contentTooLarge, code: "payload_too_large"),
    ]

    @Test(arguments: Backend.all, cases)
    func rejectedWithStableErrorAndNothingWritten(backend: Backend, testCase: Case) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let before = try await auditCount(store, org.organization.id)
            let response = try await API(client: client, token: org.apiToken)
                .call(.post, testCase.path, json: testCase.body, headers: [.contentType: testCase.contentType])
            #expect(response.status == testCase.status)
            #expect(response.errorCode == testCase.code)
            let message = (response.jsonObject["error"] as? [String: Any])?["message"] as? String
            #expect(message?.isEmpty == false)
            #expect(try await auditCount(store, org.organization.id) == before)
            let users = try await store.database.read(org: org.organization.id) { try await $0.userCount() }
            #expect(users == 1)
        }
    }

    @Test(arguments: Backend.all)
    func badQueryAndPathParameters(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            for path in ["/users?limit=0", "/users?limit=201", "/users?limit=ten", "/users?cursor=nope",
                         "/users?status=sleeping", "/audit-events?since=yesterday", "/audit-events?cursor=-1",
                         "/users/not-an-id", "/role-assignments?cursor=x",
                         // A NUL was a 500 on PostgreSQL (its text holds none); any control character is refused.
                         "/users?status=active&email=%C3%BB%00%C2%99", "/audit-events?actor=a%0Ab", "/audit-events?q=a%00"] {
                let response = try await api.call(.get, path)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.errorCode == "invalid_parameter", "\(path)")
            }
            let badRole = try await api.call(.put, "/users/\(org.admin.id)/roles/owner")
            #expect(badRole.status == .badRequest)
            #expect(badRole.errorCode == "invalid_parameter")
            let emptyPatch = try await api.call(.patch, "/users/\(org.admin.id)", json: "{}")
            #expect(emptyPatch.status == .badRequest)
        }
    }

    @Test(arguments: Backend.all)
    func unsupportedMethodAnswers405WithAllow(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let response = try await API(client: client, token: org.apiToken).call(.put, "/users")
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, POST")
            #expect(response.errorCode == "method_not_allowed")
            // A fixed segment is never read as another route's parameter: /simulate is not an {id}.
            for method in [HTTPRequest.Method.patch, .get, .delete] {
                let simulate = try await API(client: client, token: org.apiToken)
                    .call(method, "/authentication-policies/simulate", json: #"{"settings":{}}"#)
                #expect(simulate.status == .methodNotAllowed, "\(method)")
                #expect(simulate.headers[.allow] == "POST")
            }
            let unknown = try await API(client: client, token: org.apiToken).call(.get, "/nothing-here")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "not_found")
        }
    }

    /// The API router matches whole segments: a longer prefix, an extra or missing segment and
    /// a parameter in a literal's place are all 404; empty segments are skipped.
    @Test(arguments: Backend.all)
    func apiPathsMatchWholeSegments(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let auth: HTTPFields = [.authorization: "Bearer \(org.apiToken)"]
            for path in ["/api/v1x/users", "/api/v1users", "/api/v2/users", "/api/users", "/API/v1/users"] {
                let response = try await client.execute(uri: path, method: .get, headers: auth, body: nil)
                #expect(response.status == .notFound, "\(path)")
            }
            for path in ["/users/\(org.admin.id)/extra", "/organization/users", "/users/\(org.admin.id)/roles/x/y"] {
                let response = try await api.call(.get, path)
                #expect(response.status == .notFound, "\(path)")
                #expect(response.errorCode == "not_found")
            }
            let slashes = try await client.execute(uri: "/api/v1//users/\(org.admin.id)/", method: .get,
                                                   headers: auth, body: nil)
            #expect(slashes.status == .ok)
            #expect(slashes.jsonObject["id"] as? String == org.admin.id)
            // A parameter is handed to the handler as sent, and checked there.
            let notAnID = try await api.call(.get, "/users/not-an-id")
            #expect(notAnID.status == .badRequest)
            #expect(notAnID.errorCode == "invalid_parameter")
        }
    }
}
