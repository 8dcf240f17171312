import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RampartCore
import RampartSAML
import RampartSAMLTestSupport
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// The SAML service provider in the server: start → AuthnRequest → ACS → a session, with the
/// attempt bound to the browser, the replay cache in the database, IdP-initiated off by
/// default, test connection, SP metadata, and metadata import. The attack suite runs against the
/// same ACS over HTTP in interop/test_sso_saml.py; the validator's own cases in RampartSAMLTests.
@Suite("SAML service provider")
struct SAMLServiceProviderTests {
    static let idpKeys = try! TestKeyPair.generate(commonName: "idp.server-tests.test")
    static let attackerKeys = try! TestKeyPair.generate(commonName: "idp.server-tests.test")
    static let idp = TestIdentityProvider(keys: idpKeys)
    static let idpEntityID = "https://idp.server-tests.test/metadata"
    static let ssoURL = "https://idp.server-tests.test/sso"

    struct Provider {
        let id: String
        let settings: RampartSAML.SAMLProviderSettings
        let slug: String
        var acsPath: String { "/o/\(slug)/sso/saml/\(id)/acs" }
        var startPath: String { "/o/\(slug)/sso/\(id)/start" }
    }

    /// A SAML provider made through the API, and the settings an IdP would write responses for.
    static func provider(_ api: API, slug: String, extra: [String: Any] = [:]) async throws -> Provider {
        var body: [String: Any] = ["preset": "saml", "name": "Corporate SAML", "idpEntityId": idpEntityID, "ssoUrl": ssoURL,
                                   "signingCertificates": [idpKeys.certificatePEM], "jit": true,
                                   "attributes": ["email": "mail", "groups": "groups"]]
        body.merge(extra) { $1 }
        let created = try await api.object(.post, "/identity-providers", json: jsonString(body), expect: .created)
        let settings = RampartSAML.SAMLProviderSettings(
            spEntityID: try #require(created["spEntityId"] as? String), acsURL: try #require(created["acsUrl"] as? String),
            idpEntityID: idpEntityID, idpSigningCertificatesPEM: [idpKeys.certificatePEM])
        return Provider(id: try #require(created["id"] as? String), settings: settings, slug: slug)
    }

    /// Starts a sign-in in `browser`: the AuthnRequest's ID, the RelayState and the browser cookie.
    static func start(_ client: any TestClientProtocol, _ provider: Provider, query: String = "") async throws
        -> (requestID: String, relayState: String, cookie: String)
    {
        let started = try await client.execute(uri: provider.startPath + query, method: .get)
        #expect(started.status == .seeOther)
        let location = try #require(started.headers[.location])
        #expect(location.hasPrefix(ssoURL + "?SAMLRequest="))
        let items = try #require(URLComponents(string: location)?.queryItems)
        let request = try #require(items.first { $0.name == "SAMLRequest" }?.value)
        let relayState = try #require(items.first { $0.name == "RelayState" }?.value)
        let xml = String(decoding: try SAMLRedirectBinding.inflate(base64: request, limit: 64 * 1024), as: UTF8.self)
        #expect(xml.contains("AssertionConsumerServiceURL=\"\(provider.settings.acsURL)\""))
        let idStart = try #require(xml.range(of: " ID=\"")).upperBound
        let requestID = String(xml[idStart...].prefix { $0 != "\"" })
        return (requestID, relayState, try #require(ConsoleBrowser.cookie("rampart_sso", in: started)))
    }

    static func response(_ provider: Provider, inResponseTo: String?, nameID: String = "saml.person@example.test",
                         _ change: (inout RampartSAMLTestSupport.TestResponse) -> Void = { _ in }) -> RampartSAMLTestSupport.TestResponse {
        var response = RampartSAMLTestSupport.TestResponse(settings: provider.settings, inResponseTo: inResponseTo, now: Date())
        response.nameID = nameID
        response.attributes = [("mail", [nameID]), ("groups", ["engineering", "unknown-group"])]
        change(&response)
        return response
    }

    /// Posts a response to the ACS as the IdP's form would, from another site.
    static func post(_ client: any TestClientProtocol, _ path: String, response: String, relayState: String?,
                     cookie: String?) async throws -> HummingbirdTesting.TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", HTTPField.Name("Sec-Fetch-Site")!: "cross-site"]
        if let cookie { headers[.cookie] = cookie }
        var form = [("SAMLResponse", response)]
        if let relayState { form.append(("RelayState", relayState)) }
        let allowed = CharacterSet.alphanumerics
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func reasons(_ store: TestStore, _ orgID: String) async throws -> [String] {
        try await SignInTests.events(store, orgID, "sso.signin_failed").compactMap { SignInTests.reason($0) }
    }

    @Test(arguments: Backend.all)
    func anSPInitiatedSignInCreatesTheAccountMapsGroupsAndIsUsedOnce(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            _ = try await api.object(.post, "/groups", json: #"{"name":"engineering"}"#, expect: .created)
            let provider = try await Self.provider(api, slug: org.organization.slug)
            let (requestID, relayState, cookie) = try await Self.start(client, provider, query: "?return_to=/console/users")
            let signed = try Self.idp.base64(Self.response(provider, inResponseTo: requestID))

            let answer = try await Self.post(client, provider.acsPath, response: signed, relayState: relayState, cookie: cookie)
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(ConsoleBrowser.cookie("rampart_session", in: answer)?.isEmpty == false)
            #expect(SSOSignInTests.onwardTarget(answer) == "/console/users")
            let user = try #require(try await store.database.read(org: org.organization.id) {
                try await $0.user(email: "saml.person@example.test")
            })
            let groups = try await store.database.read(org: org.organization.id) { try await $0.groupsOf(user: user.id) }
            #expect(groups.map(\.name) == ["engineering"])
            let succeeded = try await SignInTests.events(store, org.organization.id, "auth.signin_succeeded")
            #expect(succeeded.count == 1)

            // The same response again: the attempt is used.
            let again = try await Self.post(client, provider.acsPath, response: signed, relayState: relayState, cookie: cookie)
            #expect(again.status == .forbidden)
            #expect(try await Self.reasons(store, org.organization.id) == ["attempt_replayed"])
        }
    }

    @Test(arguments: Backend.all)
    func responsesThatAreNotThisBrowsersAnswerAreRefusedWithTheirReason(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let providerA = try await Self.provider(API(client: client, token: a.apiToken), slug: a.organization.slug)
            let providerB = try await Self.provider(API(client: client, token: b.apiToken), slug: b.organization.slug,
                                                    extra: ["allowIdpInitiated": true])
            let (requestID, relayState, _) = try await Self.start(client, providerA)
            let signed = try Self.idp.base64(Self.response(providerA, inResponseTo: requestID))
            // Another browser (no cookie, or another one) cannot finish this browser's sign-in.
            #expect(try await Self.post(client, providerA.acsPath, response: signed, relayState: relayState, cookie: nil).status == .forbidden)
            // Unsolicited while IdP-initiated is off.
            let unsolicited = try Self.idp.base64(Self.response(providerA, inResponseTo: nil))
            #expect(try await Self.post(client, providerA.acsPath, response: unsolicited, relayState: nil, cookie: nil).status == .forbidden)
            // A certificate that is not configured: the admin learns its fingerprint.
            let (forgedID, forgedRelay, forgedCookie) = try await Self.start(client, providerA)
            let forged = try TestIdentityProvider(keys: Self.attackerKeys).base64(Self.response(providerA, inResponseTo: forgedID))
            _ = try await Self.post(client, providerA.acsPath, response: forged, relayState: forgedRelay, cookie: forgedCookie)
            #expect(try await Self.reasons(store, a.organization.id) == ["saml_certificate_not_configured", "saml_unsolicited", "browser_mismatch"])

            // Organisation A's response at organisation B's ACS (which takes IdP-initiated responses).
            let refused = try await Self.post(client, providerB.acsPath, response: unsolicited, relayState: nil, cookie: nil)
            #expect(refused.status == .forbidden)
            #expect(try await Self.reasons(store, b.organization.id) == ["saml_destination_mismatch"])
            #expect(try await store.database.read(org: b.organization.id) { try await $0.user(email: "saml.person@example.test") } == nil)

            // B's own IdP-initiated response signs in once; the assertion replayed is refused by the cache.
            let own = try Self.idp.base64(Self.response(providerB, inResponseTo: nil))
            let first = try await Self.post(client, providerB.acsPath, response: own, relayState: "https://evil.example/", cookie: nil)
            #expect(first.status == .ok)
            #expect(SSOSignInTests.onwardTarget(first)?.hasPrefix("https://") == false, "RelayState is never an open redirect")
            #expect(try await Self.post(client, providerB.acsPath, response: own, relayState: nil, cookie: nil).status == .forbidden)
            #expect(try await Self.reasons(store, b.organization.id) == ["saml_assertion_replayed", "saml_destination_mismatch"])
            // The API and the console show the failures with their details.
            let shown = try await API(client: client, token: a.apiToken).object(.get, "/identity-providers/\(providerA.id)", expect: .ok)
            let failures = try #require(shown["recentFailures"] as? [[String: Any]])
            #expect(failures.map { $0["reason"] as? String } == ["saml_certificate_not_configured", "saml_unsolicited", "browser_mismatch"])
            let fingerprint = try #require(PEM.sha256Fingerprint(ofCertificate: Self.attackerKeys.certificatePEM))
            #expect((failures.first?["detail"] as? String)?.contains(fingerprint) == true)
            #expect((failures[1]["detail"] as? String)?.contains("IdP-initiated") == true)
        }
    }

    @Test(arguments: Backend.all)
    func testConnectionShowsTheAttributesOrTheErrorInPlainWords(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let provider = try await Self.provider(api, slug: org.organization.slug, extra: ["enabled": false])
            func testRun(_ keys: TestKeyPair) async throws -> [String: Any] {
                let link = try #require(try await api.object(.post, "/identity-providers/\(provider.id)/test", expect: .ok)["signInUrl"] as? String)
                let query = String(link[link.range(of: "?")!.lowerBound...])
                let (requestID, relayState, cookie) = try await Self.start(client, provider, query: query)
                let response = try TestIdentityProvider(keys: keys).base64(Self.response(provider, inResponseTo: requestID))
                _ = try await Self.post(client, provider.acsPath, response: response, relayState: relayState, cookie: cookie)
                return try #require(try await api.object(.get, "/identity-providers/\(provider.id)/test", expect: .ok)["result"] as? [String: Any])
            }
            let failed = try await testRun(Self.attackerKeys)
            #expect(failed["ok"] as? Bool == false)
            #expect(failed["reason"] as? String == "saml_certificate_not_configured")
            let fingerprint = try #require(PEM.sha256Fingerprint(ofCertificate: Self.attackerKeys.certificatePEM))
            #expect((failed["message"] as? String)?.contains("fingerprint is \(fingerprint)") == true)

            let passed = try await testRun(Self.idpKeys)
            #expect(passed["ok"] as? Bool == true)
            #expect(passed["email"] as? String == "saml.person@example.test")
            #expect(passed["groups"] as? [String] == ["engineering", "unknown-group"])
            #expect((passed["received"] as? [String: String])?["NameID"] == "saml.person@example.test")
            #expect(try await store.database.read(org: org.organization.id) { try await $0.user(email: "saml.person@example.test") } == nil,
                    "a test signs nobody in and creates nobody")
        }
    }

    @Test(arguments: Backend.all)
    func theSPMetadataNamesTheEntityIDTheACSAndACertificateThatDecrypts(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let provider = try await Self.provider(api, slug: org.organization.slug)
            let metadata = try await client.execute(uri: "/o/\(org.organization.slug)/sso/saml/\(provider.id)/metadata", method: .get)
            #expect(metadata.status == .ok)
            #expect(metadata.headers[.contentType]?.hasPrefix("application/samlmetadata+xml") == true)
            #expect(metadata.text.contains("entityID=\"\(provider.settings.spEntityID)\""))
            #expect(metadata.text.contains("Location=\"\(provider.settings.acsURL)\""))
            #expect(metadata.text.contains("use=\"encryption\""))
            // The same document twice (one key per provider, kept), and none for another organisation's slug.
            let again = try await client.execute(uri: "/o/\(org.organization.slug)/sso/saml/\(provider.id)/metadata", method: .get)
            #expect(again.text == metadata.text)
            let other = try await store.createOrganization()
            #expect(try await client.execute(uri: "/o/\(other.organization.slug)/sso/saml/\(provider.id)/metadata", method: .get).status == .notFound)
        }
    }

    /// The Okta and Entra ID metadata documents of RampartSAMLTests, with this suite's certificates in them.
    static func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RampartSAMLTests/Fixtures/\(name)")
        func body(_ pem: String) -> String { pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined() }
        return try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "{{CERT1}}", with: body(idpKeys.certificatePEM))
            .replacingOccurrences(of: "{{CERT2}}", with: body(attackerKeys.certificatePEM))
    }

    @Test(arguments: Backend.all)
    func oktaAndEntraMetadataImportAndBadMetadataChangesNothing(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let okta = try await api.object(.post, "/identity-providers", json: jsonString([
                "preset": "saml", "name": "Okta", "metadataXml": try Self.fixture("okta-metadata.xml"),
            ]), expect: .created)
            let oktaSAML = try #require(okta["saml"] as? [String: Any])
            #expect((oktaSAML["idpEntityId"] as? String)?.hasPrefix("http://www.okta.com/") == true)
            #expect((oktaSAML["ssoUrl"] as? String)?.contains("okta.com") == true)
            #expect((oktaSAML["signingCertificates"] as? [String])?.count == 1)

            let entra = try await api.object(.post, "/identity-providers", json: jsonString([
                "preset": "saml", "name": "Entra ID", "metadataXml": try Self.fixture("entra-metadata.xml"),
            ]), expect: .created)
            let entraSAML = try #require(entra["saml"] as? [String: Any])
            #expect((entraSAML["idpEntityId"] as? String)?.hasPrefix("https://sts.windows.net/") == true)
            #expect((entraSAML["signingCertificates"] as? [String])?.count == 2, "the rollover certificate comes too")

            // Metadata re-imported on an existing provider replaces its settings.
            let id = try #require(okta["id"] as? String)
            let patched = try await api.object(.patch, "/identity-providers/\(id)", json: jsonString([
                "metadataXml": try Self.fixture("entra-metadata.xml"),
            ]), expect: .ok)
            #expect((patched["saml"] as? [String: Any])?["idpEntityId"] as? String == entraSAML["idpEntityId"] as? String)

            let before = try await auditCount(store, org.organization.id)
            for (body, field) in [
                (["preset": "saml", "name": "Bad", "metadataXml": "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"], "metadataXml"),
                (["preset": "saml", "name": "SP", "metadataXml": "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>"], "metadataXml"),
                (["preset": "oidc", "name": "OIDC", "issuer": "https://op.example", "clientId": "c", "metadataXml": try Self.fixture("okta-metadata.xml")], "metadataXml"),
                (["preset": "saml", "name": "Down", "metadataUrl": "http://127.0.0.1:9/metadata"], "metadataUrl"),
            ] as [([String: String], String)] {
                let refused = try await api.call(.post, "/identity-providers", json: jsonString(body))
                #expect(refused.status == .badRequest, "\(refused.text)")
                #expect(((refused.jsonObject["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("Field '\(field)'") == true,
                        "\(refused.text)")
            }
            #expect(try await auditCount(store, org.organization.id) == before)
        }
    }
}
