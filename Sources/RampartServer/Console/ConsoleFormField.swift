import RampartCore

/// One text field of a console form: its form name, its label, and the API field its errors
/// name. A refused value is shown beside the field the error names (`RampartError.field`),
/// with every field refilled as it was typed; an error that names no field of the form is
/// shown above its button. Rendered by the `form-fields` partial.
struct ConsoleFormField {
    let name: String
    let label: String
    let apiName: String
    var type = "text"
    var required = false
    /// A textarea, for a list typed one item a line.
    var multiline = false

    /// The partial's values: `fields` as typed, and the error beside its field or as `formError`.
    static func values(_ fields: [ConsoleFormField], typed: [String: String], error: RampartError? = nil) -> [String: Any] {
        let owner = fields.first { error?.field != nil && $0.apiName == error?.field }
        let rows = fields.map { field -> [String: Any] in
            let message = owner?.name == field.name ? error?.message : nil
            return ["name": field.name, "label": field.label, "type": field.type, "required": field.required,
                    "multiline": field.multiline, "value": typed[field.name] ?? "", "error": message ?? "", "hasError": message != nil]
        }
        let formError = owner == nil ? error?.message : nil
        return ["fields": rows, "formError": formError ?? "", "hasFormError": formError != nil]
    }

    static let user = [ConsoleFormField(name: "email", label: "Email", apiName: "email", type: "email", required: true),
                       ConsoleFormField(name: "display_name", label: "Name", apiName: "displayName", required: true)]
    static let group = [ConsoleFormField(name: "name", label: "Name", apiName: "name", required: true),
                        ConsoleFormField(name: "description", label: "Description", apiName: "description")]
    static let product = [ConsoleFormField(name: "name", label: "Name", apiName: "name", required: true),
                          ConsoleFormField(name: "url", label: "URL", apiName: "url", type: "url", required: true)]
    /// As the audit page's filters are labelled.
    static let auditFilter = [ConsoleFormField(name: "name", label: "Name", apiName: "name", required: true),
                              ConsoleFormField(name: "q", label: "Search", apiName: "q"),
                              ConsoleFormField(name: "action", label: "Action", apiName: "action"),
                              ConsoleFormField(name: "actor", label: "Actor id", apiName: "actor"),
                              ConsoleFormField(name: "target", label: "Target id", apiName: "target"),
                              ConsoleFormField(name: "since", label: "Since", apiName: "since"),
                              ConsoleFormField(name: "until", label: "Until", apiName: "until")]
    static let domain = [ConsoleFormField(name: "domain", label: "Domain", apiName: "domain", required: true)]
    static let ingestionKey = [ConsoleFormField(name: "name", label: "Key name", apiName: "name", required: true)]
}
