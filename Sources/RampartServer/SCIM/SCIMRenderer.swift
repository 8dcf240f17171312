import Foundation
import RampartCore
import RampartSCIM
import RampartStorage

/// Directory records in their SCIM form.
enum SCIMRenderer {
    static func user(_ record: SCIMUserRecord, base: String, groups: [Group]? = nil) -> JSONValue {
        var o: [String: JSONValue] = [:]
        if let text = record.attributesJSON, case .object(let stored)? = JSONValue.parse(text) {
            o = stored
        } else {
            // A user the console or the API created: their email and name are all SCIM knows of them.
            o["emails"] = .array([.object(["value": .string(record.user.email), "type": .string("work"), "primary": .bool(true)])])
            o["displayName"] = .string(record.user.displayName)
            o["active"] = .bool(true)
        }
        o["schemas"] = schemas(SCIMResourceType.user, o)
        o["id"] = .string(record.user.id)
        o["userName"] = .string(record.userName)
        if let externalId = record.externalId { o["externalId"] = .string(externalId) }
        // The directory's status wins; a client that never set `active` sees none while the user is active.
        if record.user.status == .deactivated || o["active"] != nil { o["active"] = .bool(record.user.status == .active) }
        if let groups, !groups.isEmpty {
            o["groups"] = .array(groups.map {
                .object(["value": .string($0.id), "display": .string($0.name), "$ref": .string(base + "/Groups/" + $0.id),
                         "type": .string("direct")])
            })
        }
        return withMeta(o, "User", base + "/Users/" + record.user.id, record.user.createdAt, record.updatedAt)
    }

    static func group(_ record: SCIMGroupRecord, base: String) -> JSONValue {
        var o: [String: JSONValue] = [:]
        if let text = record.attributesJSON, case .object(let stored)? = JSONValue.parse(text) { o = stored }
        o["schemas"] = schemas(SCIMResourceType.group, o)
        o["id"] = .string(record.group.id)
        o["displayName"] = .string(record.group.name)
        if let externalId = record.externalId { o["externalId"] = .string(externalId) }
        if let members = record.members {
            o["members"] = .array(members.map {
                .object(["value": .string($0), "type": .string("User"), "$ref": .string(base + "/Users/" + $0)])
            })
        }
        return withMeta(o, "Group", base + "/Groups/" + record.group.id, record.group.createdAt, record.updatedAt)
    }

    /// The core schema and each extension the resource carries.
    private static func schemas(_ type: SCIMResourceType, _ o: [String: JSONValue]) -> JSONValue {
        .array([.string(type.schema.id)] + type.extensions.filter { o[$0.id] != nil }.map { .string($0.id) })
    }

    private static func withMeta(_ object: [String: JSONValue], _ type: String, _ location: String, _ created: Timestamp,
                                 _ modified: Timestamp) -> JSONValue {
        var o = object
        o["meta"] = .object([
            "resourceType": .string(type), "created": .string(created.rfc3339),
            "lastModified": .string(max(created, modified).rfc3339), "location": .string(location),
            "version": .string(SCIMHTTP.etag(.object(object))),
        ])
        return .object(o)
    }

    /// The stored form of a checked User: its attributes as JSON text, and the directory's columns.
    static func fields(_ input: SCIMUserInput) -> SCIMUserFields {
        SCIMUserFields(userName: input.userName, externalId: input.externalId, active: input.active,
                       displayName: input.displayName, email: input.email,
                       attributesJSON: JSONValue.object(input.attributes).canonical)
    }

    static func listResponse(_ resources: [JSONValue], total: Int, startIndex: Int) -> JSONValue {
        .object([
            "schemas": .array([.string("urn:ietf:params:scim:api:messages:2.0:ListResponse")]),
            "totalResults": .int(Int64(total)), "startIndex": .int(Int64(startIndex)),
            "itemsPerPage": .int(Int64(resources.count)), "Resources": .array(resources),
        ])
    }
}

/// `startIndex`, `count`, `sortBy`, `sortOrder`, `filter`, `attributes`, `excludedAttributes`.
struct SCIMQuery: Sendable {
    /// The most resources one page returns; ServiceProviderConfig says so as `filter.maxResults`.
    static let maximumCount = 1000

    var filter: SCIMFilter?
    var startIndex: Int
    var count: Int
    var sortBy: SCIMAttributePath?
    var descending: Bool
    var projection: SCIMProjection

    init(_ parameters: [String: String]) throws(SCIMError) {
        filter = try parameters["filter"].map { text throws(SCIMError) in try SCIMFilterParser.parse(text) }
        // RFC 7644 §3.4.2.4: below 1 is 1, a negative count is 0, and a server may return fewer than asked.
        startIndex = max(1, Int(parameters["startIndex"] ?? "1") ?? 1)
        var rawCount = 100
        if let text = parameters["count"] {
            if let n = Int(text) { rawCount = n }
            else if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) { rawCount = Int.max }  // a huge count is capped
            else { throw .invalidValue("'count' must be an integer.") }
        }
        count = min(max(0, rawCount), Self.maximumCount)
        sortBy = try parameters["sortBy"].map { text throws(SCIMError) in try SCIMAttributePath.parse(text) }
        switch parameters["sortOrder"]?.lowercased() {
        case nil, "ascending": descending = false
        case "descending": descending = true
        default: throw .invalidValue("'sortOrder' is ascending or descending.")
        }
        projection = try SCIMProjection(attributes: parameters["attributes"], excludedAttributes: parameters["excludedAttributes"])
    }

    /// A SearchRequest body (RFC 7644 §3.4.3), read as the same parameters a GET takes.
    init(searchRequest body: JSONValue) throws(SCIMError) {
        guard case .object(let o) = body else { throw .invalidSyntax("The body must be a SearchRequest object.") }
        var parameters: [String: String] = [:]
        for (key, value) in o where key.lowercased() != "schemas" {
            switch value {
            case .string(let s): parameters[key] = s
            case .int(let i): parameters[key] = String(i)
            case .array(let items):
                parameters[key] = items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
                    .joined(separator: ",")
            case .null: continue
            default: throw .invalidValue("'\(key.prefix(64))' has a value of the wrong type.")
            }
        }
        try self.init(parameters)
    }

    /// Filters, sorts and pages resources already in SCIM form.
    func page(_ resources: [JSONValue], _ type: SCIMResourceType) throws(SCIMError) -> JSONValue {
        var matched: [JSONValue] = []
        if let filter {
            let evaluator = SCIMFilterEvaluator(type)
            for resource in resources where try evaluator.matches(filter, resource) { matched.append(resource) }
        } else {
            matched = resources
        }
        if let sortBy {
            let keyed = matched.map { (key: Self.sortKey($0, sortBy), resource: $0) }
            matched = keyed.sorted { a, b in
                switch (a.key, b.key) {
                case (nil, nil): return false
                case (nil, _): return false  // missing values sort last either way
                case (_, nil): return true
                case (let x?, let y?): return descending ? x > y : x < y
                }
            }.map(\.resource)
        }
        let window = matched.dropFirst(startIndex - 1).prefix(count)
        return SCIMRenderer.listResponse(window.map { projection.apply($0, type) }, total: matched.count, startIndex: startIndex)
    }

    /// A search of several resource types at once (POST `/.search`): each filtered by its own
    /// schema, Users before Groups, then paged together.
    func page(across sets: [([JSONValue], SCIMResourceType)]) throws(SCIMError) -> JSONValue {
        var matched: [(JSONValue, SCIMResourceType)] = []
        for (resources, type) in sets {
            let evaluator = SCIMFilterEvaluator(type)
            for resource in resources {
                if let filter, try !evaluator.matches(filter, resource) { continue }
                matched.append((resource, type))
            }
        }
        let window = matched.dropFirst(startIndex - 1).prefix(count)
        return SCIMRenderer.listResponse(window.map { projection.apply($0.0, $0.1) }, total: matched.count, startIndex: startIndex)
    }

    static func sortKey(_ resource: JSONValue, _ path: SCIMAttributePath) -> String? {
        guard case .object(let o) = resource, let value = SCIMJSON.value(at: path, in: o) else { return nil }
        switch value {
        case .string(let s): return s.lowercased()
        case .int(let i): return String(format: "%020lld", i)
        case .bool(let b): return b ? "1" : "0"
        case .array(let a):
            for case .object(let e) in a { if case .string(let v)? = e["value"] { return v.lowercased() } }
            return nil
        default: return nil
        }
    }
}
