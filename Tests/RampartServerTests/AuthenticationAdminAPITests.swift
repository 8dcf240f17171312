import Foundation
import HTTPTypes
import RampartAuthn
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Admin API: authentication policies, sessions, factors, password reset and hash import")
struct AuthenticationAdminAPITests {
    /// bcrypt (cost 4) of "correct horse battery staple", made by Python's bcrypt.
    static let bcryptHash = "$2b$04$RJsku3K5L7TJCT1eAeHvievVqjbW2paqa9nvsR3ZrDQhnQA0rkiIW"

    static func events(_ api: API, target: String) async throws -> [[String: Any]] {
        try await api.object(.get, "/audit-events?target=\(target)&limit=50", expect: .ok)["data"] as? [[String: Any]] ?? []
    }

    @Test(arguments: Backend.all)
    func policiesAreCreatedChangedAssignedExplainedAndDeleted(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let listed = try await api.object(.get, "/authentication-policies", expect: .ok)["data"] as? [[String: Any]]
            #expect(listed?.map { $0["isDefault"] as? Bool } == [true])

            let strict = try await api.object(.post, "/authentication-policies",
                                              json: #"{"name":"Strict","settings":{"mfaRequired":true,"ipAllowlist":["10.0.0.0/8"]}}"#,
                                              expect: .created)
            let strictID = try #require(strict["id"] as? String)
            let strictSettings = try #require(strict["settings"] as? [String: Any])
            #expect(strictSettings["mfaRequired"] as? Bool == true)
            #expect(strictSettings["sessionLifetimeSeconds"] as? Int == 8 * 3600, "unnamed settings keep the standard values")
            let short = try await api.object(.post, "/authentication-policies",
                                             json: #"{"name":"Short","settings":{"sessionLifetimeSeconds":3600,"idleTimeoutSeconds":600}}"#,
                                             expect: .created)
            let shortID = try #require(short["id"] as? String)

            // PATCH changes only what it names, and the event has before and after.
            let patched = try await api.object(.patch, "/authentication-policies/\(strictID)",
                                               json: #"{"settings":{"password":{"minimumLength":14}}}"#, expect: .ok)
            let patchedSettings = try #require(patched["settings"] as? [String: Any])
            #expect((patchedSettings["password"] as? [String: Any])?["minimumLength"] as? Int == 14)
            #expect(patchedSettings["mfaRequired"] as? Bool == true)
            let update = try #require(try await Self.events(api, target: strictID).first)
            #expect(update["action"] as? String == "auth_policy.updated")
            let details = update["details"] as? [String: Any]
            #expect(((details?["before"] as? [String: Any])?["password"] as? [String: Any])?["minimumLength"] as? Int == 12)
            #expect(((details?["after"] as? [String: Any])?["password"] as? [String: Any])?["minimumLength"] as? Int == 14)

            // Two groups: the stricter setting of each, with where it came from.
            let user = try #require(try await api.object(.post, "/users", json: #"{"email":"m@example.com","displayName":"M"}"#,
                                                         expect: .created)["id"] as? String)
            var effective = try await api.object(.get, "/users/\(user)/effective-policy", expect: .ok)
            #expect(effective["source"] as? String == "default")
            for (name, policy) in [("Engineering", strictID), ("Contractors", shortID)] {
                let group = try #require(try await api.object(.post, "/groups", json: #"{"name":"\#(name)"}"#,
                                                              expect: .created)["id"] as? String)
                #expect(try await api.call(.put, "/groups/\(group)/members/\(user)").status == .noContent)
                #expect(try await api.call(.put, "/authentication-policies/\(policy)/groups/\(group)").status == .noContent)
            }
            effective = try await api.object(.get, "/users/\(user)/effective-policy", expect: .ok)
            #expect(effective["source"] as? String == "groups")
            #expect((effective["policies"] as? [[String: Any]])?.compactMap { $0["groupName"] as? String }.sorted()
                    == ["Contractors", "Engineering"])
            let merged = try #require(effective["settings"] as? [String: Any])
            #expect(merged["mfaRequired"] as? Bool == true)
            #expect(merged["sessionLifetimeSeconds"] as? Int == 3600)
            let provenance = try #require(effective["provenance"] as? [String: [String]])
            #expect(provenance["mfaRequired"] == [strictID])
            #expect(provenance["sessionLifetimeSeconds"] == [shortID])

            // A user's own policy wins whole; unassigning it falls back to the groups.
            #expect(try await api.call(.put, "/authentication-policies/\(shortID)/users/\(user)").status == .noContent)
            effective = try await api.object(.get, "/users/\(user)/effective-policy", expect: .ok)
            #expect(effective["source"] as? String == "user")
            #expect((effective["settings"] as? [String: Any])?["mfaRequired"] as? Bool == false)
            #expect(try await api.call(.delete, "/authentication-policies/\(strictID)/users/\(user)").status == .notFound)
            #expect(try await api.call(.delete, "/authentication-policies/\(shortID)/users/\(user)").status == .noContent)
            #expect(try await api.object(.get, "/users/\(user)/effective-policy", expect: .ok)["source"] as? String == "groups")

            // The default cannot be deleted; another policy can, and its assignments go with it.
            let defaultID = try #require(listed?.first?["id"] as? String)
            let refused = try await api.call(.delete, "/authentication-policies/\(defaultID)")
            #expect(refused.status == .conflict)
            #expect(try await api.call(.delete, "/authentication-policies/\(strictID)").status == .noContent)
            #expect(try await api.call(.get, "/authentication-policies/\(strictID)").status == .notFound)
            effective = try await api.object(.get, "/users/\(user)/effective-policy", expect: .ok)
            #expect((effective["policies"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [shortID])
            #expect(try await Self.events(api, target: strictID).first?["action"] as? String == "auth_policy.deleted")
        }
    }

    @Test(arguments: Backend.all)
    func badPolicyInputIsRefusedAndChangesNothing(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let before = try await auditCount(store, org.organization.id)
            for (body, code) in [
                (#"{"name":"X","settings":{"mfaRequird":true}}"#, "unknown_field"),
                (#"{"name":"X","settings":{"ipAllowlist":["10.0.0.0/33"]}}"#, "invalid_field"),
                (#"{"name":"X","settings":{"sessionLifetimeSeconds":10}}"#, "invalid_field"),
                (#"{"name":"X","settings":{"mfaRequired":null}}"#, "invalid_field"),
                (#"{"name":"X","settings":[1]}"#, "invalid_field"),
            ] {
                let response = try await api.call(.post, "/authentication-policies", json: body)
                #expect(response.status == .badRequest, "\(body): \(response.text)")
                #expect(response.errorCode == code, "\(body): \(response.text)")
            }
            #expect(try await auditCount(store, org.organization.id) == before)

            // An auditor reads policies but cannot change them; a user-admin does neither.
            let auditor = try await api.object(.post, "/api-tokens", json: #"{"name":"aud","role":"auditor"}"#, expect: .created)
            let userAdmin = try await api.object(.post, "/api-tokens", json: #"{"name":"ua","role":"user-admin"}"#, expect: .created)
            let auditorToken = try #require(auditor["secret"] as? String)
            let userAdminToken = try #require(userAdmin["secret"] as? String)
            #expect(try await api.call(.get, "/authentication-policies", token: auditorToken).status == .ok)
            #expect(try await api.call(.post, "/authentication-policies", json: #"{"name":"A"}"#, token: auditorToken).status
                    == .forbidden)
            #expect(try await api.call(.get, "/authentication-policies", token: userAdminToken).status == .forbidden)
        }
    }

    @Test(arguments: Backend.all)
    func adminsListAndEndSessionsAndResetMFA(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let user = try #require(try await api.object(.post, "/users", json: #"{"email":"s@example.com","displayName":"S"}"#,
                                                         expect: .created)["id"] as? String)
            let orgID = org.organization.id
            let keys = store.keys
            let sessionIDs = try await store.database.write(org: orgID) { tenant in
                var ids: [String] = []
                for ip in ["192.0.2.1", "2001:db8::1", "192.0.2.3"] {
                    ids.append(try await tenant.startUserSession(for: user, mfaCompleted: false, lifetimeSeconds: 3600,
                                                                 idleTimeoutSeconds: 600, ip: ip, userAgent: "test").session.id)
                }
                let person = try await tenant.requireUser(user)
                _ = try await tenant.createPendingTOTPFactor(for: user, secret: Array(repeating: 7, count: 20),
                                                             settings: .standard, label: "Phone", keys: keys)
                try await tenant.replaceRecoveryCodes(for: person, hashes: ["h1", "h2", "h3"], by: .system)
                return ids
            }
            let listed = try await api.object(.get, "/users/\(user)/sessions", expect: .ok)["data"] as? [[String: Any]]
            #expect(Set(listed?.compactMap { $0["ip"] as? String } ?? []) == ["192.0.2.1", "2001:db8::1", "192.0.2.3"])
            #expect(listed?.first?["idleExpiresAt"] as? String != nil)

            #expect(try await api.call(.delete, "/users/\(user)/sessions/\(sessionIDs[0])").status == .noContent)
            #expect(try await api.call(.delete, "/users/\(user)/sessions/\(sessionIDs[0])").status == .notFound)
            #expect(try await api.object(.delete, "/users/\(user)/sessions", expect: .ok)["ended"] as? Int == 2)
            #expect((try await api.object(.get, "/users/\(user)/sessions", expect: .ok)["data"] as? [Any])?.isEmpty == true)

            let factors = try await api.object(.get, "/users/\(user)/factors", expect: .ok)
            #expect((factors["data"] as? [[String: Any]])?.map { $0["label"] as? String } == ["Phone"])
            #expect(factors["unusedRecoveryCodes"] as? Int == 3)
            #expect(!factors.description.contains("sealed"), "no secret in the listing")
            let reset = try await api.object(.delete, "/users/\(user)/factors", expect: .ok)
            #expect(reset["factorsRemoved"] as? Int == 1)
            #expect(reset["recoveryCodesRemoved"] as? Int == 3)
            let after = try await api.object(.get, "/users/\(user)/factors", expect: .ok)
            #expect((after["data"] as? [Any])?.isEmpty == true)
            #expect(after["unusedRecoveryCodes"] as? Int == 0)

            let actions = try await Self.events(api, target: user).compactMap { $0["action"] as? String }
            #expect(Array(actions.prefix(3)) == ["mfa.reset", "auth.sessions_ended", "auth.sessions_ended"])
        }
    }

    @Test(arguments: Backend.all)
    func forcedResetEndsSessionsAndReturnsAWorkingLinkOnce(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let user = try #require(try await api.object(.post, "/users", json: #"{"email":"r@example.com","displayName":"R"}"#,
                                                         expect: .created)["id"] as? String)
            let orgID = org.organization.id
            try await store.database.write(org: orgID) { tenant in
                try await tenant.setPasswordHash("old-hash", for: user)
                _ = try await tenant.startUserSession(for: user, mfaCompleted: true, lifetimeSeconds: 3600,
                                                      idleTimeoutSeconds: 600, ip: nil, userAgent: nil)
            }
            let response = try await api.call(.post, "/users/\(user)/password-reset")
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = response.jsonObject
            let token = try #require(body["token"] as? String)
            #expect(body["sessionsEnded"] as? Int == 1)
            #expect((body["url"] as? String)?.contains("/o/\(org.organization.slug)/reset?token=") == true)
            let secret = try #require(SecretToken(parsing: token, as: .setupLink))
            let (hash, sessions, resetUser) = try await store.database.write(org: orgID) { tenant in
                (try await tenant.passwordHash(for: user), try await tenant.userSessions(of: user).count,
                 try await tenant.consumePasswordResetToken(secret))
            }
            #expect(hash == nil, "the old password stops working")
            #expect(sessions == 0)
            #expect(resetUser?.id == user)
            #expect(try await store.database.write(org: orgID) { try await $0.consumePasswordResetToken(secret) } == nil)
            let event = try #require(try await Self.events(api, target: user).first)
            #expect(event["action"] as? String == "auth.password_reset_forced")
            #expect(!jsonString(event).contains(token))

            #expect(try await api.call(.post, "/users/\(user)/deactivate").status == .ok)
            #expect(try await api.call(.post, "/users/\(user)/password-reset").status == .conflict)
        }
    }

    @Test(arguments: Backend.all)
    func importedHashesAreStoredAndUnreadableOnesRefused(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let user = try #require(try await api.object(.post, "/users", json: #"{"email":"i@example.com","displayName":"I"}"#,
                                                         expect: .created)["id"] as? String)
            let orgID = org.organization.id
            // Any well-formed Django PBKDF2 hash: import checks the form, sign-in checks the password.
            let django = "pbkdf2_sha256$1000$seasalt$" + Data(repeating: 1, count: 32).base64EncodedString()
            for (hash, scheme) in [(Self.bcryptHash, "bcrypt"), (django, "pbkdf2-sha256")] {
                let imported = try await api.object(.put, "/users/\(user)/password-hash", json: jsonString(["hash": hash]), expect: .ok)
                #expect(imported["scheme"] as? String == scheme)
                #expect(try await store.database.read(org: orgID) { try await $0.passwordHash(for: user) } == hash)
            }
            let stored = try await store.database.read(org: orgID) { try await $0.passwordHash(for: user) }
            #expect(try ImportedPasswordHash(parsing: try #require(stored)) == ImportedPasswordHash(parsing: django))
            let bcrypt = try ImportedPasswordHash(parsing: Self.bcryptHash)
            #expect(bcrypt.verify("correct horse battery staple"))

            let before = try await auditCount(store, orgID)
            for bad in ["$1$abc$def", "md5$xx$yy", "pbkdf2_sha256$10$salt$" + Data(repeating: 1, count: 32).base64EncodedString(), ""] {
                let response = try await api.call(.put, "/users/\(user)/password-hash", json: jsonString(["hash": bad]))
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_field")
                if !bad.isEmpty { #expect(!response.text.contains(bad), "the hash is never echoed") }
            }
            #expect(try await auditCount(store, orgID) == before)
            #expect(try await store.database.read(org: orgID) { try await $0.passwordHash(for: user) } == django)
            let events = try await Self.events(api, target: user)
            #expect(events.first?["action"] as? String == "auth.password_hash_imported")
            #expect(!events.map(jsonString).joined().contains(Self.bcryptHash))

            // A user-admin acts on members' credentials but not on an org-admin's.
            let userAdmin = try #require(try await api.object(.post, "/api-tokens", json: #"{"name":"ua","role":"user-admin"}"#,
                                                              expect: .created)["secret"] as? String)
            let body = jsonString(["hash": Self.bcryptHash])
            #expect(try await api.call(.put, "/users/\(user)/password-hash", json: body, token: userAdmin).status == .ok)
            let admin = org.admin.id
            #expect(try await api.call(.put, "/users/\(admin)/password-hash", json: body, token: userAdmin).status == .forbidden)
            #expect(try await api.call(.post, "/users/\(admin)/password-reset", token: userAdmin).status == .forbidden)
            #expect(try await api.call(.delete, "/users/\(admin)/factors", token: userAdmin).status == .forbidden)
        }
    }
}
