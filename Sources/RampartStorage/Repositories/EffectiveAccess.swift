import RampartCore
import SQLKit

/// A product someone may use and the groups that give it: access is only ever granted to
/// groups, so an admin asking "why can Grace open Payroll?" needs the groups, not a yes.
public struct ProductGrant: Encodable, Sendable, Equatable {
    public struct Via: Encodable, Sendable, Equatable {
        public let id: String
        public let name: String
    }

    public let product: Product
    public let via: [Via]
}

extension Tenant {
    /// The products a group's members may use, by name.
    public func productsOf(group groupID: String) async throws -> [Product] {
        let group = try await requireGroup(groupID)
        return try await sql.raw("""
            SELECT p.* FROM products p JOIN product_access a ON a.org_id = p.org_id AND a.product_id = p.id
            WHERE a.org_id = \(bind: orgID) AND a.group_id = \(bind: group.id) ORDER BY p.name_key
            """).all().map(Self.decodeProduct)
    }

    /// Every product a user may use through the groups they are in, each with those groups.
    public func effectiveAccess(ofUser userID: String) async throws -> [ProductGrant] {
        let user = try await requireUser(userID)
        let rows = try await sql.raw("""
            SELECT p.*, g.id AS via_id, g.name AS via_name FROM products p
            JOIN product_access a ON a.org_id = p.org_id AND a.product_id = p.id
            JOIN group_members m ON m.org_id = a.org_id AND m.group_id = a.group_id
            JOIN user_groups g ON g.org_id = a.org_id AND g.id = a.group_id
            WHERE m.org_id = \(bind: orgID) AND m.user_id = \(bind: user.id) ORDER BY p.name_key, g.name_key
            """).all()
        var grants: [ProductGrant] = []
        for row in rows {
            let product = try Self.decodeProduct(row)
            let via = ProductGrant.Via(id: try row.string("via_id"), name: try row.string("via_name"))
            if let last = grants.last, last.product.id == product.id {
                grants[grants.count - 1] = ProductGrant(product: product, via: last.via + [via])
            } else {
                grants.append(ProductGrant(product: product, via: [via]))
            }
        }
        return grants
    }
}
