import Foundation

extension Substring {
    /// The text without leading and trailing members of `set`: what `trimmingCharacters(in:)`
    /// returns, without its detour on Linux through NSString, UTF-16 and back, which cost a
    /// SCIM request more than reading its JSON body. Scans Unicode scalars; for the whitespace
    /// and newline sets, whose members are all single UTF-16 units, that trims exactly what
    /// Foundation trims (`StringTrimmingTests`).
    public func trimming(_ set: CharacterSet) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !set.contains($0) }),
              let last = scalars.lastIndex(where: { !set.contains($0) }) else { return "" }
        return String(Substring(scalars[first...last]))
    }
}

extension String {
    /// `Substring.trimming(_:)` of the whole string.
    public func trimming(_ set: CharacterSet) -> String { self[...].trimming(set) }
}
