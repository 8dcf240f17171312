import RampartCore
import SQLKit

extension Tenant {
    public func product(_ id: String) async throws -> Product? {
        try await sql.raw("SELECT * FROM products WHERE org_id = \(bind: orgID) AND id = \(bind: id)").first()
            .map(Self.decodeProduct)
    }

    /// Names are unique per organisation, ignoring case.
    public func product(named name: String) async throws -> Product? {
        try await sql.raw("""
            SELECT * FROM products WHERE org_id = \(bind: orgID) AND name_key = \(bind: name.lowercased())
            """).first().map(Self.decodeProduct)
    }

    public func requireProduct(_ id: String) async throws -> Product {
        guard let id = Identifier.canonical(id), let product = try await product(id) else {
            throw RampartError.notFound("Product")
        }
        return product
    }

    public func products(page: PageRequest = PageRequest()) async throws -> Page<Product> {
        var q = SQLQueryString("SELECT * FROM products WHERE org_id = ") + "\(bind: orgID)"
        if let after = page.after { q = q + " AND id > " + "\(bind: after)" }
        q = q + " ORDER BY id LIMIT " + "\(bind: page.limit + 1)"
        return page.page(try await sql.raw(q).all().map(Self.decodeProduct), id: \.id)
    }

    public func productCount() async throws -> Int64 {
        try await sql.raw("SELECT COUNT(*) AS n FROM products WHERE org_id = \(bind: orgID)").first()!.int("n")
    }

    public func createProduct(name rawName: String, kind: ProductKind, url rawURL: String, by context: AuditContext)
        async throws -> Product
    {
        let name = try Validate.name(rawName, field: "name")
        let url = try Validate.url(rawURL)
        try await ensureProductNameFree(name)
        let product = Product(id: Identifier.make(), name: name, kind: kind, url: url, createdAt: .now())
        try await sql.raw("""
            INSERT INTO products (org_id, id, name, name_key, kind, url, created_at)
            VALUES (\(bind: orgID), \(bind: product.id), \(bind: name), \(bind: name.lowercased()), \(bind: kind.rawValue),
                    \(bind: url), \(bind: product.createdAt.microseconds))
            """).run()
        try await appendAudit([context.record(.productCreated, [.product(product)],
                                              details: AuditDetails(["kind": .string(kind.rawValue), "url": .string(url)]))])
        return product
    }

    public func updateProduct(_ id: String, name rawName: String?, kind: ProductKind?, url rawURL: String?,
                              by context: AuditContext) async throws -> Product {
        var product = try await requireProduct(id)
        var details = AuditDetails()
        if let rawName {
            let name = try Validate.name(rawName, field: "name")
            if name.lowercased() != product.name.lowercased() { try await ensureProductNameFree(name) }
            details.change("name", from: .string(product.name), to: .string(name))
            product.name = name
        }
        if let kind {
            details.change("kind", from: .string(product.kind.rawValue), to: .string(kind.rawValue))
            product.kind = kind
        }
        if let rawURL {
            let url = try Validate.url(rawURL)
            details.change("url", from: .string(product.url), to: .string(url))
            product.url = url
        }
        guard details.hasChanges else { return product }
        try await sql.raw("""
            UPDATE products SET name = \(bind: product.name), name_key = \(bind: product.name.lowercased()),
            kind = \(bind: product.kind.rawValue), url = \(bind: product.url)
            WHERE org_id = \(bind: orgID) AND id = \(bind: product.id)
            """).run()
        try await appendAudit([context.record(.productUpdated, [.product(product)], details: details)])
        return product
    }

    public func deleteProduct(_ id: String, by context: AuditContext) async throws {
        let product = try await requireProduct(id)
        for client in try await oauthClients() where client.productID == product.id {
            try await removeOAuthClientRows(client.id)
        }
        try await deleteIngestionKeys(ofProduct: product.id)
        try await sql.raw("DELETE FROM product_access WHERE org_id = \(bind: orgID) AND product_id = \(bind: product.id)").run()
        try await sql.raw("DELETE FROM products WHERE org_id = \(bind: orgID) AND id = \(bind: product.id)").run()
        try await appendAudit([context.record(.productDeleted, [.product(product)])])
    }

    public func productAccess(_ productID: String) async throws -> [Group] {
        let product = try await requireProduct(productID)
        return try await sql.raw(SQLQueryString("""
            SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.org_id = g.org_id AND m.group_id = g.id) AS member_count
            FROM user_groups g JOIN product_access a ON a.org_id = g.org_id AND a.group_id = g.id
            WHERE a.org_id = 
            """) + "\(bind: orgID)" + " AND a.product_id = " + "\(bind: product.id)" + " ORDER BY g.name")
            .all().map(Self.decodeGroup)
    }

    /// The products a person can use: those granted to any group they belong to.
    public func productsAvailable(to userID: String) async throws -> [Product] {
        try await sql.raw("""
            SELECT DISTINCT p.* FROM products p
            JOIN product_access a ON a.org_id = p.org_id AND a.product_id = p.id
            JOIN group_members m ON m.org_id = a.org_id AND m.group_id = a.group_id
            WHERE p.org_id = \(bind: orgID) AND m.user_id = \(bind: userID) ORDER BY p.name
            """).all().map(Self.decodeProduct)
    }

    /// Granting what is already granted changes nothing and writes no event; the result says
    /// whether anything changed, so that callers can tell people what (not) happened.
    @discardableResult
    public func grantProductAccess(_ productID: String, to groupID: String, by context: AuditContext) async throws -> Bool {
        let product = try await requireProduct(productID)
        let group = try await requireGroup(groupID)
        guard try await addLink("product_access", ("product_id", product.id), ("group_id", group.id)) else { return false }
        try await appendAudit([context.record(.productAccessGranted, [.product(product), .group(group)])])
        return true
    }

    /// Revoking access a group does not have changes nothing and writes no event; the result
    /// says whether anything changed.
    @discardableResult
    public func revokeProductAccess(_ productID: String, from groupID: String, by context: AuditContext) async throws -> Bool {
        let product = try await requireProduct(productID)
        let group = try await requireGroup(groupID)
        guard try await removeLink("product_access", ("product_id", product.id), ("group_id", group.id)) else { return false }
        try await appendAudit([context.record(.productAccessRevoked, [.product(product), .group(group)])])
        return true
    }

    private func ensureProductNameFree(_ name: String) async throws {
        if try await sql.raw("""
            SELECT id FROM products WHERE org_id = \(bind: orgID) AND name_key = \(bind: name.lowercased())
            """).first() != nil {
            throw RampartError(.conflict, "A product with this name already exists in the organization.", field: "name")
        }
    }

    static func decodeProduct(_ row: any SQLRow) throws -> Product {
        Product(id: try row.string("id"), name: try row.string("name"),
                kind: ProductKind(rawValue: try row.string("kind")) ?? .custom, url: try row.string("url"),
                createdAt: try row.timestamp("created_at"))
    }
}
