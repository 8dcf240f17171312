import RampartCore

/// A PATCH path (RFC 7644 §3.5.2): `attr`, `attr.sub`, `urn:...:attr`, `attr[filter]`, `attr[filter].sub`.
public struct SCIMPatchPath: Sendable, Equatable, CustomStringConvertible {
    public var attribute: SCIMAttributePath
    public var filter: SCIMFilter?
    /// The sub-attribute after a value filter (`emails[type eq "work"].value`).
    public var filteredSubAttribute: String?

    public var description: String { attribute.description }

    public static func parse(_ text: String) throws(SCIMError) -> SCIMPatchPath {
        guard text.utf8.count <= SCIMFilterParser.maximumLength else { throw .invalidPath("The path is too long.") }
        guard let open = text.firstIndex(of: "[") else {
            return SCIMPatchPath(attribute: try SCIMAttributePath.parse(text))
        }
        guard let close = text.lastIndex(of: "]"), close > open else { throw .invalidPath("A '[' in the path is not closed.") }
        let attribute = try SCIMAttributePath.parse(String(text[..<open]))
        guard attribute.subAttribute == nil else { throw .invalidPath("A value filter follows an attribute, not a sub-attribute.") }
        let filter = try SCIMFilterParser.parse(String(text[text.index(after: open)..<close]))
        let rest = text[text.index(after: close)...]
        var sub: String?
        if !rest.isEmpty {
            guard rest.hasPrefix("."), SCIMAttributePath.isAttributeName(rest.dropFirst()) else {
                throw .invalidPath("Only '.subAttribute' may follow a value filter in a path.")
            }
            sub = String(rest.dropFirst())
        }
        return SCIMPatchPath(attribute: attribute, filter: filter, filteredSubAttribute: sub)
    }
}

public struct SCIMPatchOperation: Sendable, Equatable {
    public enum Op: String, Sendable { case add, remove, replace }
    public var op: Op
    public var path: SCIMPatchPath?
    public var value: JSONValue?

    public init(op: Op, path: SCIMPatchPath?, value: JSONValue?) { self.op = op; self.path = path; self.value = value }
}

/// The body of a PATCH request. Operation names are matched in any letter case, since Entra ID
/// sends `Replace` and `Add`.
public struct SCIMPatchRequest: Sendable, Equatable {
    public static let schema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    public static let maximumOperations = 1000

    public var operations: [SCIMPatchOperation]

    public init(operations: [SCIMPatchOperation]) { self.operations = operations }

    public static func parse(_ body: JSONValue) throws(SCIMError) -> SCIMPatchRequest {
        guard case .object(let object) = body else { throw .invalidSyntax("The PATCH body must be a JSON object.") }
        guard case .array(let schemas)? = SCIMJSON.lookup(object, "schemas"),
              schemas.contains(where: { if case .string(let s) = $0 { return s.equalsIgnoringCase(schema) } else { return false } })
        else { throw .invalidSyntax("The PATCH body must list the schema \(schema).") }
        guard case .array(let raw)? = SCIMJSON.lookup(object, "Operations") else {
            throw .invalidSyntax("The PATCH body must have an 'Operations' array.")
        }
        guard !raw.isEmpty else { throw .invalidSyntax("The PATCH body has no operations.") }
        guard raw.count <= maximumOperations else { throw .tooMany("A PATCH may carry at most \(maximumOperations) operations.") }
        var operations: [SCIMPatchOperation] = []
        for item in raw {
            guard case .object(let o) = item, case .string(let name)? = SCIMJSON.lookup(o, "op"),
                  let op = SCIMPatchOperation.Op(rawValue: name.lowercased())
            else { throw .invalidSyntax("Each operation needs an 'op' of add, remove or replace.") }
            var path: SCIMPatchPath?
            switch SCIMJSON.lookup(o, "path") {
            case nil, .null?: path = nil
            case .string(let text)?: path = text.isEmpty ? nil : try SCIMPatchPath.parse(text)
            default: throw .invalidPath("'path' must be a string.")
            }
            let value = SCIMJSON.lookup(o, "value")
            if op == .remove, path == nil { throw .noTarget("A remove operation needs a path.") }
            if op != .remove, value == nil { throw .invalidValue("An \(op.rawValue) operation needs a value.") }
            operations.append(SCIMPatchOperation(op: op, path: path, value: value))
        }
        return SCIMPatchRequest(operations: operations)
    }
}
