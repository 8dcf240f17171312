import Hummingbird
import RampartCore
import RampartStorage

/// Query and path parameters, checked the same way everywhere.
extension Request {
    /// An empty value means "no filter": a console form submits every field, filled or not.
    func query(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let value = queryValue(name), !value.isEmpty else { return nil }
        guard value.count <= maxLength else {
            throw RampartError(.invalidParameter, "Query parameter '\(name)' must be at most \(maxLength) characters.")
        }
        // No id, email, action or search word holds one, and PostgreSQL's text holds no NUL:
        // refused here, for every parameter, rather than failing in the database.
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RampartError(.invalidParameter, "Query parameter '\(name)' must not contain control characters.")
        }
        return value
    }

    /// A query value decoded as HTML forms encode it (`+` is a space, RFC 1866 §8.2.1);
    /// Hummingbird's own query parser keeps the `+`.
    func queryValue(_ name: String) -> String? {
        guard let raw = uri.query, !raw.isEmpty else { return nil }
        return ConsoleForm.parse(raw)[name]
    }

    /// `limit` (1…200, default 50) and an id `cursor` from a previous page.
    func pageRequest() throws -> PageRequest {
        PageRequest(after: try idCursor(), limit: try limit())
    }

    func limit() throws -> Int {
        guard let raw = try query("limit", maxLength: 10) else { return 50 }
        guard let limit = Int(raw), PageRequest.limits.contains(limit) else {
            throw RampartError(.invalidParameter, "Query parameter 'limit' must be an integer from \(PageRequest.limits.lowerBound) to \(PageRequest.limits.upperBound).")
        }
        return limit
    }

    private func idCursor() throws -> String? {
        guard let raw = try query("cursor") else { return nil }
        guard let id = Identifier.canonical(raw) else { throw Self.badCursor }
        return id
    }

    /// A yes/no query parameter: `true` or `false`; absent or empty is false.
    func flag(_ name: String) throws -> Bool {
        switch try query(name, maxLength: 5) {
        case nil, "false": return false
        case "true": return true
        default: throw RampartError(.invalidParameter, "Query parameter '\(name)' must be true or false.")
        }
    }

    static let badCursor = RampartError(.invalidParameter, "Query parameter 'cursor' is not a cursor from a previous page.")

    func timestamp(_ name: String) throws -> Timestamp? {
        guard let raw = try query(name, maxLength: 64) else { return nil }
        guard let time = Timestamp(rfc3339: raw) else {
            throw RampartError(.invalidParameter, "Query parameter '\(name)' must be an RFC 3339 date-time such as 2026-11-27T08:00:00Z.")
        }
        return time
    }
}

extension RampartRequestContext {
    /// From whichever router matched: `APIRouter` for the admin API, Hummingbird's for the console.
    func pathParameter(_ name: String) -> String? {
        pathParameters[name] ?? parameters.get(name)
    }

    /// A path id; anything that is not an id cannot name a resource.
    func id(_ name: String = "id") throws -> String {
        guard let raw = pathParameter(name), let id = Identifier.canonical(raw) else {
            throw RampartError(.invalidParameter, "Path parameter '\(name)' must be an id (a UUID).")
        }
        return id
    }

    func role(_ name: String = "role") throws -> Role {
        guard let raw = pathParameter(name), let role = Role(rawValue: raw) else {
            throw RampartError(.invalidParameter, "Path parameter '\(name)' must be one of org-admin, user-admin, auditor.")
        }
        return role
    }
}
