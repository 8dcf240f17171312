import Foundation
import HTTPTypes
import HummingbirdTesting
import RampartAuthn
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Sign-in for every person of an organisation, through the pages a browser uses.
@Suite("Sign-in for everyone")
struct SignInTests {
    static let password = "violet tractor evening 77"
    static let admin = AuditContext(actor: AuditActor(type: .system, id: nil, name: "test"))

    /// A member without roles, given a password through a setup link, as a new person would be.
    static func member(_ store: TestStore, _ org: OrganizationProvisioner.Result, _ browser: ConsoleBrowser,
                       email: String = "grace@example.com") async throws -> (User, session: String) {
        let (user, token) = try await store.database.write(org: org.organization.id) { tenant in
            let user = try await tenant.createUser(email: email, displayName: "Grace Member", by: Self.admin)
            return (user, try await tenant.createSetupLink(for: user.id, validFor: 3600))
        }
        let page = try await browser.get("/console/setup?token=\(token)")
        let csrf = try #require(ConsoleBrowser.csrf(in: page))
        let done = try await browser.post("/console/setup", form: ["token": token, "csrf": csrf, "password": password,
                                                                   "password_confirm": password])
        #expect(done.status == .seeOther)
        #expect(done.headers[.location] == "/o/\(org.organization.slug)/account", "a member lands in My account")
        return (user, try #require(ConsoleBrowser.cookie("rampart_session", in: done)))
    }

    /// Posts the organisation's sign-in form with its CSRF cookie.
    static func signIn(_ browser: ConsoleBrowser, slug: String, email: String, password: String) async throws -> TestResponse {
        let form = try await browser.get("/o/\(slug)/signin")
        let csrfCookie = try #require(ConsoleBrowser.cookie("rampart_signin_csrf", in: form))
        let csrf = try #require(ConsoleBrowser.csrf(in: form))
        return try await browser.post("/o/\(slug)/signin", form: ["csrf": csrf, "email": email, "password": password],
                                      cookie: csrfCookie)
    }

    static func text(_ response: TestResponse, id: String) -> String? {
        guard let start = response.text.range(of: "id=\"\(id)\"") else { return nil }
        let rest = response.text[start.upperBound...]
        guard let open = rest.firstIndex(of: ">") else { return nil }
        return String(rest[rest.index(after: open)...].prefix { $0 != "<" })
    }

    static func reason(_ event: AuditEvent) -> String? {
        guard case .object(let details)? = JSONValue.parse(event.detailsJSON), case .string(let reason)? = details["reason"]
        else { return nil }
        return reason
    }

    static func events(_ store: TestStore, _ orgID: String, _ action: String) async throws -> [AuditEvent] {
        try await store.database.read(org: orgID) { try await $0.auditEvents(AuditQuery(action: action)).items }
    }

    @Test(arguments: Backend.all)
    func memberEnrolsTOTPAndSignsInWithItAndARecoveryCodeOnce(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let slug = org.organization.slug
            let browser = ConsoleBrowser(client: client)
            let (user, session) = try await Self.member(store, org, browser)

            let account = try await browser.get("/o/\(slug)/account", cookie: session)
            #expect(account.status == .ok)
            #expect(account.text.contains("grace@example.com"))
            #expect(try await browser.get("/console", cookie: session).headers[.location] == "/o/\(slug)/account",
                    "a member has no console")

            // Enrolment: the QR code, the seed, and one valid code.
            let enrolment = try await browser.get("/o/\(slug)/account/mfa/enrol", cookie: session)
            #expect(enrolment.text.contains("<svg"))
            let seed = try Base32.decode(try #require(Self.text(enrolment, id: "totp-secret")))
            let totp = try TOTP(secret: seed)
            let csrf = try #require(ConsoleBrowser.csrf(in: enrolment))
            let wrong = try await browser.post("/o/\(slug)/account/mfa/enrol", form: ["csrf": csrf, "code": "000000"], cookie: session)
            #expect(wrong.status == .badRequest)
            #expect(Self.text(wrong, id: "totp-secret") == Self.text(enrolment, id: "totp-secret"), "the same seed after a typo")
            let step = totp.step(at: Date())
            let enrolled = try await browser.post("/o/\(slug)/account/mfa/enrol",
                                                  form: ["csrf": csrf, "code": totp.code(forStep: step)], cookie: session)
            #expect(enrolled.status == .ok)
            let codes = enrolled.text.matches(of: /<li><code>([0-9a-z-]{19})<\/code><\/li>/).map { String($0.output.1) }
            #expect(codes.count == 10)
            let elevated = try #require(ConsoleBrowser.cookie("rampart_session", in: enrolled))
            #expect(elevated != session, "a new session id at the privilege change")
            #expect(try await browser.get("/o/\(slug)/account", cookie: session).status == .seeOther, "the old id is dead")

            // Sign-in now asks for the second factor.
            let first = try await Self.signIn(browser, slug: slug, email: user.email, password: Self.password)
            #expect(first.headers[.location] == "/o/\(slug)/signin/mfa")
            let pending = try #require(ConsoleBrowser.cookie("rampart_session", in: first))
            #expect(try await browser.get("/o/\(slug)/account", cookie: pending).headers[.location] == "/o/\(slug)/signin/mfa",
                    "a pending session reaches nothing but the second factor")
            let mfaPage = try await browser.get("/o/\(slug)/signin/mfa", cookie: pending)
            let mfaCSRF = try #require(ConsoleBrowser.csrf(in: mfaPage))
            let replayed = try await browser.post("/o/\(slug)/signin/mfa", form: ["csrf": mfaCSRF, "code": totp.code(forStep: step)],
                                                  cookie: pending)
            #expect(replayed.status == .unauthorized, "the code used at enrolment is spent")
            let older = try await browser.post("/o/\(slug)/signin/mfa", form: ["csrf": mfaCSRF, "code": totp.code(forStep: step - 1)],
                                               cookie: pending)
            #expect(older.status == .unauthorized, "a step before the last accepted one")
            #expect(Self.text(replayed, id: "mfa-error") == Self.text(older, id: "mfa-error"))
            let passed = try await browser.post("/o/\(slug)/signin/mfa", form: ["csrf": mfaCSRF, "code": totp.code(forStep: step + 1)],
                                                cookie: pending)
            #expect(passed.status == .seeOther)
            #expect(passed.headers[.location] == "/o/\(slug)/account")
            let full = try #require(ConsoleBrowser.cookie("rampart_session", in: passed))
            #expect(full != pending)
            #expect(try await browser.get("/o/\(slug)/account", cookie: full).status == .ok)

            // A recovery code works once.
            for attempt in 0..<2 {
                let again = try await Self.signIn(browser, slug: slug, email: user.email, password: Self.password)
                let cookie = try #require(ConsoleBrowser.cookie("rampart_session", in: again))
                let page = try await browser.get("/o/\(slug)/signin/mfa", cookie: cookie)
                let answer = try await browser.post("/o/\(slug)/signin/mfa",
                                                    form: ["csrf": try #require(ConsoleBrowser.csrf(in: page)), "recovery_code": codes[0]],
                                                    cookie: cookie)
                #expect(answer.status == (attempt == 0 ? .seeOther : .unauthorized))
            }
            let failures = try await Self.events(store, org.organization.id, "auth.signin_failed")
            let reasons = failures.compactMap { Self.reason($0) }
            #expect(reasons.contains("replayed_code") && reasons.contains("bad_recovery_code"))
            #expect(failures.allSatisfy { $0.actor.ip == nil || !$0.actor.ip!.isEmpty })
        }
    }

    @Test(arguments: Backend.all)
    func repeatedFailuresLockOutTheSameWayForKnownAndUnknownAccounts(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let slug = org.organization.slug
            let browser = ConsoleBrowser(client: client)
            let (user, _) = try await Self.member(store, org, browser)
            for email in [user.email, "nobody@example.com"] {
                var statuses: [HTTPResponse.Status] = []
                // Five tries: the fifth failure starts the lockout.
                for _ in 0..<5 {
                    statuses.append(try await Self.signIn(browser, slug: slug, email: email, password: "not the password at all").status)
                }
                #expect(statuses.prefix(4).allSatisfy { $0 == .unauthorized }, "\(email)")
                #expect(statuses.last == .tooManyRequests, "\(email)")
                let locked = try await Self.signIn(browser, slug: slug, email: email, password: Self.password)
                #expect(locked.status == .tooManyRequests, "the right password waits too")
                #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 0)
                #expect(Self.text(locked, id: "signin-error")?.contains("Try again after") == true)
            }
            let lockouts = try await Self.events(store, org.organization.id, "auth.locked_out")
            #expect(lockouts.count >= 2)
        }
    }

    @Test(arguments: Backend.all)
    func policyRefusesAnAddressOutsideTheAllowlistAfterThePassword(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let (user, _) = try await Self.member(store, org, browser)
            try await store.database.write(org: org.organization.id) { tenant in
                var settings = AuthenticationPolicySettings.standard
                settings.ipAllowlist = [try IPNetwork(parsing: "203.0.113.0/24")]
                let policy = try await tenant.createAuthenticationPolicy(name: "Office only", settings: settings, by: Self.admin)
                try await tenant.assignAuthenticationPolicy(policy.id, to: .user(user.id), by: Self.admin)
            }
            let wrongPassword = try await Self.signIn(browser, slug: org.organization.slug, email: user.email, password: "wrong password here")
            #expect(wrongPassword.status == .unauthorized, "the policy is not revealed before the password is right")
            let refused = try await Self.signIn(browser, slug: org.organization.slug, email: user.email, password: Self.password)
            #expect(refused.status == .forbidden)
            #expect(ConsoleBrowser.cookie("rampart_session", in: refused) == nil)
            let reasons = try await Self.events(store, org.organization.id, "auth.signin_failed")
                .compactMap { Self.reason($0) }
            #expect(reasons.contains("address_not_allowed"))
        }
    }

    @Test(arguments: Backend.all)
    func aResetLinkWorksOnceEndsEverySessionAndRefusesWeakPasswords(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization(adminEmail: "admin@example.com")
            let slug = org.organization.slug
            let browser = ConsoleBrowser(client: client)
            let (user, session) = try await Self.member(store, org, browser)
            let token = try await store.database.write(org: org.organization.id) { try await $0.createPasswordResetToken(for: user.id) }

            let form = try await browser.get("/o/\(slug)/reset?token=\(token)")
            #expect(form.status == .ok)
            let csrf = try #require(ConsoleBrowser.csrf(in: form))
            for (weak, reason) in [("password1", "too common"), ("grace@example.com!!", "email"),
                                   (String(repeating: "x", count: 300), "at most")] {
                let refused = try await browser.post("/o/\(slug)/reset", form: ["token": token, "csrf": csrf, "password": weak,
                                                                                "password_confirm": weak])
                #expect(refused.status == .badRequest)
                #expect(Self.text(refused, id: "password-error")?.contains(reason) == true, "\(reason)")
            }
            let fresh = "copper lantern harbour 19"
            let done = try await browser.post("/o/\(slug)/reset", form: ["token": token, "csrf": csrf, "password": fresh,
                                                                        "password_confirm": fresh])
            #expect(done.status == .seeOther)
            #expect(try await browser.get("/o/\(slug)/account", cookie: session).status == .seeOther, "sessions ended")
            #expect(try await browser.get("/o/\(slug)/reset?token=\(token)").status == .notFound, "used once")
            #expect(try await Self.signIn(browser, slug: slug, email: user.email, password: fresh).status == .seeOther)

            // The link of a person deactivated since it was made is dead.
            let second = try await store.database.write(org: org.organization.id) { try await $0.createPasswordResetToken(for: user.id) }
            _ = try await store.database.write(org: org.organization.id) { try await $0.setUserStatus(user.id, .deactivated, by: Self.admin) }
            #expect(try await browser.get("/o/\(slug)/reset?token=\(second)").status == .notFound)
        }
    }

    @Test(arguments: Backend.all)
    func aGrantedRoleAndADeactivationEachEndTheSessionsAtOnce(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let (user, before) = try await Self.member(store, org, browser)
            try await store.database.write(org: org.organization.id) { try await $0.assignRole(.auditor, to: user.id, by: Self.admin) }
            #expect(try await browser.get("/console", cookie: before).headers[.location] == "/console/signin",
                    "a session from before the grant does not carry the new role")
            let signedIn = try await Self.signIn(browser, slug: org.organization.slug, email: user.email, password: Self.password)
            #expect(signedIn.headers[.location] == "/console", "with a role, the person lands in the console")
            let session = try #require(ConsoleBrowser.cookie("rampart_session", in: signedIn))
            #expect(try await browser.get("/o/\(org.organization.slug)/account", cookie: session).status == .ok)
            _ = try await store.database.write(org: org.organization.id) { try await $0.setUserStatus(user.id, .deactivated, by: Self.admin) }
            #expect(try await browser.get("/o/\(org.organization.slug)/account", cookie: session).status == .seeOther)
        }
    }

    /// Hashes imported from other systems (made by Python's bcrypt and hashlib) sign in as they
    /// are and are replaced by Argon2id at that sign-in.
    @Test(arguments: Backend.all)
    func importedHashesSignInAndAreUpgradedToArgon2id(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let imported = ["$2b$05$7uus4.9nevpIZ6grhx1Iued1r.W1DIGHeiL1VWtA/bdALk7fN4KpS",
                            "pbkdf2_sha256$260000$seasalt1234$Y22j9Y2icpn1ujgedZWP8VCgRKwbMWz2EkX9iMVLvoY="]
            for (index, hash) in imported.enumerated() {
                let user = try await store.database.write(org: org.organization.id) { tenant in
                    let user = try await tenant.createUser(email: "imported\(index)@example.com", displayName: "Imported", by: Self.admin)
                    try await tenant.setPasswordHash(hash, for: user.id)
                    return user
                }
                let wrong = try await Self.signIn(browser, slug: org.organization.slug, email: user.email, password: "correct horse battery stapler")
                #expect(wrong.status == .unauthorized)
                let right = try await Self.signIn(browser, slug: org.organization.slug, email: user.email, password: "correct horse battery staple")
                #expect(right.status == .seeOther, "\(hash.prefix(6))")
                let stored = try await store.database.read(org: org.organization.id) { try await $0.passwordHash(for: user.id) }
                #expect(stored?.hasPrefix("$argon2id$") == true, "upgraded at the sign-in")
                #expect(try await Self.signIn(browser, slug: org.organization.slug, email: user.email,
                                              password: "correct horse battery staple").status == .seeOther)
            }
            let upgraded = try await Self.events(store, org.organization.id, "auth.signin_succeeded")
                .filter { $0.detailsJSON.contains("\"password_rehashed\":true") }
            #expect(upgraded.count == 2)
        }
    }

    @Test(arguments: Backend.all)
    func aMegabyteOfFormDataIsRefusedWithoutWork(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let big = try await browser.post("/o/\(org.organization.slug)/signin",
                                             form: ["password": String(repeating: "a", count: 1 << 20)])
            #expect(big.status == .contentTooLarge)
            #expect(try await Self.events(store, org.organization.id, "auth.signin_failed").isEmpty)
        }
    }

    @Test(arguments: Backend.all)
    func findingTheOrganisationByEmail(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization(adminEmail: "finder-\(UUID().uuidString.prefix(8))@example.com")
            let browser = ConsoleBrowser(client: client)
            let form = try await browser.get("/signin")
            let csrfCookie = try #require(ConsoleBrowser.cookie("rampart_signin_csrf", in: form))
            let email = try await store.database.read(org: org.organization.id) { try await $0.user(org.admin.id)!.email }
            let found = try await browser.post("/signin", form: ["csrf": try #require(ConsoleBrowser.csrf(in: form)), "email": email],
                                               cookie: csrfCookie)
            #expect(found.status == .seeOther)
            #expect(found.headers[.location]?.hasPrefix("/o/\(org.organization.slug)/signin?email=") == true)
            #expect(try await browser.get("/o/no-such-org-\(UUID().uuidString.prefix(6).lowercased())/signin").status == .notFound)
        }
    }
}
