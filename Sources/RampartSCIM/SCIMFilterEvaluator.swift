import Foundation
import RampartCore

/// Evaluates a filter against a resource in its SCIM JSON form. Storage answers the common
/// equality lookups from indexes; everything else is decided here, so the two agree on one grammar.
public struct SCIMFilterEvaluator: Sendable {
    public let resourceType: SCIMResourceType

    public init(_ resourceType: SCIMResourceType) { self.resourceType = resourceType }

    public func matches(_ filter: SCIMFilter, _ resource: JSONValue) throws(SCIMError) -> Bool {
        guard case .object(let object) = resource else { return false }
        return try evaluate(filter, in: object) { path in resourceType.leaf(for: path) }
    }

    private func evaluate(_ filter: SCIMFilter, in object: [String: JSONValue],
                          definition: (SCIMAttributePath) -> SCIMAttribute?) throws(SCIMError) -> Bool {
        switch filter {
        case .and(let a, let b):
            guard try evaluate(a, in: object, definition: definition) else { return false }
            return try evaluate(b, in: object, definition: definition)
        case .or(let a, let b):
            if try evaluate(a, in: object, definition: definition) { return true }
            return try evaluate(b, in: object, definition: definition)
        case .not(let inner):
            return try !evaluate(inner, in: object, definition: definition)
        case .present(let path):
            return values(at: path, in: object).contains { !$0.isEmptyForPresence }
        case .compare(let path, let op, let value):
            let attribute = definition(path)
            let found = values(at: path, in: object)
            let test: SCIMFilter.Operator = op == .ne ? .eq : op
            var any = false
            for v in found where try compare(v, test, value, attribute) { any = true; break }
            return op == .ne ? !any : any
        case .valuePath(let path, let inner):
            let parent = definition(path)
            guard case .array(let elements)? = SCIMJSON.value(at: path, in: object) else { return false }
            for case .object(let element) in elements {
                let matched = try evaluate(inner, in: element) { sub in parent?.subAttribute(sub.name) }
                if matched { return true }
            }
            return false
        }
    }

    /// The values a path reaches: multi-valued attributes contribute each element, and a complex
    /// multi-valued attribute named without a sub-attribute compares on its `value` (RFC 7644 §3.4.2.2).
    func values(at path: SCIMAttributePath, in object: [String: JSONValue]) -> [JSONValue] {
        guard let top = SCIMJSON.value(at: SCIMAttributePath(schema: path.schema, name: path.name), in: object)
        else { return [] }
        let sub = path.subAttribute
        func pick(_ v: JSONValue) -> JSONValue? {
            if case .object(let o) = v { return SCIMJSON.lookup(o, sub ?? "value") }
            return sub == nil ? v : nil
        }
        switch top {
        case .array(let elements): return elements.compactMap(pick)
        case .object(let o): return sub.flatMap { SCIMJSON.lookup(o, $0) }.map { [$0] } ?? []
        default: return sub == nil ? [top] : []
        }
    }

    private func compare(_ actual: JSONValue, _ op: SCIMFilter.Operator, _ expected: SCIMFilter.Value,
                         _ attribute: SCIMAttribute?) throws(SCIMError) -> Bool {
        switch (actual, expected) {
        case (.null, .null): return op == .eq
        case (_, .null): return false
        case (.bool(let a), .bool(let b)):
            guard op == .eq else { throw .invalidFilter("Booleans compare only with eq and ne.") }
            return a == b
        case (.string(let a), .bool(let b)) where attribute?.kind == .boolean:
            guard op == .eq else { throw .invalidFilter("Booleans compare only with eq and ne.") }
            return a.lowercased() == (b ? "true" : "false")
        case (.int(let a), .integer(let b)): return order(a, b, op)
        case (.int(let a), .decimal(let b)): return order(Double(a), b, op)
        case (.string(let a), .decimal(let b)): return Double(a).map { order($0, b, op) } ?? false
        case (.string(let a), .integer(let b)) where attribute?.kind == .decimal || attribute?.kind == .integer:
            return Double(a).map { order($0, Double(b), op) } ?? false
        case (.string(let a), .string(let b)):
            if attribute?.kind == .dateTime, let x = Timestamp(rfc3339: a), let y = Timestamp(rfc3339: b) {
                return order(x, y, op)
            }
            guard attribute?.kind != .boolean else { throw .invalidFilter("A boolean attribute compares with true or false.") }
            let exact = attribute?.caseExact ?? false
            let (x, y) = exact ? (a, b) : (a.lowercased(), b.lowercased())
            switch op {
            case .co: return x.contains(y)
            case .sw: return x.hasPrefix(y)
            case .ew: return x.hasSuffix(y)
            default: return order(x, y, op)
            }
        default:
            return false
        }
    }

    private func order<T: Comparable>(_ a: T, _ b: T, _ op: SCIMFilter.Operator) -> Bool {
        switch op {
        case .eq: return a == b
        case .ne: return a != b
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        case .co, .sw, .ew: return false
        }
    }
}

extension JSONValue {
    /// Absent for `pr`: null, an empty string, an empty array or object.
    var isEmptyForPresence: Bool {
        switch self {
        case .null: return true
        case .string(let s): return s.isEmpty
        case .array(let a): return a.isEmpty
        case .object(let o): return o.isEmpty
        default: return false
        }
    }
}

/// Case-insensitive access to SCIM JSON objects: attribute names match in any letter case.
public enum SCIMJSON {
    public static func key(_ object: [String: JSONValue], _ name: String) -> String? {
        if object[name] != nil { return name }
        return object.keys.first { $0.equalsIgnoringCase(name) }
    }

    public static func lookup(_ object: [String: JSONValue], _ name: String) -> JSONValue? {
        key(object, name).flatMap { object[$0] }
    }

    /// The value of a path's top-level attribute (or its sub-attribute), looking inside the
    /// extension object when the path names an extension URN.
    public static func value(at path: SCIMAttributePath, in object: [String: JSONValue]) -> JSONValue? {
        var container = object
        if let urn = path.schema, let extensionKey = key(object, urn) {
            guard case .object(let ext)? = object[extensionKey] else { return nil }
            container = ext
        } else if let urn = path.schema, urn.lowercased().contains(":extension:") {
            return nil  // an extension the resource does not carry
        }
        guard let top = lookup(container, path.name) else { return nil }
        guard let sub = path.subAttribute else { return top }
        guard case .object(let o) = top else { return nil }
        return lookup(o, sub)
    }
}
