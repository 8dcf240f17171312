import Foundation
import RampartCore

/// A User as a client sent it (POST, PUT, or the result of a PATCH), checked and split into
/// what the directory keeps in its own columns and the remaining SCIM attributes.
public struct SCIMUserInput: Sendable, Equatable {
    public var userName: String
    public var externalId: String?
    public var active: Bool
    /// The directory's display name: `displayName`, else `name.formatted`, else given and family
    /// names, else `userName`.
    public var displayName: String
    /// The directory's email: the primary (else first) email, else `userName` when it is one;
    /// nil when the client gave none.
    public var email: String?
    /// Every other attribute, in SCIM form (readOnly attributes and `password` dropped).
    public var attributes: [String: JSONValue]

    public static func parse(_ resource: JSONValue) throws(SCIMError) -> SCIMUserInput {
        let object = try SCIMResourceCheck.object(resource, .user)
        guard case .string(let rawUserName)? = SCIMJSON.lookup(object, "userName") else {
            throw .invalidValue("'userName' is required and must be a string.")
        }
        let userName = rawUserName.trimming(.whitespaces)
        try SCIMResourceCheck.text(userName, "userName", max: 256, required: true)
        let externalId = try SCIMResourceCheck.externalId(object)
        var active = true
        var attributes: [String: JSONValue] = [:]
        if let raw = SCIMJSON.lookup(object, "active"), raw != .null {
            guard case .bool(let b) = try SCIMValueCoercion.coerce(raw, to: SCIMAttribute("active", .boolean), name: "active")
            else { throw .invalidValue("'active' must be a boolean.") }
            active = b
            // Kept so that a client that never set `active` (or removed it) does not see one.
            attributes["active"] = .bool(b)
        }
        for (key, value) in object {
            if ["schemas", "id", "meta", "userName", "externalId", "active", "password", "groups"]
                .contains(where: { key.equalsIgnoringCase($0) }) || value == .null { continue }
            if key.lowercased().hasPrefix("urn:") { continue }  // extensions, below
            // Unknown attributes are ignored (RFC 7644 §3.3), as long as they are not unknown schemas.
            guard let attribute = SCIMSchema.user.attribute(key) else { continue }
            attributes[attribute.name] = try SCIMValueCoercion.coerce(value, to: attribute, name: attribute.name)
        }
        attributes.merge(try SCIMResourceCheck.extensions(object, .user)) { $1 }
        let displayName = Self.displayName(attributes, userName: userName)
        return SCIMUserInput(userName: userName, externalId: externalId, active: active, displayName: displayName,
                             email: Self.email(attributes, userName: userName), attributes: attributes)
    }

    static func displayName(_ attributes: [String: JSONValue], userName: String) -> String {
        func clean(_ s: String?) -> String? {
            guard let t = s?.trimming(.whitespacesAndNewlines), !t.isEmpty else { return nil }
            return String(t.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(200))
        }
        if case .string(let s)? = attributes["displayName"], let name = clean(s) { return name }
        if case .object(let name)? = attributes["name"] {
            if case .string(let f)? = name["formatted"], let formatted = clean(f) { return formatted }
            var parts: [String] = []
            for key in ["givenName", "familyName"] { if case .string(let p)? = name[key] { parts.append(p) } }
            if let joined = clean(parts.joined(separator: " ")) { return joined }
        }
        return clean(userName) ?? "SCIM user"
    }

    static func email(_ attributes: [String: JSONValue], userName: String) -> String? {
        var candidates: [String] = []
        if case .array(let emails)? = attributes["emails"] {
            let objects = emails.compactMap { e -> [String: JSONValue]? in if case .object(let o) = e { return o } else { return nil } }
            let ordered = objects.filter { $0["primary"] == .bool(true) } + objects.filter { $0["primary"] != .bool(true) }
            for o in ordered { if case .string(let v)? = o["value"] { candidates.append(v) } }
        }
        candidates.append(userName)
        return candidates.lazy.compactMap { try? Validate.email($0) }.first
    }
}

/// A Group as a client sent it.
public struct SCIMGroupInput: Sendable, Equatable {
    public var displayName: String
    public var externalId: String?
    /// Member ids in the order given, without repeats.
    public var memberIDs: [String]
    /// Extension attributes (Entra ID's), in SCIM form.
    public var attributes: [String: JSONValue]

    public static func parse(_ resource: JSONValue) throws(SCIMError) -> SCIMGroupInput {
        let object = try SCIMResourceCheck.object(resource, .group)
        guard case .string(let raw)? = SCIMJSON.lookup(object, "displayName") else {
            throw .invalidValue("'displayName' is required and must be a string.")
        }
        let displayName = raw.trimming(.whitespacesAndNewlines)
        try SCIMResourceCheck.text(displayName, "displayName", max: 200, required: true)
        return SCIMGroupInput(displayName: displayName, externalId: try SCIMResourceCheck.externalId(object),
                              memberIDs: try memberIDs(SCIMJSON.lookup(object, "members")),
                              attributes: try SCIMResourceCheck.extensions(object, .group))
    }

    /// The extension attributes as stored: JSON text, nil when there are none.
    public var attributesJSON: String? { attributes.isEmpty ? nil : JSONValue.object(attributes).canonical }

    public static func memberIDs(_ members: JSONValue?) throws(SCIMError) -> [String] {
        guard let members, members != .null else { return [] }
        guard case .array(let elements) = members else { throw .invalidValue("'members' must be an array.") }
        var seen = Set<String>()
        var ids: [String] = []
        for element in elements {
            guard case .object(let o) = element, case .string(let id)? = SCIMJSON.lookup(o, "value") else {
                throw .invalidValue("Each member needs a 'value' naming a user id.")
            }
            if seen.insert(id).inserted { ids.append(id) }
        }
        return ids
    }
}

enum SCIMResourceCheck {
    /// The resource object, with `schemas` naming only this type's schemas and the core one among them.
    static func object(_ resource: JSONValue, _ type: SCIMResourceType) throws(SCIMError) -> [String: JSONValue] {
        guard case .object(let object) = resource else { throw .invalidSyntax("The body must be a JSON object.") }
        guard case .array(let schemas)? = SCIMJSON.lookup(object, "schemas") else {
            throw .invalidValue("'schemas' must list \(type.schema.id).")
        }
        var hasCore = false
        for schema in schemas {
            guard case .string(let urn) = schema, type.allSchemaIDs.contains(where: { $0.equalsIgnoringCase(urn) }) else {
                throw .invalidValue("'schemas' names a schema that \(type.name) resources do not have.")
            }
            if urn.equalsIgnoringCase(type.schema.id) { hasCore = true }
        }
        guard hasCore else { throw .invalidValue("'schemas' must list \(type.schema.id).") }
        for key in object.keys where key.lowercased().hasPrefix("urn:") {
            guard type.extensions.contains(where: { $0.id.equalsIgnoringCase(key) }) else {
                throw .invalidValue("'\(key.prefix(100))' is not an extension of \(type.name) resources.")
            }
        }
        return object
    }

    /// The extension objects of a resource, each attribute coerced to its type; unknown
    /// attributes inside an extension are ignored like unknown core attributes.
    static func extensions(_ object: [String: JSONValue], _ type: SCIMResourceType) throws(SCIMError) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (key, value) in object {
            guard let ext = type.extensions.first(where: { $0.id.equalsIgnoringCase(key) }), value != .null else { continue }
            guard case .object(let inner) = value else { throw .invalidValue("'\(ext.id)' must be an object.") }
            var attributes: [String: JSONValue] = [:]
            for (name, v) in inner where v != .null {
                guard let attribute = ext.attribute(name) else { continue }
                attributes[attribute.name] = try SCIMValueCoercion.coerce(v, to: attribute, name: attribute.name)
            }
            if !attributes.isEmpty { out[ext.id] = .object(attributes) }
        }
        return out
    }

    static func externalId(_ object: [String: JSONValue]) throws(SCIMError) -> String? {
        switch SCIMJSON.lookup(object, "externalId") {
        case nil, .null?: return nil
        case .string(let s)?:
            try text(s, "externalId", max: 256, required: false)
            return s.isEmpty ? nil : s
        default: throw .invalidValue("'externalId' must be a string.")
        }
    }

    static func text(_ value: String, _ field: String, max: Int, required: Bool) throws(SCIMError) {
        if required, value.isEmpty { throw .invalidValue("'\(field)' must not be empty.") }
        guard value.count <= max else { throw .invalidValue("'\(field)' must be at most \(max) characters.") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidValue("'\(field)' must not contain control characters.")
        }
    }
}
