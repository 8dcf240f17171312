import RampartCore

/// One attribute definition of a schema (RFC 7643 §7), enough to validate, coerce, filter and
/// project resources, and to answer `/Schemas`.
public struct SCIMAttribute: Sendable {
    public enum Kind: String, Sendable { case string, boolean, decimal, integer, dateTime, reference, complex, binary }
    public enum Mutability: String, Sendable { case readOnly, readWrite, immutable, writeOnly }
    public enum Returned: String, Sendable { case always, never, `default`, request }
    public enum Uniqueness: String, Sendable { case none, server, global }

    public var name: String
    public var kind: Kind
    public var multiValued: Bool
    public var description: String
    public var required: Bool
    public var caseExact: Bool
    public var mutability: Mutability
    public var returned: Returned
    public var uniqueness: Uniqueness
    public var canonicalValues: [String]
    public var referenceTypes: [String]
    public var subAttributes: [SCIMAttribute]

    public init(_ name: String, _ kind: Kind = .string, multiValued: Bool = false, description: String = "",
                required: Bool = false, caseExact: Bool = false, mutability: Mutability = .readWrite,
                returned: Returned = .default, uniqueness: Uniqueness = .none, canonicalValues: [String] = [],
                referenceTypes: [String] = [], subAttributes: [SCIMAttribute] = []) {
        self.name = name; self.kind = kind; self.multiValued = multiValued; self.description = description
        self.required = required; self.caseExact = caseExact; self.mutability = mutability; self.returned = returned
        self.uniqueness = uniqueness; self.canonicalValues = canonicalValues; self.referenceTypes = referenceTypes
        self.subAttributes = subAttributes
    }

    public func subAttribute(_ name: String) -> SCIMAttribute? {
        subAttributes.first { $0.name.equalsIgnoringCase(name) }
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "type": .string(kind.rawValue), "multiValued": .bool(multiValued),
            "description": .string(description), "required": .bool(required), "caseExact": .bool(caseExact),
            "mutability": .string(mutability.rawValue), "returned": .string(returned.rawValue),
            "uniqueness": .string(uniqueness.rawValue),
        ]
        if !canonicalValues.isEmpty { o["canonicalValues"] = .array(canonicalValues.map { .string($0) }) }
        if kind == .reference { o["referenceTypes"] = .array(referenceTypes.map { .string($0) }) }
        if kind == .complex { o["subAttributes"] = .array(subAttributes.map(\.json)) }
        return .object(o)
    }
}

public struct SCIMSchema: Sendable {
    public var id: String
    public var name: String
    public var description: String
    public var attributes: [SCIMAttribute]

    public func attribute(_ name: String) -> SCIMAttribute? { attributes.first { $0.name.equalsIgnoringCase(name) } }

    public func json(location: String) -> JSONValue {
        .object([
            "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:Schema")]),
            "id": .string(id), "name": .string(name), "description": .string(description),
            "attributes": .array(attributes.map(\.json)),
            "meta": .object(["resourceType": .string("Schema"), "location": .string(location + "/Schemas/" + id)]),
        ])
    }
}

/// A resource type: its core schema and extensions, and the attributes common to every
/// resource (`id`, `externalId`, `meta`, RFC 7643 §3.1).
public struct SCIMResourceType: Sendable {
    public var name: String
    public var endpoint: String
    public var schema: SCIMSchema
    public var extensions: [SCIMSchema]

    public static let common: [SCIMAttribute] = [
        SCIMAttribute("id", caseExact: true, mutability: .readOnly, returned: .always, uniqueness: .server),
        SCIMAttribute("externalId", caseExact: true),
        SCIMAttribute("meta", .complex, mutability: .readOnly, subAttributes: [
            SCIMAttribute("resourceType", caseExact: true, mutability: .readOnly),
            SCIMAttribute("created", .dateTime, mutability: .readOnly),
            SCIMAttribute("lastModified", .dateTime, mutability: .readOnly),
            SCIMAttribute("location", .reference, mutability: .readOnly, referenceTypes: ["uri"]),
            SCIMAttribute("version", caseExact: true, mutability: .readOnly),
        ]),
    ]

    /// The schema a path belongs to: its URN when given, else the core schema.
    public func schema(for path: SCIMAttributePath) -> SCIMSchema? {
        guard let urn = path.schema else { return schema }
        return ([schema] + extensions).first { $0.id.equalsIgnoringCase(urn) }
    }

    /// The definition of the attribute a path names (the top-level one, not its sub-attribute).
    public func attribute(for path: SCIMAttributePath) -> SCIMAttribute? {
        if path.schema == nil || path.schema!.equalsIgnoringCase(schema.id),
           let common = Self.common.first(where: { path.names($0.name) }) { return common }
        return schema(for: path)?.attribute(path.name)
    }

    /// The definition of the exact attribute or sub-attribute a path names.
    public func leaf(for path: SCIMAttributePath) -> SCIMAttribute? {
        guard let attribute = attribute(for: path) else { return nil }
        guard let sub = path.subAttribute else { return attribute }
        return attribute.subAttribute(sub)
    }

    public var allSchemaIDs: [String] { [schema.id] + extensions.map(\.id) }

    public func json(location: String) -> JSONValue {
        .object([
            "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:ResourceType")]),
            "id": .string(name), "name": .string(name), "endpoint": .string(endpoint),
            "description": .string(schema.description), "schema": .string(schema.id),
            "schemaExtensions": .array(extensions.map { .object(["schema": .string($0.id), "required": .bool(false)]) }),
            "meta": .object(["resourceType": .string("ResourceType"), "location": .string(location + "/ResourceTypes/" + name)]),
        ])
    }
}

extension SCIMSchema {
    public static let userID = "urn:ietf:params:scim:schemas:core:2.0:User"
    public static let enterpriseUserID = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    public static let groupID = "urn:ietf:params:scim:schemas:core:2.0:Group"

    private static func multi(_ name: String, _ valueKind: SCIMAttribute.Kind = .string, types: [String],
                              extra: [SCIMAttribute] = []) -> SCIMAttribute {
        SCIMAttribute(name, .complex, multiValued: true, subAttributes: [
            SCIMAttribute("value", valueKind),
            SCIMAttribute("display"),
            SCIMAttribute("type", canonicalValues: types),
            SCIMAttribute("primary", .boolean),
        ] + extra)
    }

    /// RFC 7643 §4.1.
    public static let user = SCIMSchema(id: userID, name: "User", description: "User Account", attributes: [
        SCIMAttribute("userName", required: true, uniqueness: .server),
        SCIMAttribute("name", .complex, subAttributes: [
            SCIMAttribute("formatted"), SCIMAttribute("familyName"), SCIMAttribute("givenName"),
            SCIMAttribute("middleName"), SCIMAttribute("honorificPrefix"), SCIMAttribute("honorificSuffix"),
        ]),
        SCIMAttribute("displayName"),
        SCIMAttribute("nickName"),
        SCIMAttribute("profileUrl", .reference, referenceTypes: ["external"]),
        SCIMAttribute("title"),
        SCIMAttribute("userType"),
        SCIMAttribute("preferredLanguage"),
        SCIMAttribute("locale"),
        SCIMAttribute("timezone"),
        SCIMAttribute("active", .boolean),
        SCIMAttribute("password", mutability: .writeOnly, returned: .never),
        multi("emails", types: ["work", "home", "other"]),
        multi("phoneNumbers", types: ["work", "home", "mobile", "fax", "pager", "other"]),
        multi("ims", types: ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        multi("photos", .reference, types: ["photo", "thumbnail"]),
        SCIMAttribute("addresses", .complex, multiValued: true, subAttributes: [
            SCIMAttribute("formatted"), SCIMAttribute("streetAddress"), SCIMAttribute("locality"),
            SCIMAttribute("region"), SCIMAttribute("postalCode"), SCIMAttribute("country"),
            SCIMAttribute("type", canonicalValues: ["work", "home", "other"]), SCIMAttribute("primary", .boolean),
        ]),
        SCIMAttribute("groups", .complex, multiValued: true, mutability: .readOnly, subAttributes: [
            SCIMAttribute("value", mutability: .readOnly),
            SCIMAttribute("$ref", .reference, mutability: .readOnly, referenceTypes: ["Group"]),
            SCIMAttribute("display", mutability: .readOnly),
            SCIMAttribute("type", mutability: .readOnly, canonicalValues: ["direct", "indirect"]),
        ]),
        multi("entitlements", types: []),
        multi("roles", types: []),
        SCIMAttribute("x509Certificates", .complex, multiValued: true, subAttributes: [
            SCIMAttribute("value", .binary), SCIMAttribute("display"), SCIMAttribute("type"),
            SCIMAttribute("primary", .boolean),
        ]),
    ])

    /// RFC 7643 §4.3.
    public static let enterpriseUser = SCIMSchema(
        id: enterpriseUserID, name: "EnterpriseUser", description: "Enterprise User", attributes: [
            SCIMAttribute("employeeNumber"), SCIMAttribute("costCenter"), SCIMAttribute("organization"),
            SCIMAttribute("division"), SCIMAttribute("department"),
            SCIMAttribute("manager", .complex, subAttributes: [
                SCIMAttribute("value"),
                SCIMAttribute("$ref", .reference, referenceTypes: ["User"]),
                SCIMAttribute("displayName", mutability: .readOnly),
            ]),
        ])

    /// RFC 7643 §4.2.
    public static let group = SCIMSchema(id: groupID, name: "Group", description: "Group", attributes: [
        SCIMAttribute("displayName", required: true, uniqueness: .server),
        SCIMAttribute("members", .complex, multiValued: true, subAttributes: [
            SCIMAttribute("value", caseExact: true, mutability: .immutable),
            SCIMAttribute("$ref", .reference, mutability: .immutable, referenceTypes: ["User", "Group"]),
            SCIMAttribute("display", mutability: .readOnly),
            SCIMAttribute("type", mutability: .immutable, canonicalValues: ["User", "Group"]),
        ]),
    ])
}

extension SCIMSchema {
    public static let entraUserID = "urn:ietf:params:scim:schemas:extension:Microsoft:Entra:2.0:User"
    public static let entraGroupID = "urn:ietf:params:scim:schemas:extension:Microsoft:Entra:2.0:Group"

    /// The attributes Microsoft Entra ID adds to the users and groups it provisions; kept as sent.
    public static let entraUser = SCIMSchema(id: entraUserID, name: "EntraUser", description: "Microsoft Entra ID User",
                                             attributes: [SCIMAttribute("mailNickname")])
    public static let entraGroup = SCIMSchema(id: entraGroupID, name: "EntraGroup", description: "Microsoft Entra ID Group",
                                              attributes: [SCIMAttribute("mailEnabled", .boolean),
                                                           SCIMAttribute("mailNickname"),
                                                           SCIMAttribute("securityEnabled", .boolean)])
}

extension SCIMResourceType {
    public static let user = SCIMResourceType(name: "User", endpoint: "/Users", schema: .user,
                                              extensions: [.enterpriseUser, .entraUser])
    public static let group = SCIMResourceType(name: "Group", endpoint: "/Groups", schema: .group, extensions: [.entraGroup])
}
