import RampartCore

/// Applies PATCH operations to a resource in its SCIM JSON form, checking mutability and
/// coercing values to the schema's types. It accepts the dialects identity providers send:
/// Entra ID's path-less replace with dotted keys (`"name.givenName"`), booleans as strings
/// (`"False"`), and member removal by a `value` array instead of a value filter.
public struct SCIMPatcher: Sendable {
    public let resourceType: SCIMResourceType

    public init(_ resourceType: SCIMResourceType) { self.resourceType = resourceType }

    public func apply(_ request: SCIMPatchRequest, to resource: JSONValue) throws(SCIMError) -> JSONValue {
        guard case .object(var object) = resource else { throw .invalidValue("The resource is not an object.") }
        for operation in request.operations {
            if let path = operation.path, path.filter == nil, path.attribute.subAttribute == nil,
               let ext = resourceType.extensions.first(where: { $0.id.equalsIgnoringCase(path.attribute.description) }) {
                // The extension's URN as the path: its attributes, each applied by its own path.
                let key = SCIMJSON.key(object, ext.id) ?? ext.id
                if operation.op == .remove { object.removeValue(forKey: key); continue }
                guard case .object(let inner)? = operation.value else {
                    throw .invalidValue("The value of '\(ext.id)' must be an object.")
                }
                if operation.op == .replace { object.removeValue(forKey: key) }
                for (name, v) in inner.sorted(by: { $0.key < $1.key }) where !name.equalsIgnoringCase("schemas") {
                    try apply(operation.op, SCIMPatchPath(attribute: try SCIMAttributePath.parse(ext.id + ":" + name)), v, to: &object)
                }
            } else if let path = operation.path {
                try apply(operation.op, path, operation.value, to: &object)
            } else {
                // Without a path the value is an object of attributes, each applied as if it were the path.
                guard case .object(let attributes)? = operation.value else {
                    throw .invalidValue("An \(operation.op.rawValue) without a path needs an object value.")
                }
                for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
                    if key.equalsIgnoringCase("schemas") { continue }
                    if let ext = resourceType.extensions.first(where: { $0.id.equalsIgnoringCase(key) }) {
                        guard case .object(let inner) = value else {
                            throw .invalidValue("The value of '\(ext.id)' must be an object.")
                        }
                        for (name, v) in inner.sorted(by: { $0.key < $1.key }) where !name.equalsIgnoringCase("schemas") {
                            let path = SCIMPatchPath(attribute: try SCIMAttributePath.parse(ext.id + ":" + name))
                            try apply(operation.op, path, v, to: &object)
                        }
                        continue
                    }
                    try apply(operation.op, try SCIMPatchPath.parse(key), value, to: &object)
                }
            }
        }
        return .object(object)
    }

    private func apply(_ op: SCIMPatchOperation.Op, _ path: SCIMPatchPath, _ rawValue: JSONValue?,
                       to object: inout [String: JSONValue]) throws(SCIMError) {
        let attributePath = path.attribute
        guard let attribute = resourceType.attribute(for: attributePath) else {
            throw .invalidPath("'\(attributePath)' is not an attribute of \(resourceType.name).")
        }
        let leaf: SCIMAttribute
        if let sub = attributePath.subAttribute ?? path.filteredSubAttribute {
            guard let found = attribute.subAttribute(sub) else {
                throw .invalidPath("'\(sub)' is not a sub-attribute of '\(attribute.name)'.")
            }
            leaf = found
        } else {
            leaf = attribute
        }
        if attribute.mutability == .readOnly || leaf.mutability == .readOnly {
            throw .mutability("'\(attributePath)' is read-only.")
        }
        if path.filter != nil, !attribute.multiValued {
            throw .invalidPath("'\(attribute.name)' is not multi-valued; it cannot take a value filter.")
        }
        let value = try rawValue.map { v throws(SCIMError) in try SCIMValueCoercion.coerce(v, to: leaf, name: attributePath.description) }

        var container = try containerFor(attributePath, in: object)
        let key = SCIMJSON.key(container, attribute.name) ?? attribute.name
        let current = container[key]
        if attribute.mutability == .immutable, let current, current != .null, op != .add || !attribute.multiValued {
            throw .mutability("'\(attribute.name)' is immutable.")
        }

        if let filter = path.filter {
            container[key] = try applyFiltered(op, filter, path.filteredSubAttribute, value, attribute, current)
        } else if let sub = attributePath.subAttribute {
            container[key] = try applySub(op, sub, value, attribute, current)
        } else {
            container[key] = try applyWhole(op, value, attribute, current)
        }
        if container[key] == .null || container[key] == nil { container.removeValue(forKey: key) }
        store(container, for: attributePath, in: &object)
    }

    /// The object holding a path's attribute: the resource, or the extension object the URN names.
    private func containerFor(_ path: SCIMAttributePath, in object: [String: JSONValue]) throws(SCIMError) -> [String: JSONValue] {
        guard let urn = path.schema, !urn.equalsIgnoringCase(resourceType.schema.id) else { return object }
        guard let key = SCIMJSON.key(object, urn) else { return [:] }
        guard case .object(let ext)? = object[key] else { throw .invalidValue("'\(urn)' must be an object.") }
        return ext
    }

    private func store(_ container: [String: JSONValue], for path: SCIMAttributePath, in object: inout [String: JSONValue]) {
        guard let urn = path.schema, !urn.equalsIgnoringCase(resourceType.schema.id),
              let ext = resourceType.extensions.first(where: { $0.id.equalsIgnoringCase(urn) }) else {
            object = container
            return
        }
        let key = SCIMJSON.key(object, ext.id) ?? ext.id
        if container.isEmpty { object.removeValue(forKey: key) } else { object[key] = .object(container) }
    }

    private func applyWhole(_ op: SCIMPatchOperation.Op, _ value: JSONValue?, _ attribute: SCIMAttribute,
                            _ current: JSONValue?) throws(SCIMError) -> JSONValue? {
        switch op {
        case .remove:
            // Entra ID removes members by listing them in `value` rather than with a value filter.
            if attribute.multiValued, let value, case .array(let doomed) = value, case .array(let existing)? = current {
                let ids = Set(doomed.compactMap { element -> String? in
                    if case .object(let o) = element, case .string(let v)? = SCIMJSON.lookup(o, "value") { return v }
                    return nil
                })
                let kept = existing.filter { element in
                    guard case .object(let o) = element, case .string(let v)? = SCIMJSON.lookup(o, "value") else { return true }
                    return !ids.contains(v)
                }
                return kept.isEmpty ? nil : .array(kept)
            }
            return nil
        case .add:
            if attribute.multiValued {
                var existing: [JSONValue] = []
                if case .array(let a)? = current { existing = a }
                for element in try asArray(value, attribute) where !existing.contains(where: { sameElement($0, element) }) {
                    existing.append(element)
                }
                return .array(existing)
            }
            return merged(current, value, attribute)
        case .replace:
            if attribute.multiValued { return .array(try asArray(value, attribute)) }
            return merged(current, value, attribute)
        }
    }

    private func applySub(_ op: SCIMPatchOperation.Op, _ sub: String, _ value: JSONValue?, _ attribute: SCIMAttribute,
                          _ current: JSONValue?) throws(SCIMError) -> JSONValue? {
        if attribute.multiValued {
            // `emails.value` addresses every element: a replace sets it in each.
            guard case .array(var elements)? = current else {
                if op == .remove { return current }
                throw .noTarget("'\(attribute.name)' has no values whose '\(sub)' could be set.")
            }
            for i in elements.indices {
                guard case .object(var o) = elements[i] else { continue }
                let k = SCIMJSON.key(o, sub) ?? sub
                if op == .remove { o.removeValue(forKey: k) } else { o[k] = value }
                elements[i] = .object(o)
            }
            return .array(elements)
        }
        var o: [String: JSONValue] = [:]
        if case .object(let existing)? = current { o = existing }
        let k = SCIMJSON.key(o, sub) ?? sub
        if op == .remove || value == .null { o.removeValue(forKey: k) } else { o[k] = value }
        return o.isEmpty ? nil : .object(o)
    }

    private func applyFiltered(_ op: SCIMPatchOperation.Op, _ filter: SCIMFilter, _ sub: String?, _ value: JSONValue?,
                               _ attribute: SCIMAttribute, _ current: JSONValue?) throws(SCIMError) -> JSONValue? {
        var elements: [JSONValue] = []
        if case .array(let a)? = current { elements = a }
        let evaluator = SCIMFilterEvaluator(SCIMResourceType(
            name: attribute.name, endpoint: "",
            schema: SCIMSchema(id: "", name: attribute.name, description: "", attributes: attribute.subAttributes),
            extensions: []))
        var matched = false
        var result: [JSONValue] = []
        for element in elements {
            guard try evaluator.matches(filter, element), case .object(var o) = element else {
                result.append(element)
                continue
            }
            matched = true
            switch (op, sub) {
            case (.remove, nil): continue
            case (.remove, let sub?): o.removeValue(forKey: SCIMJSON.key(o, sub) ?? sub)
            case (_, let sub?): o[SCIMJSON.key(o, sub) ?? sub] = value
            case (_, nil):
                guard case .object(let replacement)? = value else {
                    throw .invalidValue("A value filter path without a sub-attribute takes an object value.")
                }
                for (k, v) in replacement { o[SCIMJSON.key(o, k) ?? k] = v }
            }
            result.append(.object(o))
        }
        if !matched {
            guard op != .remove else { throw .noTarget("No value of '\(attribute.name)' matches the path's filter.") }
            // Entra ID sets `emails[type eq "work"].value` on a user that has no work email yet:
            // the element the filter describes is created.
            guard var element = Self.elementDescribed(by: filter) else {
                throw .noTarget("No value of '\(attribute.name)' matches the path's filter.")
            }
            if let sub { element[sub] = value } else if case .object(let o)? = value { element.merge(o) { $1 } }
            result.append(.object(element))
        }
        return result.isEmpty ? nil : .array(result)
    }

    /// The element an equality-only filter describes (`type eq "work" and primary eq true`).
    static func elementDescribed(by filter: SCIMFilter) -> [String: JSONValue]? {
        switch filter {
        case .compare(let path, .eq, let value) where path.subAttribute == nil && path.schema == nil:
            switch value {
            case .string(let s): return [path.name: .string(s)]
            case .bool(let b): return [path.name: .bool(b)]
            case .integer(let i): return [path.name: .int(i)]
            default: return nil
            }
        case .and(let a, let b):
            guard let x = elementDescribed(by: a), let y = elementDescribed(by: b) else { return nil }
            return x.merging(y) { $1 }
        default: return nil
        }
    }

    private func asArray(_ value: JSONValue?, _ attribute: SCIMAttribute) throws(SCIMError) -> [JSONValue] {
        switch value {
        case .array(let a)?: return a
        case nil, .null?: return []
        case let v?: return [v]
        }
    }

    /// Complex attributes merge sub-attribute by sub-attribute (RFC 7644 §3.5.2.1 and .3).
    private func merged(_ current: JSONValue?, _ value: JSONValue?, _ attribute: SCIMAttribute) -> JSONValue? {
        guard attribute.kind == .complex, case .object(let new)? = value else { return value == .null ? nil : value }
        var o: [String: JSONValue] = [:]
        if case .object(let existing)? = current { o = existing }
        for (k, v) in new { o[SCIMJSON.key(o, k) ?? k] = v }
        return .object(o)
    }

    /// Elements of a multi-valued attribute are the same when their `value` is (members, emails).
    private func sameElement(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if case .object(let x) = a, case .object(let y) = b,
           let vx = SCIMJSON.lookup(x, "value"), let vy = SCIMJSON.lookup(y, "value") {
            return vx == vy && (SCIMJSON.lookup(x, "type") ?? .null) == (SCIMJSON.lookup(y, "type") ?? .null)
        }
        return a == b
    }
}

/// Brings a value to its attribute's type: the strings "True" and "False" that Entra ID sends
/// become booleans; anything else of the wrong shape is an `invalidValue`.
public enum SCIMValueCoercion {
    public static func coerce(_ value: JSONValue, to attribute: SCIMAttribute, name: String) throws(SCIMError) -> JSONValue {
        if case .null = value { return value }
        if attribute.multiValued, case .array(let elements) = value {
            var single = attribute
            single.multiValued = false
            return .array(try elements.map { e throws(SCIMError) in try coerce(e, to: single, name: name) })
        }
        switch attribute.kind {
        case .boolean:
            switch value {
            case .bool: return value
            case .string(let s) where s.lowercased() == "true": return .bool(true)
            case .string(let s) where s.lowercased() == "false": return .bool(false)
            default: throw .invalidValue("'\(name)' must be a boolean.")
            }
        case .complex:
            guard case .object(let o) = value else {
                if attribute.multiValued { return value }
                throw .invalidValue("'\(name)' must be an object.")
            }
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                if let sub = attribute.subAttribute(k) {
                    out[sub.name] = try coerce(v, to: sub, name: name + "." + sub.name)
                } else {
                    out[k] = v
                }
            }
            return .object(out)
        case .integer:
            if case .int = value { return value }
            throw .invalidValue("'\(name)' must be an integer.")
        case .string, .reference, .binary, .dateTime:
            if case .string = value { return value }
            throw .invalidValue("'\(name)' must be a string.")
        case .decimal:
            switch value {
            case .int, .string: return value
            default: throw .invalidValue("'\(name)' must be a number.")
            }
        }
    }
}
