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
    public func adding(days: Int) -> Timestamp { adding(seconds: Double(days) * 86_400) }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// RFC 3339 with milliseconds in UTC, the API's time format. Written digit by digit
    /// (days to civil date as in Hinnant's chrono algorithms): it runs for every time in every response.
    public var rfc3339: String {
        let millis = floorDiv(microseconds, 1000)
        let days = floorDiv(millis, 86_400_000)
        let msOfDay = millis - days * 86_400_000
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        var out = [UInt8]()
        out.reserveCapacity(24)
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            for _ in 0..<width {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); out.append(UInt8(ascii: "-")); digits(month, 2); out.append(UInt8(ascii: "-")); digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2); out.append(UInt8(ascii: ":"))
        digits(msOfDay / 60_000 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(msOfDay / 1000 % 60, 2); out.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses RFC 3339 date-times ("2026-11-27T08:00:00Z", with optional fraction and offset).
    /// Read byte by byte: every event a product sends carries one, a thousand to a request.
    public init?(rfc3339 text: String) {
        var text = text
        guard let micros = text.withUTF8({ Self.parse($0) }) else { return nil }
        self.microseconds = micros
    }

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        func number(_ at: Int, _ width: Int) -> Int64? {
            guard at + width <= b.count else { return nil }
            var value: Int64 = 0
            for i in at..<(at + width) {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { return nil }
                value = value * 10 + Int64(b[i] - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ at: Int, _ allowed: String) -> Bool { at < b.count && allowed.utf8.contains(b[at]) }
        guard let y = number(0, 4), byte(4, "-"), let mo = number(5, 2), byte(7, "-"), let d = number(8, 2),
              byte(10, "Tt "), let h = number(11, 2), byte(13, ":"), let mi = number(14, 2), byte(16, ":"),
              let s = number(17, 2), (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), h < 24, mi < 60, s < 60
        else { return nil }
        var micros = (daysSinceEpoch(year: y, month: mo, day: d) * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000
        var at = 19
        if byte(at, ".") {
            at += 1
            var digits = 0, fraction: Int64 = 0
            while at < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[at]) {
                if digits < 6 { fraction = fraction * 10 + Int64(b[at] - UInt8(ascii: "0")) }
                digits += 1; at += 1
            }
            guard (1...9).contains(digits) else { return nil }
            if digits < 6 { for _ in digits..<6 { fraction *= 10 } }
            micros += fraction
        }
        if byte(at, "Zz") {
            at += 1
        } else {
            guard byte(at, "+-"), let oh = number(at + 1, 2), byte(at + 3, ":"), let om = number(at + 4, 2), oh < 24, om < 60
            else { return nil }
            micros -= (b[at] == UInt8(ascii: "-") ? -1 : 1) * (oh * 3600 + om * 60) * 1_000_000
            at += 6
        }
        return at == b.count ? micros : nil
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

private func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

private func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date: the inverse of `civilDate`.
private func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = floorDiv(y, 400)
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// Year, month and day of the proleptic Gregorian calendar for days since 1970-01-01.
private func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = daysSinceEpoch + 719_468
    let era = floorDiv(z, 146_097)
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}
