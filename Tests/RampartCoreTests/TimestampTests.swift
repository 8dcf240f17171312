import Foundation
import RampartCore
import Testing

@Suite("Timestamps (RFC 3339)")
struct TimestampTests {
    /// 2026-11-27T08:00:00Z, computed independently (Python's datetime).
    static let reference: Int64 = 1_795_766_400 * 1_000_000

    @Test func parsesUTC() throws {
        let t = try #require(Timestamp(rfc3339: "2026-11-27T08:00:00Z"))
        #expect(t.microseconds == Self.reference)
        #expect(Timestamp(rfc3339: "2026-11-27t08:00:00z")?.microseconds == Self.reference)
        #expect(Timestamp(rfc3339: "2026-11-27 08:00:00Z")?.microseconds == Self.reference)
    }

    @Test func formatsWithMillisecondsInUTC() {
        #expect(Timestamp(microseconds: Self.reference).rfc3339 == "2026-11-27T08:00:00.000Z")
        #expect(Timestamp(microseconds: Self.reference + 123_999).rfc3339 == "2026-11-27T08:00:00.123Z")
        #expect(Timestamp(microseconds: 1_709_210_096 * 1_000_000).rfc3339 == "2024-02-29T12:34:56.000Z")
        #expect(Timestamp(microseconds: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
    }

    @Test("Format then parse gives the same instant", arguments: [
        Int64(0), 1_795_766_400_000_000, 1_795_766_400_123_000, 1_709_210_096_999_000, 4_102_444_799_001_000,
    ])
    func roundTrip(_ microseconds: Int64) throws {
        let t = Timestamp(microseconds: microseconds)
        let parsed = try #require(Timestamp(rfc3339: t.rfc3339))
        #expect(parsed == t)
    }

    @Test(arguments: [
        ("2026-11-27T10:00:00+02:00", reference),
        ("2026-11-27T02:30:00-05:30", reference),
        ("2026-11-27T08:00:00+00:00", reference),
        ("2026-11-28T01:00:00+17:00", reference),
        ("2026-11-26T23:00:00-09:00", reference),
    ])
    func offsetsAreNormalisedToUTC(_ text: String, _ expected: Int64) throws {
        let t = try #require(Timestamp(rfc3339: text))
        #expect(t.microseconds == expected)
        #expect(t.rfc3339 == "2026-11-27T08:00:00.000Z")
    }

    @Test(arguments: [
        ("2026-11-27T08:00:00.5Z", reference + 500_000),
        ("2026-11-27T08:00:00.123Z", reference + 123_000),
        ("2026-11-27T08:00:00.123456Z", reference + 123_456),
        ("2026-11-27T08:00:00.123456789Z", reference + 123_456),
        ("2026-11-27T10:00:00.000001+02:00", reference + 1),
    ])
    func fractionsKeepMicroseconds(_ text: String, _ expected: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == expected)
    }

    @Test func leapDayOnlyInLeapYears() {
        let leapDay: Int64 = 1_709_210_096_000_000
        #expect(Timestamp(rfc3339: "2024-02-29T12:34:56Z")?.microseconds == leapDay)
        #expect(Timestamp(rfc3339: "2025-02-29T00:00:00Z") == nil)
    }

    @Test("Invalid date-times are rejected", arguments: [
        "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z", "2026-01-01T25:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T12:60:00Z",
        "2026-01-01T12:00:61Z", "2026-01-01T12:00:00", "2026-01-01T12:00:00+2:00", "2026-01-01T12:00:00+24:00",
        "2026-01-01T12:00:00+02:60", "2026-01-01", "12:00:00Z", "garbage", "", " 2026-01-01T12:00:00Z",
        "2026-01-01T12:00:00Z ", "2026-01-01T12:00:00.Z", "2026-1-01T12:00:00Z", "20260101T120000Z",
    ])
    func invalidDateTimesAreNil(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func codableUsesRFC3339() throws {
        let t = Timestamp(microseconds: Self.reference + 250_000)
        let json = String(decoding: try JSONEncoder().encode([t]), as: UTF8.self)
        #expect(json == #"["2026-11-27T08:00:00.250Z"]"#)
        #expect(try JSONDecoder().decode([Timestamp].self, from: Data(json.utf8)) == [t])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Timestamp].self, from: Data(#"["2026-02-30T00:00:00Z"]"#.utf8)) }
    }

    @Test func orderingFollowsTime() {
        let a = Timestamp(microseconds: 1), b = a.adding(seconds: 1.5)
        #expect(a < b)
        #expect(b.microseconds == 1_500_001)
    }
}
