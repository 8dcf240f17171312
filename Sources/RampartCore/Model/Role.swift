/// Organisation roles, least privilege first. What each may do is `permissions`, and
/// nothing else in Rampart decides it.
public enum Role: String, CaseIterable, Codable, Sendable, Comparable {
    case auditor
    case userAdmin = "user-admin"
    case orgAdmin = "org-admin"

    public var permissions: Set<Permission> {
        switch self {
        case .orgAdmin: Self.orgAdminPermissions
        case .userAdmin: Self.userAdminPermissions
        case .auditor: Self.auditorPermissions
        }
    }

    // Built once: every request asks.
    private static let orgAdminPermissions = Set(Permission.allCases)
    /// `manageRoles` only within `RoleAuthority.grantable(by: .userAdmin)`.
    private static let userAdminPermissions: Set<Permission> = [.readOrganization, .readDirectory, .manageDirectory,
                                                                .readRoles, .manageRoles]
    private static let auditorPermissions: Set<Permission> = [.readOrganization, .readDirectory, .readTokens,
                                                              .readAuditLog, .readRoles, .readAuthenticationPolicies]

    public func allows(_ permission: Permission) -> Bool { permissions.contains(permission) }

    private var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

public enum Permission: String, CaseIterable, Sendable {
    case readOrganization
    /// Users, groups, products and product access.
    case readDirectory
    case manageDirectory
    case readRoles
    case manageRoles
    case readTokens
    case manageTokens
    case readAuditLog
    /// Authentication policies: organisation-wide security settings, read by auditors, set by org-admins.
    case readAuthenticationPolicies
    case manageAuthenticationPolicies
    /// Log streams to SIEMs: where the audit log goes. Read with `readAuditLog`.
    case manageLogStreams
    /// Products' OAuth clients and the provider's signing keys: a redirect URI decides where
    /// people's sign-ins go, so org-admins alone set them. Read with `readDirectory`.
    case manageOAuthClients
    /// Claiming and verifying domains: a verified domain makes its people this organisation's
    /// managed accounts, so org-admins alone do it. Read with `readOrganization`.
    case manageDomains
    /// How long audit events are kept, legal holds and purges: what evidence exists later, so
    /// org-admins alone set it. Read with `readAuditLog`.
    case manageAuditRetention
    /// Identity providers: they decide who may sign in as whom, so org-admins alone set them.
    /// Read with `readOrganization`.
    case manageIdentityProviders
    /// Erasing a person from the audit log destroys evidence for good, so org-admins alone do it.
    case eraseUsers
}
