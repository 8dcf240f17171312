import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Synchronization
import Testing

/// Issue 18, findings 2 and 9: login CSRF, cross-site console requests, and sign-in attempts
/// for organisations that do not exist.
@Suite("Sign-in hardening")
struct SignInHardeningTests {
    static func post(_ client: any TestClientProtocol, _ uri: String, form: [String: String], cookie: String?,
                     headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let cookie { headers[.cookie] = cookie }
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
            .joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func signInCount(_ store: TestStore, _ org: String) async throws -> Int {
        try await store.database.read(org: org) { try await $0.auditEvents(AuditQuery(action: "auth.signin_succeeded")).items.count }
    }

    /// Before: any value was accepted as long as cookie and field matched, so a site that
    /// planted the cookie could sign the victim in to the attacker's account.
    @Test(arguments: Backend.all)
    func aMadeUpMatchingTokenDoesNotSignIn(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            _ = try await ConsoleTests.setUpAdmin(ConsoleBrowser(client: client), org)
            let before = try await Self.signInCount(store, org.organization.id)
            let fields = ["organization": org.organization.slug, "email": "admin@example.com",
                          "password": "correct horse battery"]
            for forged in ["attacker-chosen", "9999999999.bm9uY2U.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
                let response = try await Self.post(client, "/console/signin", form: fields.merging(["csrf": forged]) { $1 },
                                                   cookie: "rampart_signin_csrf=\(forged)")
                #expect(response.status == .forbidden, "\(forged)")
                #expect(ConsoleBrowser.cookie("rampart_session", in: response) == nil)
            }
            // A real token with its MAC altered is refused too.
            let page = try await client.execute(uri: "/console/signin", method: .get)
            let token = try #require(ConsoleBrowser.csrf(in: page))
            // The MAC's first character: its last one carries padding bits a decoder may ignore.
            let macStart = token.index(after: try #require(token.lastIndex(of: ".")))
            let altered = String(token[..<macStart]) + (token[macStart] == "A" ? "B" : "A") + String(token[token.index(after: macStart)...])
            let tampered = try await Self.post(client, "/console/signin", form: fields.merging(["csrf": altered]) { $1 },
                                               cookie: "rampart_signin_csrf=\(altered)")
            #expect(tampered.status == .forbidden)
            #expect(try await Self.signInCount(store, org.organization.id) == before)
            // The token the server issued still works.
            let ok = try await Self.post(client, "/console/signin", form: fields.merging(["csrf": token]) { $1 },
                                         cookie: "rampart_signin_csrf=\(token)")
            #expect(ok.status == .seeOther)
            #expect(try await Self.signInCount(store, org.organization.id) == before + 1)
        }
    }

    @Test(arguments: Backend.all)
    func crossSiteConsoleRequestsAreRefused(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let session = try await ConsoleTests.setUpAdmin(ConsoleBrowser(client: client), org)
            let page = try await client.execute(uri: "/console/signin", method: .get)
            let token = try #require(ConsoleBrowser.csrf(in: page))
            let fields = ["organization": org.organization.slug, "email": "admin@example.com",
                          "password": "correct horse battery", "csrf": token]
            let before = try await Self.signInCount(store, org.organization.id)
            let crossSite: [HTTPFields] = [
                [.origin: "https://evil.example"],
                [.origin: "null"],
                [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"],
                [HTTPField.Name("Sec-Fetch-Site")!: "same-site", .origin: "https://sub.example"],
            ]
            for headers in crossSite {
                let response = try await Self.post(client, "/console/signin", form: fields,
                                                   cookie: "rampart_signin_csrf=\(token)", headers: headers)
                #expect(response.status == .forbidden, "\(headers)")
                #expect(response.text.contains("another site"))
            }
            #expect(try await Self.signInCount(store, org.organization.id) == before)
            // A signed-in admin's form posted from another site changes nothing either.
            let users = try await client.execute(uri: "/console/users", method: .get, headers: [.cookie: session])
            let csrf = try #require(ConsoleBrowser.csrf(in: users))
            let events = try await auditCount(store, org.organization.id)
            let invite = try await Self.post(client, "/console/users", form: ["email": "x@example.com", "display_name": "X",
                                                                              "csrf": csrf],
                                             cookie: session, headers: [.origin: "https://evil.example"])
            #expect(invite.status == .forbidden)
            #expect(try await auditCount(store, org.organization.id) == events)
            // What a browser sends for the console's own forms passes.
            let same = try await Self.post(client, "/console/signin", form: fields, cookie: "rampart_signin_csrf=\(token)",
                                           headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(same.status == .seeOther)
        }
    }

    static func unknownOrgFailures(_ metrics: String) -> Double {
        metrics.split(separator: "\n").first { $0.hasPrefix("rampart_signin_unknown_organization_failures ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// Before: such attempts left no trace at all.
    @Test(arguments: Backend.all)
    func unknownOrganisationSignInsAreCountedAndLogged(backend: Backend) async throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "rampart-test") { JSONLogHandler(label: $0) { line in lines.withLock { $0.append(line) } } }
        logger.logLevel = .warning
        let captured = logger
        try await TestStore.with(backend) { store in
            let configuration = AppConfiguration(host: "127.0.0.1", port: 0, dataDirectory: store.dataDirectory,
                                                 database: store.configuration)
            let app = try await buildApplication(configuration, logger: captured, passwords: testPasswords)
            try await app.test(.live) { client in
                let before = Self.unknownOrgFailures(try await client.execute(uri: "/metrics", method: .get).text)
                let page = try await client.execute(uri: "/console/signin", method: .get)
                let token = try #require(ConsoleBrowser.csrf(in: page))
                for guess in ["acme", "contoso"] {
                    let response = try await Self.post(client, "/console/signin",
                                                       form: ["organization": guess, "email": "ceo@example.com",
                                                              "password": "Summer2026!", "csrf": token],
                                                       cookie: "rampart_signin_csrf=\(token)")
                    #expect(response.status == .unauthorized)
                }
                let after = Self.unknownOrgFailures(try await client.execute(uri: "/metrics", method: .get).text)
                #expect(after - before >= 2)
            }
        }
        let warnings = lines.withLock { $0 }.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.filter { $0["event"] as? String == "signin.unknown_organization" }
        #expect(warnings.count == 2)
        #expect(warnings.allSatisfy { $0["level"] as? String == "warning" && $0["source_ip"] as? String == "127.0.0.1" })
        let text = lines.withLock { $0 }.joined()
        #expect(!text.contains("Summer2026") && !text.contains("ceo@example.com"), "no password or email in logs")
    }
}
