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
        return hay.withUTF8 { hay in needle.withUTF8 { hay.firstIndex(of: $0, from: 0) != nil } }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Where `needle` next occurs at or after `start`, by byte; an empty needle occurs at `start`.
    func firstIndex(of needle: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = needle.first else { return start }
        guard count >= needle.count, start <= count - needle.count else { return nil }
        for index in start...(count - needle.count) where self[index] == first {
            if UnsafeBufferPointer(rebasing: self[index..<index + needle.count]).elementsEqual(needle) { return index }
        }
        return nil
    }
}
