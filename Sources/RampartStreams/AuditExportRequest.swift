import RampartCore

extension AuditExport {
    /// The format and filters of a new job, from the API's body, the console's form or the CLI: the
    /// streaming export's rules (a bundle takes no filters), with errors naming the field.
    /// `q` is checked as the list's search words are, with the same messages.
    public static func validate(format: String, action: String?, actor: String?, target: String?, since: String?,
                                until: String?, q: String?) throws -> (Format, Filter) {
        guard let parsed = Format(rawValue: format) else {
            throw RampartError.invalidField("format", "must be one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // No id, action, time or search word holds one, and PostgreSQL's text holds no NUL.
        func refuseControlCharacters(_ name: String, _ value: String) throws {
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw RampartError.invalidField(name, "must not contain control characters")
            }
        }
        func text(_ name: String, _ value: String?) throws -> String? {
            guard let value, !value.isEmpty else { return nil }
            guard value.count <= 200 else { throw RampartError.invalidField(name, "must be at most 200 characters") }
            try refuseControlCharacters(name, value)
            return value
        }
        func search(_ value: String?) throws -> AuditSearchText? {
            guard let value else { return nil }
            try refuseControlCharacters("q", value)
            return try AuditSearchText.field(value)
        }
        func time(_ name: String, _ value: String?) throws -> Timestamp? {
            guard let value = try text(name, value) else { return nil }
            return try Validate.time(value, field: name)
        }
        let filter = Filter(action: try text("action", action), actor: try text("actor", actor),
                                           target: try text("target", target), since: try time("since", since),
                                           until: try time("until", until), search: try search(q))
        // Spaces alone are no search, but a bundle is refused them too: its request says it takes no words.
        if parsed == .bundle, !filter.isEmpty || !(q ?? "").isEmpty {
            throw RampartError(.invalidField, bundleFilterRefused, field: "format")
        }
        return (parsed, filter)
    }
}
