import Foundation

/// Times are stored as integer microseconds since the Unix epoch: exact, identical on
/// SQLite and PostgreSQL, and stable inside the audit hash.
public struct Timestamp: Hashable, Comparable, Sendable, Codable {
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }
    public init(_ date: Date) { self.microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    public static func now() -> Timestamp { Timestamp(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }
    public func adding(seconds: Double) -> Timestamp { Timestamp(microseconds: microseconds + Int64(seconds * 1_000_000)) }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// RFC 3339 with milliseconds in UTC, the API's time format.
    public var rfc3339: String {
        let millis = microseconds / 1000
        let seconds = floorDiv(millis, 1000)
        let fraction = millis - seconds * 1000
        var tm = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
                      Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), Int(fraction))
    }

    /// Parses RFC 3339 date-times ("2026-11-27T08:00:00Z", with optional fraction and offset).
    public init?(rfc3339 text: String) {
        let pattern = #"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"#
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        func group(_ i: Int) -> String? {
            guard let r = Range(m.range(at: i), in: text) else { return nil }
            return String(text[r])
        }
        guard let y = Int(group(1)!), let mo = Int(group(2)!), let d = Int(group(3)!),
              let h = Int(group(4)!), let mi = Int(group(5)!), let s = Int(group(6)!),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        components.year = y; components.month = mo; components.day = d
        components.hour = h; components.minute = mi; components.second = s
        guard let date = components.date, components.isValidDate else { return nil }
        var micros = Int64(date.timeIntervalSince1970) * 1_000_000
        if let fraction = group(7) {
            let digits = String(fraction.dropFirst().prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)
            micros += Int64(digits)!
        }
        let zone = group(8)!
        if zone != "Z" && zone != "z" {
            let sign: Int64 = zone.hasPrefix("-") ? -1 : 1
            let parts = zone.dropFirst().split(separator: ":")
            guard let oh = Int64(parts[0]), let om = Int64(parts[1]), oh < 24, om < 60 else { return nil }
            micros -= sign * (oh * 3600 + om * 60) * 1_000_000
        }
        self.microseconds = micros
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rfc3339)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let t = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an RFC 3339 date-time")
        }
        self = t
    }
}

private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}
