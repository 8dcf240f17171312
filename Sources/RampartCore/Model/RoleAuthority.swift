/// Who may change whose account, and which roles they may give and take.
///
/// `Role.permissions` says what a role may do at all (read the directory, manage it, ...);
/// this says on whom. An admin acts only on accounts whose roles are all roles they may
/// grant themselves: a user-admin, who cannot make anyone an org-admin, cannot deactivate,
/// delete or edit an org-admin either, nor take their roles away. Everything outside that is
/// 403 with `outOfReach`'s message. The admin API, the console and the CLI's role commands
/// all ask here; adding a role means one line in `grantable`.
public enum RoleAuthority {
    /// The roles each role may grant and revoke.
    public static func grantable(by role: Role) -> Set<Role> {
        switch role {
        case .orgAdmin: Set(Role.allCases)
        case .userAdmin: [.userAdmin, .auditor]
        case .auditor: []
        }
    }

    public static func grantable(by roles: some Sequence<Role>) -> Set<Role> {
        roles.reduce(into: Set<Role>()) { $0.formUnion(grantable(by: $1)) }
    }

    /// Whether an admin holding `actor` may change an account holding `target`.
    public static func mayChange(account target: some Sequence<Role>, actor: some Sequence<Role>) -> Bool {
        Set(target).isSubset(of: grantable(by: actor))
    }

    /// Whether an admin holding `actor` may give `role` to, or take it from, an account holding `target`.
    public static func mayAssign(_ role: Role, account target: some Sequence<Role>, actor: some Sequence<Role>) -> Bool {
        grantable(by: actor).contains(role) && mayChange(account: target, actor: actor)
    }

    public static func outOfReach(_ target: some Sequence<Role>, actor: some Sequence<Role>) -> RampartError {
        let beyond = Set(target).subtracting(grantable(by: actor)).sorted().map(\.rawValue).joined(separator: ", ")
        return RampartError(.forbidden, """
            This account holds \(beyond), which your role cannot grant; only an admin who can grant \
            every role an account holds may change it.
            """)
    }

    public static func cannotGrant(_ role: Role) -> RampartError {
        RampartError(.forbidden, "Your role cannot give or take the \(role.rawValue) role; ask an org-admin.")
    }
}
