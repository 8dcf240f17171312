import Foundation
import RampartCore

/// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5) over a resource's SCIM JSON.
/// `id` and `schemas` are always returned, `password` never.
public struct SCIMProjection: Sendable {
    public var attributes: [String]
    public var excludedAttributes: [String]

    public init(attributes: String? = nil, excludedAttributes: String? = nil) throws(SCIMError) {
        self.attributes = try Self.list(attributes)
        self.excludedAttributes = try Self.list(excludedAttributes)
    }

    private static func list(_ text: String?) throws(SCIMError) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        guard text.utf8.count <= 4096 else { throw .invalidValue("The attribute list is too long.") }
        return text.split(separator: ",").map { $0.trimming(.whitespaces) }.filter { !$0.isEmpty }
    }

    public var isIdentity: Bool { attributes.isEmpty && excludedAttributes.isEmpty }

    /// Whether a top-level attribute of the core schema is returned: callers skip reading what is not.
    public func wants(_ name: String) -> Bool {
        func names(_ entry: String) -> Bool {
            let e = entry.lowercased(), n = name.lowercased()
            return e == n || e.hasPrefix(n + ".") || e.hasSuffix(":" + n) || e.contains(":" + n + ".")
        }
        if excludedAttributes.contains(where: { $0.equalsIgnoringCase(name) }) { return false }
        return attributes.isEmpty || attributes.contains(where: names)
    }

    public func apply(_ resource: JSONValue, _ type: SCIMResourceType) -> JSONValue {
        guard case .object(var object) = resource else { return resource }
        for attribute in type.schema.attributes where attribute.returned == .never {
            if let k = SCIMJSON.key(object, attribute.name) { object.removeValue(forKey: k) }
        }
        if !attributes.isEmpty {
            var kept: [String: JSONValue] = [:]
            for key in ["schemas", "id"] { if let k = SCIMJSON.key(object, key) { kept[k] = object[k] } }
            for name in attributes { copy(name, from: object, to: &kept, type) }
            object = kept
        }
        for name in excludedAttributes { remove(name, from: &object, type) }
        return .object(object)
    }

    private func copy(_ name: String, from source: [String: JSONValue], to target: inout [String: JSONValue],
                      _ type: SCIMResourceType) {
        if let ext = type.extensions.first(where: { $0.id.equalsIgnoringCase(name) }) {
            if let k = SCIMJSON.key(source, ext.id) { target[k] = source[k] }
            return
        }
        guard let path = try? SCIMAttributePath.parse(name) else { return }
        let isExtension = path.schema.map { !$0.equalsIgnoringCase(type.schema.id) } ?? false
        var from = source
        var extKey: String?
        if isExtension, let urn = path.schema {
            guard let k = SCIMJSON.key(source, urn), case .object(let ext)? = source[k] else { return }
            from = ext
            extKey = k
        }
        guard let key = SCIMJSON.key(from, path.name), let value = from[key] else { return }
        var picked = value
        if let sub = path.subAttribute {
            switch value {
            case .object(let o): picked = SCIMJSON.key(o, sub).map { .object([$0: o[$0]!]) } ?? .object([:])
            case .array(let elements):
                picked = .array(elements.map { element in
                    guard case .object(let o) = element else { return element }
                    return .object(SCIMJSON.key(o, sub).map { [$0: o[$0]!] } ?? [:])
                })
            default: return
            }
        }
        if let extKey {
            var ext: [String: JSONValue] = [:]
            if case .object(let existing)? = target[extKey] { ext = existing }
            ext[key] = mergedPick(ext[key], picked)
            target[extKey] = .object(ext)
        } else {
            target[key] = mergedPick(target[key], picked)
        }
    }

    /// `name.givenName,name.familyName` both land in one `name` object.
    private func mergedPick(_ existing: JSONValue?, _ new: JSONValue) -> JSONValue {
        if case .object(let a)? = existing, case .object(let b) = new { return .object(a.merging(b) { $1 }) }
        return new
    }

    private func remove(_ name: String, from object: inout [String: JSONValue], _ type: SCIMResourceType) {
        if let ext = type.extensions.first(where: { $0.id.equalsIgnoringCase(name) }) {
            if let k = SCIMJSON.key(object, ext.id) { object.removeValue(forKey: k) }
            return
        }
        guard let path = try? SCIMAttributePath.parse(name) else { return }
        if let attribute = type.attribute(for: path), attribute.returned == .always, path.subAttribute == nil { return }
        if path.names("schemas") { return }
        let isExtension = path.schema.map { !$0.equalsIgnoringCase(type.schema.id) } ?? false
        if isExtension, let urn = path.schema {
            guard let k = SCIMJSON.key(object, urn), case .object(var ext)? = object[k] else { return }
            removePath(path, from: &ext)
            object[k] = .object(ext)
        } else {
            removePath(path, from: &object)
        }
    }

    private func removePath(_ path: SCIMAttributePath, from object: inout [String: JSONValue]) {
        guard let key = SCIMJSON.key(object, path.name) else { return }
        guard let sub = path.subAttribute else { object.removeValue(forKey: key); return }
        switch object[key] {
        case .object(var o)?:
            if let k = SCIMJSON.key(o, sub) { o.removeValue(forKey: k) }
            object[key] = .object(o)
        case .array(let elements)?:
            object[key] = .array(elements.map { element in
                guard case .object(var o) = element else { return element }
                if let k = SCIMJSON.key(o, sub) { o.removeValue(forKey: k) }
                return .object(o)
            })
        default: break
        }
    }
}
