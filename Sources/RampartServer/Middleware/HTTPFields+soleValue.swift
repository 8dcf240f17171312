import HTTPTypes

extension HTTPFields {
    /// The value of a field sent exactly once; nil when it is absent or repeated.
    ///
    /// For fields that must not repeat (`Authorization`, `X-Request-Id`), and cheaper than
    /// `headers[name]`, which joins every value of the name into a new string.
    func soleValue(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return nil }
            found = field.value
        }
        return found
    }
}
