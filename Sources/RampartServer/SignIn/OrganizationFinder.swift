import RampartCore
import RampartStorage

/// Which organisations have an account with an email, for a person who arrives at `/signin`
/// without their organisation's address. Accounts live inside each organisation's row-level
/// security, so each organisation is asked in its own transaction; verified domains
/// (home-realm discovery) will answer most people without asking.
struct OrganizationFinder: Sendable {
    let services: RampartServices

    func organizations(withMember email: String) async throws -> [Organization] {
        var found: [Organization] = []
        for organization in try await services.organizations.all() {
            let member = try await services.database.read(org: organization.id) { tenant in
                try await tenant.user(email: email).map { $0.status == .active } ?? false
            }
            if member { found.append(organization) }
        }
        return found
    }
}
