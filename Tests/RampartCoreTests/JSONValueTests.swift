import RampartCore
import Testing

@Suite("Canonical JSON")
struct JSONValueTests {
    @Test func objectKeysAreSortedAtEveryLevel() {
        let value = JSONValue.object([
            "zeta": .int(1), "alpha": .object(["b": .bool(true), "a": .null, "B": .string("x")]),
            "mid": .array([.object(["y": .int(2), "x": .int(-3)])]),
        ])
        #expect(value.canonical == #"{"alpha":{"B":"x","a":null,"b":true},"mid":[{"x":-3,"y":2}],"zeta":1}"#)
    }

    @Test func canonicalFormIsIndependentOfInsertionOrder() {
        var first = AuditDetails()
        first["b"] = .int(2); first["a"] = .int(1)
        var second = AuditDetails()
        second["a"] = .int(1); second["b"] = .int(2)
        #expect(first.json.canonical == second.json.canonical)
        #expect(first.json.canonical == #"{"a":1,"b":2}"#)
    }

    @Test func stringsAreEscaped() {
        #expect(JSONValue.string("a\"b\\c").canonical == #""a\"b\\c""#)
        #expect(JSONValue.string("line\nreturn\rtab\t").canonical == #""line\nreturn\rtab\t""#)
        #expect(JSONValue.string("\u{0}\u{1}\u{1F}").canonical == #""\u0000\u0001\u001f""#)
        // The canonical form has no short escapes for backspace and form feed (API responses do).
        #expect(JSONValue.string("\u{8}\u{C}").canonical == #""\u0008\u000c""#)
        #expect(JSONValue.string("é €😀 /").canonical == "\"é €😀 /\"")
        #expect(JSONValue.object(["k\n\"": .null]).canonical == #"{"k\n\"":null}"#)
        #expect(JSONValue.string("\"both ends\\").canonical == #""\"both ends\\""#, "escapes first and last")
    }

    @Test func scalarsAndEmptyContainers() {
        #expect(JSONValue.null.canonical == "null")
        #expect(JSONValue.bool(false).canonical == "false")
        #expect(JSONValue.int(Int64.min).canonical == "-9223372036854775808")
        #expect(JSONValue.array([]).canonical == "[]")
        #expect(JSONValue.object([:]).canonical == "{}")
        #expect(JSONValue(nil as String?) == .null)
        #expect(JSONValue("x") == .string("x"))
    }

    static let samples: [JSONValue] = [
        .null, .bool(true), .int(0), .int(-42), .int(Int64.max), .string(""), .string("tab\tquote\"nul\u{0}é😀"),
        .array([.int(1), .string("two"), .null, .array([])]),
        .object(["changes": .object(["email": .object(["before": .string("a@x.io"), "after": .string("b@x.io")])]),
                 "flag": .bool(false), "list": .array([.int(3), .object([:])])]),
    ]

    @Test("Canonical text parses back to the same value", arguments: samples)
    func roundTripsThroughParse(_ value: JSONValue) throws {
        let parsed = try #require(JSONValue.parse(value.canonical))
        #expect(parsed == value)
        #expect(parsed.canonical == value.canonical)
    }

    @Test func parsingNonCanonicalTextCanonicalises() throws {
        let parsed = try #require(JSONValue.parse(#" { "b" : [ 1 , true ] , "a" : "\u00e9\n" } "#))
        #expect(parsed == .object(["a": .string("é\n"), "b": .array([.int(1), .bool(true)])]))
        #expect(parsed.canonical == #"{"a":"é\n","b":[1,true]}"#)
    }

    @Test func malformedTextDoesNotParse() {
        for text in ["", "{", "{\"a\":}", "[1 2]", "nul", "{'a':1}", "\"unterminated"] {
            #expect(JSONValue.parse(text) == nil, "parsed \(text)")
        }
    }

    @Test func detailsRecordOnlyRealChanges() {
        var details = AuditDetails()
        details.change("name", from: .string("A"), to: .string("A"))
        #expect(!details.hasChanges)
        details.change("name", from: .string("A"), to: .string("B"))
        details.change("email", from: .string("a@x.io"), to: .string("b@x.io"))
        #expect(details.hasChanges)
        #expect(details.json.canonical
            == #"{"changes":{"email":{"after":"b@x.io","before":"a@x.io"},"name":{"after":"B","before":"A"}}}"#)
    }
}

@Suite("Canonical arrays of sorted objects")
struct CanonicalSortedObjectsTests {
    @Test func matchesTheGeneralCanonicalForm() {
        let objects: [[(key: String, value: JSONValue)]] = [
            [("id", .string("a\"1")), ("name", .null), ("type", .string("user"))],
            [("id", .string("é/\n")), ("name", .string("Ana")), ("type", .string("group"))],
            [],
        ]
        let general = JSONValue.array(objects.map { .object(Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) })) })
        #expect(JSONValue.canonicalArray(ofSortedObjects: objects) == general.canonical)
        #expect(JSONValue.canonicalArray(ofSortedObjects: []) == "[]")
    }
}
