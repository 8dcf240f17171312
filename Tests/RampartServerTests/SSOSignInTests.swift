import Foundation
import HTTPTypes
import HummingbirdTesting
import RampartAuthn
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// What the sign-in pages do once an organisation has an identity provider: home-realm
/// discovery by the email's verified domain, "SSO required" refusing passwords except for
/// break-glass accounts, and starting a sign-in (the provider itself is exercised by the
/// interop suite, interop/test_sso_oidc.py).
@Suite("Sign-in with identity providers")
struct SSOSignInTests {
    static func provider(_ store: TestStore, _ orgID: String, domains: [String], enabled: Bool = true) async throws -> IdentityProvider {
        let keys = store.keys
        return try await store.database.write(org: orgID) { tenant in
            var input = IdentityProviderInput()
            input.preset = .okta; input.name = "Acme Okta"; input.issuer = "https://acme.okta.example"
            input.clientId = "rampart"; input.domains = domains; input.enabled = enabled
            return try await tenant.createIdentityProvider(input, keys: keys, by: SignInTests.admin)
        }
    }

    static func onwardTarget(_ response: TestResponse) -> String? {
        guard let range = response.text.range(of: #"id="continue" href=""#) else { return nil }
        return String(response.text[range.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test(arguments: Backend.all)
    func anEmailOfARoutedDomainGoesToItsProviderAndAPasswordStillSignsIn(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let slug = org.organization.slug
            let domain = try await IdentityProvidersAPITests.verifiedDomain(store, org.organization.id)
            let provider = try await Self.provider(store, org.organization.id, domains: [domain])
            let browser = ConsoleBrowser(client: client)

            let page = try await browser.get("/o/\(slug)/signin")
            #expect(page.text.contains("Sign in with Acme Okta"))
            #expect(page.text.contains("/o/\(slug)/sso/\(provider.id)/start"))

            let routed = try await SignInTests.signIn(browser, slug: slug, email: "ann@\(domain)", password: "")
            #expect(routed.status == .ok)
            #expect(Self.onwardTarget(routed) == "/o/\(slug)/sso/\(provider.id)/start?login_hint=ann%40\(domain)")
            let elsewhere = try await SignInTests.signIn(browser, slug: slug, email: "ann@other.example", password: "")
            #expect(elsewhere.status == .badRequest)

            // From /signin, by the domain alone.
            let finder = try await browser.get("/signin")
            let found = try await browser.post("/signin", form: ["csrf": try #require(ConsoleBrowser.csrf(in: finder)),
                                                                 "email": "ann@\(domain)"],
                                               cookie: ConsoleBrowser.cookie("rampart_signin_csrf", in: finder))
            #expect(Self.onwardTarget(found)?.hasPrefix("/o/\(slug)/sso/\(provider.id)/start") == true)

            // A disabled provider routes nobody.
            try await store.database.write(org: org.organization.id) { tenant in
                var off = IdentityProviderInput()
                off.enabled = false
                _ = try await tenant.updateIdentityProvider(provider.id, off, keys: store.keys, by: SignInTests.admin)
            }
            let unrouted = try await SignInTests.signIn(browser, slug: slug, email: "ann@\(domain)", password: "")
            #expect(unrouted.status == .badRequest)
            #expect(try await browser.get("/o/\(slug)/signin").text.contains("Sign in with") == false)
        }
    }

    @Test(arguments: Backend.all)
    func ssoRequiredRefusesPasswordsOnceAProviderIsEnabledExceptBreakGlass(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let slug = org.organization.slug
            let browser = ConsoleBrowser(client: client)
            let (member, _) = try await SignInTests.member(store, org, browser, email: "member@example.com")
            let (glass, _) = try await SignInTests.member(store, org, browser, email: "glass@example.com")
            try await store.database.write(org: org.organization.id) { tenant in
                var settings = AuthenticationPolicySettings.standard
                settings.ssoRequired = true
                settings.breakGlassUserIDs = [glass.id]
                let policy = try await tenant.createAuthenticationPolicy(name: "SSO only", settings: settings, by: SignInTests.admin)
                for user in [member, glass] {
                    try await tenant.assignAuthenticationPolicy(policy.id, to: .user(user.id), by: SignInTests.admin)
                }
            }
            // No provider yet: SSO cannot be required of anyone.
            let before = try await SignInTests.signIn(browser, slug: slug, email: member.email, password: SignInTests.password)
            #expect(before.status == .seeOther)

            let provider = try await Self.provider(store, org.organization.id, domains: [])
            let refused = try await SignInTests.signIn(browser, slug: slug, email: member.email, password: SignInTests.password)
            #expect(refused.status == .forbidden)
            #expect(ConsoleBrowser.cookie("rampart_session", in: refused) == nil)
            #expect(SignInTests.text(refused, id: "signin-error")?.contains("identity provider") == true)
            #expect(refused.text.contains("/o/\(slug)/sso/\(provider.id)/start"))
            let reasons = try await SignInTests.events(store, org.organization.id, "auth.signin_failed").compactMap { SignInTests.reason($0) }
            #expect(reasons.contains("sso_required"))

            let breakGlass = try await SignInTests.signIn(browser, slug: slug, email: glass.email, password: SignInTests.password)
            #expect(breakGlass.status == .seeOther)
            #expect(ConsoleBrowser.cookie("rampart_session", in: breakGlass) != nil)
        }
    }

    @Test(arguments: Backend.all)
    func aSignInCannotStartOnAnotherOrganizationsOrADisabledProvider(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let a = try await store.createOrganization()
            let b = try await store.createOrganization()
            let provider = try await Self.provider(store, a.organization.id, domains: [])
            let browser = ConsoleBrowser(client: client)
            #expect(try await browser.get("/o/\(b.organization.slug)/sso/\(provider.id)/start").status == .notFound)
            #expect(try await browser.get("/o/\(b.organization.slug)/sso/oidc/\(provider.id)/callback?state=x&code=y").status == .notFound)
            // A callback with a state no sign-in started is refused and audited with its reason.
            let forged = try await browser.get("/o/\(a.organization.slug)/sso/oidc/\(provider.id)/callback?state=forged&code=y")
            #expect(forged.status == .forbidden)
            let failures = try await SignInTests.events(store, a.organization.id, "sso.signin_failed")
            #expect(failures.compactMap { SignInTests.reason($0) } == ["unknown_state"])
            #expect(failures.first?.targetsJSON.contains(provider.id) == true)
            // A forged test link is refused; a disabled provider starts nothing.
            #expect(try await browser.get("/o/\(a.organization.slug)/sso/\(provider.id)/start?test=1.AAAA").status == .badRequest)
            try await store.database.write(org: a.organization.id) { tenant in
                var off = IdentityProviderInput()
                off.enabled = false
                _ = try await tenant.updateIdentityProvider(provider.id, off, keys: store.keys, by: SignInTests.admin)
            }
            #expect(try await browser.get("/o/\(a.organization.slug)/sso/\(provider.id)/start").status == .forbidden)
        }
    }
}
