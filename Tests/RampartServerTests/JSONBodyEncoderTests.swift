import Foundation
import RampartCore
@testable import RampartServer
import Testing

/// The response encoder must write exactly what Foundation's JSONEncoder writes with the
/// options the API used before: clients and the OpenAPI document see no difference.
@Suite("Response JSON encoder")
struct JSONBodyEncoderTests {
    static let reference: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func expectSameAsFoundation(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ours = String(decoding: try JSONBodyEncoder.encode(value), as: UTF8.self)
        let theirs = String(decoding: try Self.reference.encode(value), as: UTF8.self)
        #expect(ours == theirs, sourceLocation: sourceLocation)
    }

    struct Nested: Encodable {
        let name: String
        let count: Int
        let ratio: Double
        let flags: [Bool]
        let missing: String?
        let children: [Nested]
        let tags: [String: Int]
    }

    @Test func usersWithNullsRolesAndTimes() throws {
        let user = User(id: Identifier.make(), email: "ana@example.com", displayName: "Ana \"the\" Admin",
                        status: .active, roles: [.orgAdmin, .auditor], createdAt: .now(), lastActiveAt: nil)
        try expectSameAsFoundation(user)
        try expectSameAsFoundation(PageBody(items: [user, user]))
        try expectSameAsFoundation(PageBody<User>(items: []))
    }

    @Test func escapesAndUnicode() throws {
        for text in ["plain", "quote \" backslash \\ slash /", "tab\tnew\nline\rret", "\u{01}\u{08}\u{0C}\u{1F}",
                     "é ß 日本 🔐", ""] {
            try expectSameAsFoundation(["text": text])
            try expectSameAsFoundation([text])
        }
    }

    @Test func nestingNumbersAndDictionaries() throws {
        let leaf = Nested(name: "leaf", count: -3, ratio: 0.25, flags: [], missing: nil, children: [], tags: [:])
        let root = Nested(name: "root", count: Int.max, ratio: 2, flags: [true, false], missing: "here",
                          children: [leaf, leaf], tags: ["z": 1, "a": 2, "m": 3])
        try expectSameAsFoundation(root)
        try expectSameAsFoundation(["b": ["y": 1, "x": 2], "a": [:]])
        try expectSameAsFoundation(JSONValue.object(["k": .array([.null, .bool(true), .int(7), .string("s")])]))
    }

    @Test func nonFiniteNumbersAreRefusedNamingWhere() {
        struct Inner: Encodable { let ratio: Double }
        struct Outer: Encodable { let items: [Inner] }
        let error = #expect(throws: EncodingError.self) {
            try JSONBodyEncoder.encode(Outer(items: [Inner(ratio: 1), Inner(ratio: .infinity)]))
        }
        guard case .invalidValue(_, let context) = error else { Issue.record("not an invalid value: \(String(describing: error))"); return }
        #expect(context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == ["items", "1", "ratio"])
        #expect(throws: EncodingError.self) { try JSONBodyEncoder.encode(["x": Double.nan]) }
    }
}
