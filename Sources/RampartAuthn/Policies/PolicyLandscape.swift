import RampartCore

/// What decides who may sign in to one organisation, read in one transaction: its policies,
/// where they are assigned, and the facts about each active person that a policy judges.
/// A proposed change is applied to a copy, never to the store, so that the simulation and
/// the save read the same rules (`EffectivePolicy.resolve`).
public struct PolicyLandscape: Sendable {
    public struct Person: Sendable {
        public let id: String
        public let email: String
        public let displayName: String
        public let roles: [Role]
        public let groupIDs: [String]
        /// Whether the person has a password to sign in with (an invited person may not yet).
        public let hasPassword: Bool
        public let hasSecondFactor: Bool
        /// When an MFA requirement first met this person without a factor, if it has.
        public let mfaGraceStart: Timestamp?
        /// Addresses of the person's successful sign-ins in the window the simulation looks at.
        public let recentAddresses: [String]
        public let sessions: [Session]

        public init(id: String, email: String, displayName: String, roles: [Role], groupIDs: [String], hasPassword: Bool,
                    hasSecondFactor: Bool, mfaGraceStart: Timestamp?, recentAddresses: [String], sessions: [Session]) {
            self.id = id; self.email = email; self.displayName = displayName; self.roles = roles
            self.groupIDs = groupIDs; self.hasPassword = hasPassword; self.hasSecondFactor = hasSecondFactor
            self.mfaGraceStart = mfaGraceStart; self.recentAddresses = recentAddresses; self.sessions = sessions
        }
    }

    public struct Session: Sendable {
        public let id: String
        public let createdAt: Timestamp
        public let expiresAt: Timestamp
        public let idleTimeoutSeconds: Int
        public let lastSeenAt: Timestamp
        public let ip: String?

        public init(id: String, createdAt: Timestamp, expiresAt: Timestamp, idleTimeoutSeconds: Int, lastSeenAt: Timestamp,
                    ip: String?) {
            self.id = id; self.createdAt = createdAt; self.expiresAt = expiresAt
            self.idleTimeoutSeconds = idleTimeoutSeconds; self.lastSeenAt = lastSeenAt; self.ip = ip
        }

        /// Still usable today, under the lifetime and idle timeout it was issued with.
        public func isLive(at now: Timestamp) -> Bool {
            now < expiresAt && now < lastSeenAt.adding(seconds: Double(idleTimeoutSeconds))
        }
    }

    public var defaultPolicy: AuthenticationPolicy
    /// The organisation's other policies, by id.
    public var policies: [String: AuthenticationPolicy]
    /// Policy ids assigned directly, by user id and by group id.
    public var userAssignments: [String: String]
    public var groupAssignments: [String: String]
    public var people: [Person]

    public init(defaultPolicy: AuthenticationPolicy, policies: [AuthenticationPolicy], userAssignments: [String: String],
                groupAssignments: [String: String], people: [Person]) {
        self.defaultPolicy = defaultPolicy
        self.policies = Dictionary(policies.filter { !$0.isDefault }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.userAssignments = userAssignments
        self.groupAssignments = groupAssignments
        self.people = people
    }

    public func effectivePolicy(of person: Person) -> EffectivePolicy {
        EffectivePolicy.resolve(defaultPolicy: defaultPolicy,
                                userPolicy: userAssignments[person.id].flatMap { policies[$0] },
                                groupPolicies: person.groupIDs.compactMap { groupAssignments[$0].flatMap { policies[$0] } })
    }

    /// The landscape after `changes`, applied in order.
    public func applying(_ changes: [PolicyChange]) -> PolicyLandscape {
        changes.reduce(into: self) { landscape, change in landscape.apply(change) }
    }

    private mutating func apply(_ change: PolicyChange) {
        switch change {
        case .settings(let id, let settings):
            if id == defaultPolicy.id { defaultPolicy.settings = settings } else { policies[id]?.settings = settings }
        case .add(let policy):
            policies[policy.id] = policy
        case .assign(let policyID, .user(let userID)):
            userAssignments[userID] = policyID
        case .assign(let policyID, .group(let groupID)):
            groupAssignments[groupID] = policyID
        case .delete(let id):
            policies[id] = nil
            userAssignments = userAssignments.filter { $0.value != id }
            groupAssignments = groupAssignments.filter { $0.value != id }
        }
    }
}

/// One step of a change to an organisation's policies, as saved or as proposed.
public enum PolicyChange: Sendable, Equatable {
    /// New settings for a policy (the default included).
    case settings(policyID: String, AuthenticationPolicySettings)
    /// A policy that does not exist yet, for a proposal.
    case add(AuthenticationPolicy)
    /// Assigns a policy to a user or group; nil removes the assignment.
    case assign(policyID: String?, PolicyAssignmentTarget)
    case delete(policyID: String)
}
