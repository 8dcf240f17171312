import Foundation
import HTTPTypes
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// `/api/v1/identity-providers`: what is stored and shown (never the client secret), bad
/// input refused with nothing changed, routing only verified domains, and one organisation's
/// providers invisible to another's credentials.
@Suite("Identity providers API")
struct IdentityProvidersAPITests {
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIDFzCCAf+gAwIBAgIUDWmJSAKOziU3zJUy+FqPEsqx6Y8wDQYJKoZIhvcNAQEL
        BQAwGzEZMBcGA1UEAwwQaWRwLmV4YW1wbGUudGVzdDAeFw0yNjEyMDYxMDIyMjla
        Fw0zNjEyMDMxMDIyMjlaMBsxGTAXBgNVBAMMEGlkcC5leGFtcGxlLnRlc3QwggEi
        MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQC2vXXTK9i3Ue2iwaPkEyUi5lRo
        wUrL3Ytzf138tlgCS7eO5oancNDBg9okb5mVjQIGz+li3ZgZKWDNezLTHrXvWpAE
        qzNtgs9hULz6PmeGPdtEWisaRusnGDScBT2FnSQa8H6eWObfUAn7Ei18D/EIUv5L
        rqywFNnUqEl9qzUcO59RjxKWorQ4euDXk3gyzg8m5vj4z3mZSpgIW5UGXovrGMvP
        mZBPpx+vEqhBjtrlt07itQ6/sc2KKmg93KHUDrWoJ5iphMKoFWHEmuCjyFuDsNt/
        /Cqv137IRpxuw6klaMQjBwDtyYsHqhUphskzwDy0Sm6vYVFcQvxmhnrbeykDAgMB
        AAGjUzBRMB0GA1UdDgQWBBTFcL84eu9OVH8C5/roWr5rnGnZ2zAfBgNVHSMEGDAW
        gBTFcL84eu9OVH8C5/roWr5rnGnZ2zAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3
        DQEBCwUAA4IBAQBK9+ZYm2XYqfzTx4XZpKVwJtGtK7j863mQvm1z8VvhpZlJQHKD
        2FGssaGHbgATqtAe16+U/aFegwimTzkT65U5vqvlovA+7CMI2/Fib6Mu8ZuUhu7Y
        cxNHqzjYs7EJrX+wwd+RhVJeCHxWmY5sgP81NdZ+nXp2EOAEBnXhsJyOLAPmlz+i
        RtgABSRZfQjP/p9icxMkR/jP3YNtmjtuMGKywZg58R8WcIyVDrDxC6BLgi3WbZOy
        Wnj5wm+o0nFheJyRMsR5+3a2dPc1ky8ksn8++kRcztOEJ/UucF+xGEFzCKe4joAE
        2WyIkB89iqMXZyY2AzYE5UEKNlHOW0RzOgys
        -----END CERTIFICATE-----
        """

    /// A verified domain of the organisation, for routing.
    static func verifiedDomain(_ store: TestStore, _ orgID: String) async throws -> String {
        let name = "sso\(UUID().uuidString.prefix(8).lowercased()).example.org"
        try await store.database.write(org: orgID) { tenant in
            let claim = try await tenant.claimDomain(try DomainName(parsing: name, publicSuffixes: .empty), by: .system)
            _ = try await tenant.recordDomainCheck(claim.id, method: .dns, result: .proven, by: .system)
        }
        return name
    }

    @Test(arguments: Backend.all)
    func anOIDCProviderIsStoredWithItsSecretSealedAndShownWithWhatToPaste(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let domain = try await Self.verifiedDomain(store, org.organization.id)
            let created = try await api.object(.post, "/identity-providers", json: """
                {"preset":"okta","name":"Okta","issuer":"https://acme.okta.com","clientId":"0oa1","clientSecret":"s3cr3t-value",
                 "domains":["\(domain.uppercased())"],"jit":true,"groupMatch":"external_id"}
                """, expect: .created)
            let id = try #require(created["id"] as? String)
            #expect(created["kind"] as? String == "oidc")
            #expect(created["domains"] as? [String] == [domain])
            let oidc = try #require(created["oidc"] as? [String: Any])
            #expect(oidc["hasClientSecret"] as? Bool == true)
            #expect(oidc["scopes"] as? [String] == ["openid", "email", "profile"])
            #expect((created["attributes"] as? [String: Any])?["groups"] as? String == "groups")
            let slug = org.organization.slug
            #expect((created["redirectUri"] as? String)?.hasSuffix("/o/\(slug)/sso/oidc/\(id)/callback") == true)
            #expect((created["signInUrl"] as? String)?.hasSuffix("/o/\(slug)/sso/\(id)/start") == true)
            #expect(created["acsUrl"] is NSNull, "an OpenID Connect provider has no ACS")

            // The secret is in no answer, no event, and not in clear in the row.
            let list = try await api.call(.get, "/identity-providers")
            let events = try await api.call(.get, "/audit-events?action=identity_provider.created")
            for text in [list.text, events.text, try await api.call(.get, "/identity-providers/\(id)").text] {
                #expect(!text.contains("s3cr3t-value"))
            }
            #expect(events.text.contains(id))
            let keys = store.keys
            let stored = try await store.database.read(org: org.organization.id) { tenant in
                try await tenant.identityProviderClientSecret(id, keys: keys)
            }
            #expect(stored == "s3cr3t-value")

            let patched = try await api.object(.patch, "/identity-providers/\(id)", json: #"{"enabled":false,"clientSecret":""}"#,
                                               expect: .ok)
            #expect(patched["enabled"] as? Bool == false)
            #expect((patched["oidc"] as? [String: Any])?["hasClientSecret"] as? Bool == false)
            let updated = try await api.call(.get, "/audit-events?action=identity_provider.updated")
            #expect(updated.text.contains("clientSecretChanged"))
            #expect(try await api.call(.delete, "/identity-providers/\(id)").status == .noContent)
            #expect(try await api.call(.get, "/identity-providers/\(id)").status == .notFound)
        }
    }

    @Test(arguments: Backend.all)
    func aSAMLProviderKeepsItsCertificatesAndShowsTheServiceProviderURLs(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let body = jsonString(["preset": "saml", "name": "Corporate SAML", "idpEntityId": "https://idp.example.test/saml",
                                   "ssoUrl": "https://idp.example.test/sso", "signingCertificates": [Self.certificate]])
            let created = try await api.object(.post, "/identity-providers", json: body, expect: .created)
            let saml = try #require(created["saml"] as? [String: Any])
            #expect(saml["requireSignedAssertion"] as? Bool == true)
            #expect(saml["allowIdpInitiated"] as? Bool == false)
            #expect((saml["signingCertificateFingerprints"] as? [String])?.first?.count == 95)
            let id = created["id"] as! String
            #expect((created["acsUrl"] as? String)?.hasSuffix("/sso/saml/\(id)/acs") == true)
            #expect((created["metadataUrl"] as? String)?.hasSuffix("/sso/saml/\(id)/metadata") == true)
            #expect(created["spEntityId"] as? String != nil)
            #expect(created["redirectUri"] is NSNull, "a SAML provider has no redirect URI")
        }
    }

    @Test(arguments: Backend.all)
    func badInputIsRefusedAndChangesNothing(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let domain = try await Self.verifiedDomain(store, org.organization.id)
            let existing = try await api.object(.post, "/identity-providers", json: """
                {"preset":"google","name":"Google","issuer":"https://accounts.google.com","clientId":"g","domains":["\(domain)"]}
                """, expect: .created)["id"] as! String
            let before = try await auditCount(store, org.organization.id)
            let refused: [(String, HTTPResponse.Status)] = [
                (#"{"name":"No preset","issuer":"https://x.example","clientId":"c"}"#, .badRequest),
                (#"{"preset":"adfs","name":"Unknown preset"}"#, .badRequest),
                (#"{"preset":"oidc","name":"No issuer","clientId":"c"}"#, .badRequest),
                (#"{"preset":"oidc","name":"Plain http","issuer":"http://idp.example.com","clientId":"c"}"#, .badRequest),
                (#"{"preset":"oidc","name":"SAML field","issuer":"https://x.example","clientId":"c","ssoUrl":"https://x.example/sso"}"#, .badRequest),
                (#"{"preset":"oidc","name":"Unknown field","issuer":"https://x.example","clientId":"c","secret":"x"}"#, .badRequest),
                (#"{"preset":"oidc","name":"Bad attribute","issuer":"https://x.example","clientId":"c","attributes":{"phone":"p"}}"#, .badRequest),
                (#"{"preset":"oidc","name":"Tenants","issuer":"https://x.example","clientId":"c","allowedTenants":["x"]}"#, .badRequest),
                (#"{"preset":"entra","name":"Template","issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","clientId":"c"}"#, .badRequest),
                (#"{"preset":"saml","name":"Bad cert","idpEntityId":"urn:x","ssoUrl":"https://x.example/sso","signingCertificates":["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]}"#, .badRequest),
                (#"{"preset":"saml","name":"No cert","idpEntityId":"urn:x","ssoUrl":"https://x.example/sso"}"#, .badRequest),
                (#"{"preset":"oidc","name":"Unverified","issuer":"https://x.example","clientId":"c","domains":["not-verified.example.org"]}"#, .badRequest),
                (#"{"preset":"oidc","name":"Taken","issuer":"https://x.example","clientId":"c","domains":["\#(domain)"]}"#, .conflict),
            ]
            for (body, status) in refused {
                let response = try await api.call(.post, "/identity-providers", json: body)
                #expect(response.status == status, "\(body): \(response.text)")
                #expect(response.errorCode != nil, "\(body)")
            }
            let patchRefused = try await api.call(.patch, "/identity-providers/\(existing)", json: #"{"preset":"okta"}"#)
            #expect(patchRefused.status == .badRequest)
            #expect(try await api.call(.patch, "/identity-providers/\(existing)", json: #"{"hostedDomain":"a b"}"#).status == .badRequest)
            #expect(try await auditCount(store, org.organization.id) == before)
            let list = try await api.object(.get, "/identity-providers", expect: .ok)
            #expect((list["data"] as? [Any])?.count == 1)
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganizationsProvidersAreNotFound(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let a = try await store.createOrganization()
            let b = try await store.createOrganization()
            let apiA = API(client: client, token: a.apiToken)
            let apiB = API(client: client, token: b.apiToken)
            let id = try await apiA.object(.post, "/identity-providers", json: #"{"preset":"oidc","name":"A","issuer":"https://a.example","clientId":"a"}"#,
                                           expect: .created)["id"] as! String
            let list = try await apiB.object(.get, "/identity-providers", expect: .ok)
            #expect((list["data"] as? [Any])?.isEmpty == true)
            for (method, path) in [(HTTPRequest.Method.get, "/identity-providers/\(id)"), (.patch, "/identity-providers/\(id)"),
                                   (.delete, "/identity-providers/\(id)"), (.post, "/identity-providers/\(id)/test"),
                                   (.get, "/identity-providers/\(id)/test")] {
                let response = try await apiB.call(method, path, json: method == .patch ? #"{"name":"B"}"# : nil)
                #expect(response.status == .notFound, "\(method) \(path)")
            }
            // A's verified domain cannot be routed by B.
            let domain = try await Self.verifiedDomain(store, a.organization.id)
            let taken = try await apiB.call(.post, "/identity-providers",
                                            json: #"{"preset":"oidc","name":"B","issuer":"https://b.example","clientId":"b","domains":["\#(domain)"]}"#)
            #expect(taken.status == .badRequest)
            #expect(try await apiA.object(.get, "/identity-providers/\(id)", expect: .ok)["name"] as? String == "A")
        }
    }

    @Test(arguments: Backend.all)
    func theAssertionReplayCacheAcceptsAnIDOncePerProvider(backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization()
            let expires = Timestamp.now().adding(seconds: 300)
            let answers = try await store.database.write(org: org.organization.id) { tenant -> [Bool] in
                [try await tenant.rememberAssertionID(providerID: "p1", assertionID: "_a1", expiresAt: expires),
                 try await tenant.rememberAssertionID(providerID: "p1", assertionID: "_a1", expiresAt: expires),
                 try await tenant.rememberAssertionID(providerID: "p2", assertionID: "_a1", expiresAt: expires)]
            }
            #expect(answers == [true, false, true])
            let other = try await store.createOrganization()
            let elsewhere = try await store.database.write(org: other.organization.id) { tenant in
                try await tenant.rememberAssertionID(providerID: "p1", assertionID: "_a1", expiresAt: expires)
            }
            #expect(elsewhere)
        }
    }
}
