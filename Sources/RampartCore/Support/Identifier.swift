import Foundation

/// Identifiers are time-ordered UUIDs (version 7, RFC 9562) rendered lowercase, so that
/// ordering by id is ordering by creation and keyset pagination needs no second column.
///
/// Ids are checked and rendered byte by byte: every request parses at least two of them.
public enum Identifier {
    public static func make(at date: Date = Date()) -> String {
        make(at: date, random: SystemRandom.bytes(16)[...])
    }

    /// An id made of `random`'s 16 bytes, for batches that draw them from a `RandomBytePool`.
    static func make(at date: Date, random: ArraySlice<UInt8>) -> String {
        var bytes = Array(random)
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - UInt64(i)))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return render(bytes)
    }

    /// Accepts any UUID spelling (either case, with dashes) and returns the canonical
    /// lowercase form, or nil.
    public static func canonical(_ text: String) -> String? {
        let utf8 = text.utf8
        guard utf8.count == 36 else { return nil }
        var uppercase = false
        for (index, byte) in utf8.enumerated() {
            if isDashPosition(index) {
                guard byte == UInt8(ascii: "-") else { return nil }
            } else {
                guard let digit = lowercaseHex(byte) else { return nil }
                uppercase = uppercase || digit != byte
            }
        }
        // Ids arrive canonical almost always; then the string given is the answer.
        guard uppercase else { return text }
        return String(decoding: utf8.map { lowercaseHex($0) ?? $0 }, as: UTF8.self)
    }

    /// The 32 hex digits of an id without dashes, as embedded in credentials.
    public static func compact(_ id: String) -> String {
        String(decoding: id.utf8.filter { $0 != UInt8(ascii: "-") }, as: UTF8.self)
    }

    public static func expand(compact: some StringProtocol) -> String? {
        guard compact.utf8.count == 32 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(36)
        for byte in compact.utf8 {
            guard let digit = lowercaseHex(byte) else { return nil }
            if isDashPosition(out.count) { out.append(UInt8(ascii: "-")) }
            out.append(digit)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isDashPosition(_ index: Int) -> Bool { index == 8 || index == 13 || index == 18 || index == 23 }

    private static func lowercaseHex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): return byte
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte + 32
        default: return nil
        }
    }

    private static func render(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(lowercaseHexDigits[Int(byte >> 4)])
            out.append(lowercaseHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
