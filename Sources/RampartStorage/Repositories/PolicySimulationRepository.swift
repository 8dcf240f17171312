import RampartAuthn
import RampartCore
import SQLKit

/// The what-if simulation of authentication policies, and the enforcement a saved change
/// gets: both read the same landscape in the caller's transaction, so what the simulation
/// lists is what the save does.
extension Tenant {
    /// How far back successful sign-ins count as a person's addresses.
    public static let simulationWindowDays = 30

    /// The organisation's policies and the facts about its active people that policies judge.
    public func policyLandscape(now: Timestamp) async throws -> PolicyLandscape {
        let org = orgID
        let since = now.adding(days: -Self.simulationWindowDays).microseconds
        var userAssignments = [String: String](), groupAssignments = [String: String]()
        for row in try await sql.raw("""
            SELECT target_type, target_id, policy_id FROM authentication_policy_assignments WHERE org_id = \(bind: org)
            """).all() {
            if try row.string("target_type") == "user" {
                userAssignments[try row.string("target_id")] = try row.string("policy_id")
            } else {
                groupAssignments[try row.string("target_id")] = try row.string("policy_id")
            }
        }
        let roles = try await grouped("SELECT user_id, role AS value FROM role_assignments WHERE org_id = \(bind: org)")
        let groups = try await grouped("SELECT user_id, group_id AS value FROM group_members WHERE org_id = \(bind: org)")
        // The addresses are sealed per person in the log (with the actor's name since encoding
        // 3, so no column says whether one is there): read the sign-ins and open them.
        let signIns = try await readable(try await sql.raw("""
            SELECT * FROM audit_events
            WHERE org_id = \(bind: org) AND action = \(bind: AuditAction.signinSucceeded.rawValue)
            AND occurred_at >= \(bind: since) AND actor_id IS NOT NULL
            """).all().map(Self.decodeEvent))
        var addresses = [String: [String]]()
        for event in signIns {
            guard let user = event.actor.id, let ip = event.actor.ip, !(addresses[user] ?? []).contains(ip) else { continue }
            addresses[user, default: []].append(ip)
        }
        let withPassword = Set(try await sql.raw("SELECT user_id FROM user_passwords WHERE org_id = \(bind: org)")
            .all().map { try $0.string("user_id") })
        let withFactor = Set(try await sql.raw("""
            SELECT DISTINCT user_id FROM auth_factors WHERE org_id = \(bind: org)
            AND state = \(bind: FactorState.active.rawValue) AND kind = \(bind: FactorKind.totp.rawValue)
            """).all().map { try $0.string("user_id") })
        var graceStarts = [String: Timestamp]()
        for row in try await sql.raw("SELECT user_id, started_at FROM mfa_grace WHERE org_id = \(bind: org)").all() {
            graceStarts[try row.string("user_id")] = try row.timestamp("started_at")
        }
        var sessions = [String: [PolicyLandscape.Session]]()
        for row in try await sql.raw("""
            SELECT id, user_id, created_at, expires_at, idle_timeout_seconds, last_seen_at, ip FROM user_sessions
            WHERE org_id = \(bind: org) ORDER BY created_at
            """).all() {
            sessions[try row.string("user_id"), default: []].append(PolicyLandscape.Session(
                id: try row.string("id"), createdAt: try row.timestamp("created_at"), expiresAt: try row.timestamp("expires_at"),
                idleTimeoutSeconds: Int(try row.int("idle_timeout_seconds")), lastSeenAt: try row.timestamp("last_seen_at"),
                ip: try row.optionalString("ip")))
        }
        let people = try await sql.raw("""
            SELECT id, email, display_name FROM users WHERE org_id = \(bind: org) AND status = \(bind: UserStatus.active.rawValue)
            ORDER BY email
            """).all().map { row in
            let id = try row.string("id")
            return PolicyLandscape.Person(
                id: id, email: try row.string("email"), displayName: try row.string("display_name"),
                roles: (roles[id] ?? []).compactMap(Role.init(rawValue:)), groupIDs: groups[id] ?? [],
                hasPassword: withPassword.contains(id), hasSecondFactor: withFactor.contains(id),
                mfaGraceStart: graceStarts[id], recentAddresses: Self.addresses(addresses[id] ?? [], sessions[id] ?? [], now),
                sessions: sessions[id] ?? [])
        }
        return PolicyLandscape(defaultPolicy: try await defaultAuthenticationPolicy(), policies: try await authenticationPolicies(),
                               userAssignments: userAssignments, groupAssignments: groupAssignments, people: people)
    }

    /// What `changes` would do, from the organisation as it is now.
    public func simulate(_ changes: [PolicyChange], now: Timestamp) async throws -> PolicySimulation {
        PolicySimulation(before: try await policyLandscape(now: now), changes: changes, now: now)
    }

    /// Run by every save before it changes the policies: refuses a change that leaves no
    /// org-admin able to sign in unless `override` is set, ends the sessions the new rules
    /// refuse and shortens the others of the people affected to the new lifetime and idle
    /// timeout. Returns what the save's audit event records about it.
    func enforcePolicyChange(_ changes: [PolicyChange], override: Bool) async throws -> [String: JSONValue] {
        let now = clock()
        let landscape = try await policyLandscape(now: now)
        let simulation = PolicySimulation(before: landscape, changes: changes, now: now)
        if simulation.leavesNoOrgAdminAbleToSignIn && !override {
            throw RampartError(.adminLockout, """
                This change would leave no org-admin able to sign in. Simulate it to see who loses access and why, \
                or save it with the override if that is intended.
                """)
        }
        for session in simulation.sessionsEnding {
            try await sql.raw("DELETE FROM user_sessions WHERE org_id = \(bind: orgID) AND id = \(bind: session.sessionId)").run()
        }
        let after = landscape.applying(changes)
        let affected = Set(simulation.affectedUsers.map(\.id))
        for person in landscape.people where affected.contains(person.id) && !person.sessions.isEmpty {
            let settings = after.effectivePolicy(of: person).settings
            let lifetime = Int64(settings.sessionLifetimeSeconds) * 1_000_000
            let idle = Int64(settings.idleTimeoutSeconds)
            try await sql.raw("""
                UPDATE user_sessions SET
                    expires_at = CASE WHEN created_at + \(bind: lifetime) < expires_at THEN created_at + \(bind: lifetime) ELSE expires_at END,
                    idle_timeout_seconds = CASE WHEN idle_timeout_seconds > \(bind: idle) THEN \(bind: idle) ELSE idle_timeout_seconds END
                WHERE org_id = \(bind: orgID) AND user_id = \(bind: person.id)
                """).run()
        }
        var details: [String: JSONValue] = ["sessions_ended": .int(Int64(simulation.sessionsEnding.count))]
        if simulation.leavesNoOrgAdminAbleToSignIn { details["override"] = .bool(true) }
        return details
    }

    /// A person's addresses: those of their recent sign-ins and of their live sessions (a
    /// session started by a setup or reset link has no sign-in event of its own).
    private static func addresses(_ signIns: [String], _ sessions: [PolicyLandscape.Session], _ now: Timestamp) -> [String] {
        Array(Set(signIns + sessions.filter { $0.isLive(at: now) }.compactMap(\.ip))).sorted()
    }

    /// Rows of (user_id, value) gathered by user.
    private func grouped(_ query: SQLQueryString) async throws -> [String: [String]] {
        var out = [String: [String]]()
        for row in try await sql.raw(query).all() { out[try row.string("user_id"), default: []].append(try row.string("value")) }
        return out
    }
}
