import Foundation

/// Identifiers are time-ordered UUIDs (version 7, RFC 9562) rendered lowercase, so that
/// ordering by id is ordering by creation and keyset pagination needs no second column.
public enum Identifier {
    public static func make(at date: Date = Date()) -> String {
        // Two 64-bit draws rather than sixteen byte-sized ones: each draw is a system call.
        var rng = SystemRandomNumberGenerator()
        let high = rng.next() as UInt64, low = rng.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: high >> (8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (8 * UInt64(i)))
        }
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - UInt64(i)))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }

    /// Accepts any UUID spelling and returns the canonical lowercase form, or nil.
    public static func canonical(_ text: String) -> String? {
        UUID(uuidString: text).map { $0.uuidString.lowercased() }
    }

    /// The 32 hex digits of an id without dashes, as embedded in credentials.
    public static func compact(_ id: String) -> String {
        id.replacingOccurrences(of: "-", with: "")
    }

    public static func expand(compact: String) -> String? {
        guard compact.count == 32, compact.allSatisfy({ $0.isHexDigit }) else { return nil }
        let c = Array(compact.lowercased())
        let parts = [c[0..<8], c[8..<12], c[12..<16], c[16..<20], c[20..<32]].map { String($0) }
        return canonical(parts.joined(separator: "-"))
    }
}
