import Foundation
import RampartCore
import RampartStorage
@testable import RampartServer
import Testing

/// The response encoder must write exactly what Foundation's JSONEncoder writes with the
/// options the API used before, except that an absent value is `null` instead of left out.
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

    @Test func usersWithRolesAndTimes() throws {
        let user = User(id: Identifier.make(), email: "ana@example.com", displayName: "Ana \"the\" Admin",
                        status: .active, roles: [.orgAdmin, .auditor], createdAt: .now(), lastActiveAt: .now())
        try expectSameAsFoundation(user)
        try expectSameAsFoundation(ListBody(data: [user, user]))
        // Timestamps are written without an encoder of their own, in every position.
        let times = [Timestamp(microseconds: 0), Timestamp(microseconds: 1_700_000_000_123_456)]
        try expectSameAsFoundation(times)
        try expectSameAsFoundation(["at": times[1]])
    }

    /// Every documented field is always there: what is absent is null, at any depth.
    @Test func absentValuesAreNullNotLeftOut() throws {
        func json(_ value: some Encodable) throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(JSONBodyEncoder.encode(value)))
            return object as? [String: Any] ?? [:]  // not an object: every expectation below fails
        }
        let user = User(id: Identifier.make(), email: "ana@example.com", displayName: "Ana", status: .active,
                        roles: [], createdAt: .now(), lastActiveAt: nil)
        #expect(try json(user)["lastActiveAt"] is NSNull)
        let token = APIToken(id: Identifier.make(), name: "ci", role: .auditor, createdAt: .now(), expiresAt: nil,
                             lastUsedAt: nil, revokedAt: nil)
        let tokenJSON = try json(token)
        #expect(["expiresAt", "lastUsedAt", "revokedAt"].allSatisfy { tokenJSON[$0] is NSNull })
        let page = try json(PageBody(items: [AuditActor(type: .system, id: nil, name: nil)]))
        #expect(page["nextCursor"] is NSNull)
        let actor = try #require((page["data"] as? [[String: Any]])?.first)
        #expect(Set(actor.keys) == ["type", "id", "name", "ip", "userAgent"])
        #expect(["id", "name", "ip", "userAgent"].allSatisfy { actor[$0] is NSNull })
        struct Numbers: Encodable { let a: Int?; let b: Double?; let c: Bool?; let d: [String?] }
        let numbers = try json(Numbers(a: nil, b: nil, c: nil, d: [nil, "x"]))
        #expect(["a", "b", "c"].allSatisfy { numbers[$0] is NSNull })
        #expect((numbers["d"] as? [Any])?.first is NSNull)
    }

    @Test func prettyOutputIsTheSameJSONForPeople() throws {
        let value = ["b": JSONValue.array([.int(1), .object([:])]), "a": .object(["k": .null]), "c": .array([])]
        let pretty = String(decoding: try JSONBodyEncoder.encode(value, pretty: true), as: UTF8.self)
        #expect(pretty == "{\n  \"a\": {\n    \"k\": null\n  },\n  \"b\": [\n    1,\n    {}\n  ],\n  \"c\": []\n}")
        let compact = try JSONBodyEncoder.encode(value)
        #expect(try JSONSerialization.jsonObject(with: Data(pretty.utf8)) as? NSDictionary
            == JSONSerialization.jsonObject(with: Data(compact)) as? NSDictionary)
    }

    @Test func escapesAndUnicode() throws {
        for text in ["plain", "quote \" backslash \\ slash /", "tab\tnew\nline\rret", "\u{01}\u{08}\u{0C}\u{1F}",
                     "é ß 日本 🔐", ""] {
            try expectSameAsFoundation(["text": text])
            try expectSameAsFoundation([text])
        }
    }

    @Test func nestingNumbersAndDictionaries() throws {
        let leaf = Nested(name: "leaf", count: -3, ratio: 0.25, flags: [], missing: "", children: [], tags: [:])
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

    /// A type that writes its own JSON (`JSONObjectWritable`) must write exactly what its
    /// `Encodable` gives through the containers: field names, order, nulls and escapes.
    @Test func typesThatWriteThemselvesMatchTheirEncodable() throws {
        func expectSame(_ value: some JSONObjectWritable, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let direct = String(decoding: try JSONBodyEncoder.encode(value), as: UTF8.self)
            let containers = String(decoding: try JSONBodyEncoder.encodeThroughContainers(value), as: UTF8.self)
            #expect(direct == containers, sourceLocation: sourceLocation)
        }
        let users = [
            User(id: Identifier.make(), email: "ana@example.com", displayName: "Ana", status: .active,
                 roles: [], createdAt: .now(), lastActiveAt: nil),
            User(id: Identifier.make(), email: "o'neil+x@example.com", displayName: "quote \" slash / tab\t \u{01} é 🔐",
                 status: .deactivated, roles: Role.allCases, createdAt: Timestamp(microseconds: 0),
                 lastActiveAt: Timestamp(microseconds: 1_700_000_000_123_456), managed: true),
        ]
        for user in users { try expectSame(user) }
        try expectSame(PageBody(Page(items: users, nextCursor: users[1].id)))
        try expectSame(PageBody(Page(items: [User](), nextCursor: nil)))
        try expectSame(EventsController.Answer(accepted: 1, duplicates: 1, events: [
            .init(idempotencyKey: "k-1 \"quoted\" é", sequence: 9_007_199_254_740_993, duplicate: false),
            .init(idempotencyKey: "k-0", sequence: -1, duplicate: true),
        ]))
        try expectSame(EventsController.Answer(accepted: 0, duplicates: 0, events: []))
        // The CLI's pretty output still goes through the containers, with the same content.
        let pretty = try JSONBodyEncoder.encode(users[1], pretty: true)
        #expect(try JSONSerialization.jsonObject(with: Data(pretty)) as? NSDictionary
            == JSONSerialization.jsonObject(with: Data(try JSONBodyEncoder.encode(users[1]))) as? NSDictionary)
    }
}
