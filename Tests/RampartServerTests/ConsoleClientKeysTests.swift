import Foundation
import HummingbirdTesting
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// The console's OAuth client form takes a `private_key_jwt` client's public keys and its
/// token signing algorithm, as the API does: private key material is refused beside its field
/// with nothing written; public keys make the client key-authenticated, with no secret; an
/// emptied field turns it back to a secret method.
@Suite("Console OAuth client keys")
struct ConsoleClientKeysTests {
    /// RFC 7517 appendix A.1's P-256 key: public members, and the private `d` beside them.
    static let publicJWK = #"{"kty":"EC","crv":"P-256","kid":"console-key","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}"#
    static let privateJWK = #"{"kty":"EC","crv":"P-256","kid":"console-key","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}"#

    @Test(arguments: Backend.all)
    func theFormRegistersKeysAndTheSigningAlgorithm(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let product = try await store.database.write(org: orgID) {
                try await $0.createProduct(name: "Tracker", kind: .custom, url: "https://tracker.example.com", by: .system)
            }
            let list = try await browser.get("/console/oauth-clients", cookie: session)
            #expect(list.text.contains(#"name="jwks""#) && list.text.contains(#"name="id_token_signing_alg""#))
            let csrf = try #require(ConsoleBrowser.csrf(in: list))
            let form = ["csrf": csrf, "product_id": product.id, "type": "confidential", "name": "Tracker",
                        "redirect_uris": "https://tracker.example.com/callback", "scopes": "openid",
                        "id_token_signing_alg": "RS256"]

            let before = try await auditCount(store, orgID)
            for bad in [#"{"keys":[\#(Self.privateJWK)]}"#, "not json"] {
                let refused = try await browser.post("/console/oauth-clients", form: form.merging(["jwks": bad]) { $1 }, cookie: session)
                #expect(refused.status == .badRequest)
                #expect(refused.text.contains(#"id="jwks-error""#))
            }
            let forged = try await browser.post("/console/oauth-clients", form: form.merging(["id_token_signing_alg": "HS256"]) { $1 },
                                                cookie: session)
            #expect(forged.status == .badRequest && forged.text.contains("must be one of ES256, RS256"), "\(forged.text)")
            #expect(try await auditCount(store, orgID) == before, "a refused form writes nothing")
            #expect(try await store.database.read(org: orgID) { try await $0.oauthClients() }.isEmpty)

            let created = try await browser.post("/console/oauth-clients",
                                                 form: form.merging(["jwks": #"{"keys":[\#(Self.publicJWK)]}"#]) { $1 }, cookie: session)
            #expect(created.status == .created, "\(created.text)")
            let stored = try #require(try await store.database.read(org: orgID) { try await $0.oauthClients() }.first)
            #expect(stored.authMethod == .privateKeyJWT && stored.idTokenSigningAlg == .rs256)
            #expect(stored.jwks?.keys.map(\.kid) == ["console-key"])
            #expect(!created.text.contains("rcs_"), "a key client is shown no secret")

            let edit = try await browser.get("/console/oauth-clients/\(stored.id)/edit", cookie: session)
            #expect(edit.text.contains("console-key"))
            let back = try await browser.post("/console/oauth-clients/\(stored.id)/edit",
                                              form: ["csrf": csrf, "name": "Tracker", "scopes": "openid",
                                                     "redirect_uris": "https://tracker.example.com/callback",
                                                     "jwks": "", "id_token_signing_alg": "ES256"],
                                              cookie: session)
            #expect(back.status == .seeOther)
            let after = try #require(try await store.database.read(org: orgID) { try await $0.oauthClient(stored.id) })
            #expect(after.authMethod == .clientSecretBasic && after.jwks == nil && after.idTokenSigningAlg == .es256)
        }
    }
}
