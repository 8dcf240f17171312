import Foundation
import HTTPTypes
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// `/log-streams` for Splunk HEC, webhooks and Sentinel: each kind's settings are checked
/// (400 with the field named, nothing written), secrets are write-only (never in an answer,
/// the log or the row, only sealed), a generated webhook secret is shown once, and another
/// organisation can neither see nor change a stream.
@Suite("Log stream kinds API")
struct LogStreamKindsAPITests {
    static let hecToken = "11111111-2222-3333-4444-555555555555"
    static let clientSecret = "client~secret.value_123"
    static let sentinel = #"{"name":"Sentinel","kind":"sentinel","endpoint":"https://dce.example.com","tenantId":"contoso.onmicrosoft.com","clientId":"app-1","clientSecret":"\#(clientSecret)","dcrImmutableId":"dcr-0123456789abcdef0123456789abcdef","streamName":"Custom-RampartAudit_CL","format":"ocsf"}"#

    @Test(arguments: Backend.all)
    func secretsAreSealedAndNeverShown(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let api = API(client: client, token: org.apiToken)
            let hec = try await api.call(.post, "/log-streams", json: #"{"name":"Splunk","kind":"splunk-hec","endpoint":"https://splunk.example.com:8088","token":"\#(Self.hecToken)","index":"security"}"#)
            #expect(hec.status == .created, "\(hec.text)")
            #expect(hec.jsonObject["hasSecret"] as? Bool == true && hec.jsonObject["index"] as? String == "security")
            #expect(hec.jsonObject["format"] as? String == "json" && hec.jsonObject["secret"] == nil)
            let sentinel = try await api.call(.post, "/log-streams", json: Self.sentinel)
            #expect(sentinel.status == .created, "\(sentinel.text)")
            #expect(sentinel.jsonObject["streamName"] as? String == "Custom-RampartAudit_CL" && sentinel.jsonObject["format"] as? String == "ocsf")
            let webhook = try await api.object(.post, "/log-streams", json: #"{"name":"Hook","kind":"webhook","endpoint":"https://hooks.example.com/rampart","format":"cef"}"#,
                                               expect: .created)
            let generated = try #require(webhook["secret"] as? String)
            #expect(generated.hasPrefix("whsec_") && generated.count > 40, "a webhook without a secret gets one, shown once")

            let secrets = [Self.hecToken, Self.clientSecret, generated]
            let shown = try await api.call(.get, "/log-streams").text
                + (try await api.call(.get, "/log-streams/\(webhook["id"] as! String)")).text
            let events = try await store.database.read(org: orgID) { try await $0.auditEvents(after: 0, limit: 100) }
            let logged = events.map { $0.detailsJSON + $0.targetsJSON }.joined()
            let rows = try await store.database.read(org: orgID) { tenant in
                try await tenant.sql.raw("SELECT sealed_secret, settings FROM log_streams WHERE org_id = \(bind: orgID)").all()
                    .map { "\(try $0.decode(column: "sealed_secret", as: String.self)) \(try $0.decode(column: "settings", as: String.self))" }
            }
            for secret in secrets {
                #expect(!shown.contains(secret) && !logged.contains(secret) && !rows.joined().contains(secret))
            }
            #expect(rows.allSatisfy { $0.hasPrefix("v1.") }, "secrets are sealed with the organisation's key")
            let opened = try await store.database.read(org: orgID) { tenant in
                try await tenant.logStreams().asyncMap { try await tenant.logStreamSecret($0, keys: store.keys) }
            }
            #expect(Set(opened.compactMap { $0 }) == Set(secrets))

            // A new secret replaces the sealed one; the event says only that it changed.
            let id = try #require(hec.jsonObject["id"] as? String)
            let rotated = try await api.object(.patch, "/log-streams/\(id)", json: #"{"token":"new-token-value","index":""}"#, expect: .ok)
            #expect(rotated["index"] == nil && rotated["hasSecret"] as? Bool == true)
            let stream = try await store.database.read(org: orgID) { try await $0.requireLogStream(id) }
            #expect(try await store.database.read(org: orgID) { try await $0.logStreamSecret(stream, keys: store.keys) } == "new-token-value")
            let update = try #require(try await store.database.read(org: orgID) { try await $0.auditEvents(after: 0, limit: 100) }.last)
            #expect(update.action == "log_stream.updated" && update.detailsJSON.contains(#""token":{"after":"replaced","before":"sealed"}"#))
            #expect(!update.detailsJSON.contains("new-token-value"))
        }
    }

    @Test(arguments: Backend.all)
    func badSettingsAreRefusedAndWriteNothing(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let before = try await auditCount(store, org.organization.id)
            let hec = #""name":"s","kind":"splunk-hec","token":"t""#
            let cases: [(String, String)] = [
                (#"{\#(hec),"endpoint":"http://splunk.example.com"}"#, "endpoint"),
                (#"{\#(hec),"endpoint":"https://127.0.0.1:8088"}"#.replacingOccurrences(of: "https", with: "ftp"), "endpoint"),
                (#"{\#(hec),"endpoint":"splunk.example.com:8088"}"#, "endpoint"),
                (#"{\#(hec),"endpoint":"https://splunk.example.com","format":"cef"}"#, "format"),
                (#"{\#(hec),"endpoint":"https://splunk.example.com","index":"Bad Index"}"#, "index"),
                (#"{\#(hec),"endpoint":"https://splunk.example.com","secret":"0123456789abcdef"}"#, "secret"),
                (#"{"name":"s","kind":"splunk-hec","endpoint":"https://splunk.example.com"}"#, "token"),
                (#"{"name":"s","kind":"splunk-hec","endpoint":"https://splunk.example.com","token":"has space"}"#, "token"),
                (#"{"name":"s","kind":"webhook","endpoint":"https://h.example.com","secret":"short"}"#, "secret"),
                (#"{"name":"s","kind":"webhook","endpoint":"https://h.example.com#frag"}"#, "endpoint"),
                (#"{"name":"s","kind":"syslog","endpoint":"siem.example.com:6514","token":"x"}"#, "token"),
                (#"{"name":"s","kind":"syslog","endpoint":"https://siem.example.com"}"#, "endpoint"),
                (Self.sentinel.replacingOccurrences(of: "dcr-0123", with: "dcr-x123"), "dcrImmutableId"),
                (Self.sentinel.replacingOccurrences(of: "Custom-RampartAudit_CL", with: "RampartAudit"), "streamName"),
                (Self.sentinel.replacingOccurrences(of: #""clientId":"app-1","#, with: ""), "clientId"),
                (Self.sentinel.replacingOccurrences(of: #""tenantId":"contoso.onmicrosoft.com","#, with: ""), "tenantId"),
                (Self.sentinel.replacingOccurrences(of: #""format":"ocsf""#, with: #""tokenUrl":"http://login.example.com/t""#), "tokenUrl"),
            ]
            for (json, field) in cases {
                let refused = try await api.call(.post, "/log-streams", json: json)
                #expect(refused.status == .badRequest && refused.errorCode == "invalid_field", "\(json): \(refused.text)")
                #expect(refused.text.contains("'\(field)'"), "\(json): \(refused.text)")
            }
            #expect(try await auditCount(store, org.organization.id) == before, "refused settings write nothing")
            let hook = try await api.object(.post, "/log-streams", json: #"{"name":"h","kind":"webhook","endpoint":"https://h.example.com"}"#,
                                            expect: .created)["id"] as! String
            let refused = try await api.call(.patch, "/log-streams/\(hook)", json: #"{"format":"ocsf","index":"x"}"#)
            #expect(refused.status == .badRequest && refused.text.contains("'index'"))
            #expect(try await store.database.read(org: org.organization.id) { try await $0.requireLogStream(hook) }.format == .json)
            let sentinel = try await api.object(.post, "/log-streams", json: Self.sentinel, expect: .created)["id"] as! String
            let incomplete = try await api.call(.patch, "/log-streams/\(sentinel)", json: #"{"tenantId":""}"#)
            #expect(incomplete.status == .badRequest && incomplete.text.contains("'tenantId'"), "a change may not leave a stream incomplete")
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganizationCannotReadOrChangeAStreamOrItsSecret(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let a = try await store.createOrganization()
            let b = try await store.createOrganization()
            let apiA = API(client: client, token: a.apiToken)
            let apiB = API(client: client, token: b.apiToken)
            let created = try await apiA.object(.post, "/log-streams", json: Self.sentinel, expect: .created)
            let id = try #require(created["id"] as? String)
            for (method, json) in [(HTTPRequest.Method.get, nil), (.patch, #"{"clientSecret":"stolen-secret"}"#), (.post, nil), (.delete, nil)] {
                let path = method == .post ? "/log-streams/\(id)/test" : "/log-streams/\(id)"
                let response = try await apiB.call(method, path, json: json)
                #expect(response.status == .notFound && response.errorCode == "not_found", "\(method) \(path): \(response.text)")
            }
            #expect(try await apiB.object(.get, "/log-streams", expect: .ok)["data"] as? [Any] != nil)
            #expect((try await apiB.object(.get, "/log-streams", expect: .ok)["data"] as? [Any])?.isEmpty == true)
            let stream = try await store.database.read(org: a.organization.id) { try await $0.requireLogStream(id) }
            #expect(try await store.database.read(org: a.organization.id) { try await $0.logStreamSecret(stream, keys: store.keys) }
                == Self.clientSecret)
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
