import RampartCore

extension AuditExport {
    /// The format and filters of a new job, from the API's body, the console's form or the CLI: the
    /// streaming export's rules (a bundle takes no filters), with errors naming the field.
    public static func validate(format: String, action: String?, actor: String?, target: String?, since: String?,
                                until: String?) throws -> (Format, Filter) {
        guard let parsed = Format(rawValue: format) else {
            throw RampartError.invalidField("format", "must be one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        func text(_ name: String, _ value: String?) throws -> String? {
            guard let value, !value.isEmpty else { return nil }
            guard value.count <= 200 else { throw RampartError.invalidField(name, "must be at most 200 characters") }
            // No id, action or time holds one, and PostgreSQL's text holds no NUL.
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw RampartError.invalidField(name, "must not contain control characters")
            }
            return value
        }
        func time(_ name: String, _ value: String?) throws -> Timestamp? {
            guard let value = try text(name, value) else { return nil }
            return try Validate.time(value, field: name)
        }
        let filter = Filter(action: try text("action", action), actor: try text("actor", actor),
                                           target: try text("target", target), since: try time("since", since),
                                           until: try time("until", until))
        if parsed == .bundle, !filter.isEmpty {
            throw RampartError(.invalidField, bundleFilterRefused, field: "format")
        }
        return (parsed, filter)
    }
}
