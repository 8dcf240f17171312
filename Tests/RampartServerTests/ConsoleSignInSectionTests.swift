import Foundation
import HTTPTypes
import HummingbirdTesting
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// The Sign-in section of a user's console page: its changes check the CSRF token, go through
/// the same storage calls and audit events as the API, and stop at the same role boundary.
@Suite("Console sign-in section")
struct ConsoleSignInSectionTests {
    static func startSessions(_ count: Int, of userID: String, in store: TestStore, org: String) async throws {
        try await store.database.write(org: org) { tenant in
            for n in 0..<count {
                _ = try await tenant.startUserSession(for: userID, mfaCompleted: false, lifetimeSeconds: 3600, idleTimeoutSeconds: 600,
                                                      ip: "192.0.2.\(n + 1)", userAgent: "Device \(n)")
            }
        }
    }

    static func sessionCount(_ userID: String, in store: TestStore, org: String) async throws -> Int {
        try await store.database.read(org: org) { try await $0.userSessions(of: userID).count }
    }

    @Test(arguments: Backend.all)
    func changesNeedTheFormTokenAndAreAudited(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let mia = try await store.database.write(org: orgID) {
                try await $0.createUser(email: "mia@example.com", displayName: "Mia", by: .system)
            }
            try await Self.startSessions(2, of: mia.id, in: store, org: orgID)

            let page = try await browser.get("/console/users/\(mia.id)", cookie: session)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"id="sign-in""#) && page.text.contains("Device 1") && page.text.contains("192.0.2.2"))
            #expect(page.text.contains(#"id="end-all-sessions""#) && page.text.contains(#"id="force-password-reset""#))
            let confirm = try await browser.get("/console/users/\(mia.id)/sessions/end", cookie: session)
            #expect(confirm.status == .ok && confirm.text.contains(#"id="confirm-question""#))
            #expect(try await Self.sessionCount(mia.id, in: store, org: orgID) == 2, "asking changed something")
            let csrf = try #require(ConsoleBrowser.csrf(in: page))

            let before = try await auditCount(store, orgID)
            for path in ["sessions/end", "mfa/reset", "password-reset"] {
                let forged = try await browser.post("/console/users/\(mia.id)/\(path)", form: ["csrf": "forged"], cookie: session)
                #expect(forged.status == .forbidden, "\(path) without the form token")
            }
            #expect(try await auditCount(store, orgID) == before)
            #expect(try await Self.sessionCount(mia.id, in: store, org: orgID) == 2)
            let unknown = try await browser.post("/console/users/\(UUID().uuidString.lowercased())/sessions/end",
                                                 form: ["csrf": csrf], cookie: session)
            #expect(unknown.status == .notFound)

            let ended = try await browser.post("/console/users/\(mia.id)/sessions/end", form: ["csrf": csrf], cookie: session)
            #expect(ended.status == .seeOther)
            #expect(ended.headers[.location] == "/console/users/\(mia.id)?done=sessions-ended")
            #expect(try await Self.sessionCount(mia.id, in: store, org: orgID) == 0)

            let reset = try await browser.post("/console/users/\(mia.id)/password-reset", form: ["csrf": csrf], cookie: session)
            #expect(reset.status == .ok && reset.text.contains("/o/\(org.organization.slug)/reset?token="))
            #expect(reset.headers[.cacheControl] == "no-store")
            let events = try await store.database.read(org: orgID) { try await $0.auditEvents(AuditQuery(limit: 2)).items }
            #expect(events.map(\.action) == [AuditAction.passwordResetForced.rawValue, AuditAction.userSessionsEnded.rawValue])
            #expect(events.allSatisfy { $0.actor.type == .user && $0.actor.id == org.admin.id })
        }
    }

    /// A user-admin sees an org-admin's sessions but cannot end them, as in the API.
    @Test(arguments: Backend.all)
    func aUserAdminCannotActOnAnOrgAdmin(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            _ = try await ConsoleTests.setUpAdmin(browser, org)
            let boss = try await store.database.write(org: orgID) { tenant in
                let boss = try await tenant.createUser(email: "boss@example.com", displayName: "Boss", by: .system)
                try await tenant.assignRole(.orgAdmin, to: boss.id, by: .system)
                try await tenant.assignRole(.userAdmin, to: org.admin.id, by: .system)
                try await tenant.revokeRole(.orgAdmin, from: org.admin.id, by: .system)
                return boss
            }
            try await Self.startSessions(1, of: boss.id, in: store, org: orgID)
            let signedIn = try await SignInTests.signIn(browser, slug: org.organization.slug, email: "admin@example.com",
                                                        password: "correct horse battery")
            let session = try #require(ConsoleBrowser.cookie("rampart_session", in: signedIn))
            let page = try await browser.get("/console/users/\(boss.id)", cookie: session)
            #expect(page.status == .ok && page.text.contains("Device 0"))
            #expect(!page.text.contains(#"id="end-all-sessions""#) && !page.text.contains(#"id="force-password-reset""#))
            #expect(try await browser.get("/console/users/\(boss.id)/sessions/end", cookie: session).status == .forbidden)
            let csrf = try #require(ConsoleBrowser.csrf(in: page))
            let before = try await auditCount(store, orgID)
            for path in ["sessions/end", "mfa/reset", "password-reset"] {
                let refused = try await browser.post("/console/users/\(boss.id)/\(path)", form: ["csrf": csrf], cookie: session)
                #expect(refused.status == .forbidden, "\(path)")
                #expect(refused.text.contains("role"), "\(path) says why")
            }
            #expect(try await auditCount(store, orgID) == before)
            #expect(try await Self.sessionCount(boss.id, in: store, org: orgID) == 1)
        }
    }
}
