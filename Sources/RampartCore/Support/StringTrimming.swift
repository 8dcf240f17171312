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

extension String {
    /// Whether `needle`'s UTF-8 bytes occur in this string's: `contains(_:)` for a
    /// `StringProtocol` goes through Foundation's `range(of:)`, and on Linux through NSString and
    /// UTF-16, which was an eighth of an audit export's CPU. Byte equality, so no Unicode
    /// normalisation: meant for ASCII markers in JSON the log wrote itself.
    /// Read in place (`withUTF8`), not copied into an array first.
    public func containsBytes(_ needle: String) -> Bool {
        var hay = self, needle = needle
        return hay.withUTF8 { hay in
            needle.withUTF8 { bytes in
                guard let first = bytes.first else { return true }
                guard hay.count >= bytes.count else { return false }
                for start in 0...(hay.count - bytes.count) where hay[start] == first {
                    if UnsafeBufferPointer(rebasing: hay[start..<start + bytes.count]).elementsEqual(bytes) { return true }
                }
                return false
            }
        }
    }
}
