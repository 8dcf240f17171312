import Foundation
import RampartCore
import Testing

/// `JSONValue.decode` reads request bodies and stored attributes without `JSONDecoder`'s
/// type guessing; it must give the same value, and fail on the same text, as `JSONDecoder`.
@Suite("JSONValue decoding")
struct JSONValueDecodingTests {
    private func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    private func fast(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { try? JSONValue.decode($0) }
    }

    @Test func nestedContainersAndScalars() throws {
        let text = #" { "a" : [1, -2, [true, false, null], {"b": {"c": []}}], "d": {}, "e": "x" } "#
        #expect(try JSONValue.decode(text) == .object([
            "a": .array([.int(1), .int(-2), .array([.bool(true), .bool(false), .null]),
                         .object(["b": .object(["c": .array([])])])]),
            "d": .object([:]), "e": .string("x"),
        ]))
        #expect(try JSONValue.decode("null") == .null)
        #expect(try JSONValue.decode("\t\r\n true \n") == .bool(true))
    }

    @Test func numbers() throws {
        #expect(try JSONValue.decode("0") == .int(0))
        #expect(try JSONValue.decode("-0") == .int(0))
        #expect(try JSONValue.decode("9223372036854775807") == .int(.max))
        #expect(try JSONValue.decode("-9223372036854775808") == .int(.min))
        // Beyond 64 bits, and fractions, keep the spelling JSONDecoder's Double gives them.
        #expect(try JSONValue.decode("9223372036854775808") == .string("9.223372036854776e+18"))
        #expect(try JSONValue.decode("12345678901234567890") == .string("1.2345678901234567e+19"))
        #expect(try JSONValue.decode("1.5") == .string("1.5"))
        #expect(try JSONValue.decode("[1.0, 1e2, -1.5e3]") == .array([.int(1), .int(100), .int(-1500)]))
        #expect(throws: (any Error).self) { try JSONValue.decode("1e400") }
        #expect(throws: (any Error).self) { try JSONValue.decode("01") }
        #expect(throws: (any Error).self) { try JSONValue.decode("-") }
    }

    @Test func stringsThatLookLikeOtherTypesStayStrings() throws {
        #expect(try JSONValue.decode(#"["123", "-1.5", "true", "null", ""]"#)
            == .array([.string("123"), .string("-1.5"), .string("true"), .string("null"), .string("")]))
    }

    @Test func escapesAndUnicode() throws {
        #expect(try JSONValue.decode(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try JSONValue.decode(#""\u00e9\u00C9 \ud83d\ude00 \u0000""#) == .string("éÉ 😀 \u{0}"))
        #expect(try JSONValue.decode("\"é😀\"") == .string("é😀"))
        #expect(try JSONValue.decode(#"{"k\u0041": 1}"#) == .object(["kA": .int(1)]))
        for bad in [#""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\x""#, #""\U0041""#, "\"a\u{1}b\"", #""open"#] {
            #expect(throws: (any Error).self, "\(bad)") { try JSONValue.decode(bad) }
        }
        #expect(fast([0x22, 0xC3, 0x22]) == nil, "truncated UTF-8")
        #expect(fast([0x22, 0xC0, 0x80, 0x22]) == nil, "overlong UTF-8")
    }

    @Test func repeatedKeysKeepTheFirst() throws {
        #expect(try JSONValue.decode(#"{"a": 1, "a": 2, "b": 3}"#) == .object(["a": .int(1), "b": .int(3)]))
    }

    @Test func nestingIsLimitedLikeJSONDecoder() {
        let deep = { (n: Int) in Array(String(repeating: "[", count: n) + String(repeating: "]", count: n)).map { UInt8($0.asciiValue!) } }
        #expect(fast(deep(500)) != nil)
        #expect(fast(deep(512)) == foundation(deep(512)))
        #expect(fast(deep(600)) == nil)
    }

    /// Valid, lenient and invalid text alike: the answer is JSONDecoder's.
    @Test func agreesWithJSONDecoder() {
        let texts: [String] = [
            "{}", "[]", #"{"a":1 , "b" : [ true , null ] }"#, "[1,]", #"{"a":1,}"#, "[,]", "[1,,]", "{,}",
            "\u{FEFF}true", "\u{FEFF}", "1\u{0}", "[1]x", "[1]]", #"{"a":1}{"#, #"{"a":}"#, #"{1:2}"#, #"{"a" 1}"#,
            "[1 2]", "nul", "truee", "nulll", "NaN", "Infinity", "+1", ".5", "1.", "1e", "1.5e+", "0x10", "-00", "", "  ",
            "0.1e1", "100e-2", "123e-2", "-1e-400", "5e-324", "1e19", "1e22", "9.2e18", "9007199254740993.0",
            "-9223372036854775809", "0.30000000000000004", "4.0000000000000001", "-0.0", "\u{7F}", "\"\u{7F}\u{FFFF}\"",
            #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u@x.test","name":{"givenName":"U"},"active":true,"emails":[{"value":"u@x.test","primary":true}]}"#,
        ]
        for text in texts {
            let bytes = Array(text.utf8)
            #expect(fast(bytes) == foundation(bytes), "\(text.debugDescription)")
        }
        for bytes: [UInt8] in [[0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x0C, 0x31], [0x31, 0x00, 0x31]] {
            #expect(fast(bytes) == foundation(bytes), "\(bytes)")
        }
    }
}
