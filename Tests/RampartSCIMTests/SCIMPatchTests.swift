import RampartCore
import RampartSCIM
import Testing

@Suite("SCIM PATCH")
struct SCIMPatchTests {
    static let user = JSONValue.parse("""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"ada@example.com",
         "active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},
         "emails":[{"value":"ada@example.com","type":"work","primary":true}]}
        """)!

    static func patch(_ body: String, _ resource: JSONValue = user, _ type: SCIMResourceType = .user) throws -> JSONValue {
        try SCIMPatcher(type).apply(try SCIMPatchRequest.parse(JSONValue.parse(body)!), to: resource)
    }

    static func field(_ v: JSONValue, _ keys: String...) -> JSONValue? {
        var current: JSONValue? = v
        for key in keys {
            guard case .object(let o)? = current else { return nil }
            current = o[key]
        }
        return current
    }

    static func failure(_ body: String, _ resource: JSONValue = user, _ type: SCIMResourceType = .user) -> SCIMError? {
        do { _ = try patch(body, resource, type); return nil } catch let error as SCIMError { return error } catch { return nil }
    }

    static func ops(_ ops: String) -> String {
        #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":["# + ops + "]}"
    }

    @Test func replacesWithAndWithoutPath() throws {
        var r = try Self.patch(Self.ops(#"{"op":"replace","path":"name.givenName","value":"Augusta"}"#))
        #expect(Self.field(r, "name", "givenName") == .string("Augusta"))
        #expect(Self.field(r, "name", "familyName") == .string("Lovelace"), "sub-attributes not named are kept")
        r = try Self.patch(Self.ops(#"{"op":"replace","value":{"active":false,"displayName":"A. L."}}"#))
        #expect(Self.field(r, "active") == .bool(false))
        #expect(Self.field(r, "displayName") == .string("A. L."))
    }

    @Test func acceptsEntraDialect() throws {
        // Capitalised op, booleans as strings, dotted keys and an extension URN key in a path-less replace.
        let r = try Self.patch(Self.ops("""
            {"op":"Replace","value":{"active":"False","name.familyName":"King",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Analytics"}},
            {"op":"Add","path":"emails[type eq \\"home\\"].value","value":"ada@home.example"}
            """))
        #expect(Self.field(r, "active") == .bool(false))
        #expect(Self.field(r, "name", "familyName") == .string("King"))
        #expect(Self.field(r, SCIMSchema.enterpriseUserID, "department") == .string("Analytics"))
        guard case .array(let emails)? = Self.field(r, "emails") else { Issue.record("no emails"); return }
        #expect(emails.count == 2)
        #expect(emails.contains(.object(["type": .string("home"), "value": .string("ada@home.example")])))
    }

    @Test func extensionObjectInPathlessAdd() throws {
        let r = try Self.patch(Self.ops("""
            {"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42"}}}
            """))
        #expect(Self.field(r, SCIMSchema.enterpriseUserID, "employeeNumber") == .string("42"))
    }

    @Test func filteredPathsReplaceAndRemoveMatchingElements() throws {
        var r = try Self.patch(Self.ops(#"{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@new.example"}"#))
        #expect(Self.field(r, "emails") == .array([.object(["value": .string("a@new.example"), "type": .string("work"),
                                                            "primary": .bool(true)])]))
        r = try Self.patch(Self.ops(#"{"op":"remove","path":"emails[type eq \"work\"]"}"#))
        #expect(Self.field(r, "emails") == nil)
        #expect(Self.failure(Self.ops(#"{"op":"remove","path":"emails[type eq \"home\"]"}"#))?.kind == .noTarget)
    }

    static let group = JSONValue.parse(#"{"id":"g1","displayName":"Ops","members":[{"value":"u1"},{"value":"u2"},{"value":"u3"}]}"#)!

    @Test func groupMembersAddAndRemoveInEveryDialect() throws {
        var r = try Self.patch(Self.ops(#"{"op":"add","path":"members","value":[{"value":"u4"},{"value":"u1"}]}"#), Self.group, .group)
        #expect(Self.field(r, "members") == .array(["u1", "u2", "u3", "u4"].map { .object(["value": .string($0)]) }),
                "adding an existing member keeps one copy")
        r = try Self.patch(Self.ops(#"{"op":"remove","path":"members[value eq \"u2\"]"}"#), Self.group, .group)
        #expect(Self.field(r, "members") == .array(["u1", "u3"].map { .object(["value": .string($0)]) }))
        // Entra ID: removal by a value array.
        r = try Self.patch(Self.ops(#"{"op":"Remove","path":"members","value":[{"value":"u1"},{"value":"u3"}]}"#), Self.group, .group)
        #expect(Self.field(r, "members") == .array([.object(["value": .string("u2")])]))
        r = try Self.patch(Self.ops(#"{"op":"remove","path":"members"}"#), Self.group, .group)
        #expect(Self.field(r, "members") == nil)
        r = try Self.patch(Self.ops(#"{"op":"replace","path":"members","value":[{"value":"u9"}]}"#), Self.group, .group)
        #expect(Self.field(r, "members") == .array([.object(["value": .string("u9")])]))
    }

    @Test(arguments: [
        (#"{"op":"replace","path":"id","value":"x"}"#, SCIMError.Kind.mutability),
        (#"{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}"#, .mutability),
        (#"{"op":"replace","value":{"meta":{"version":"1"}}}"#, .mutability),
        (#"{"op":"add","path":"groups","value":[{"value":"g1"}]}"#, .mutability),
        (#"{"op":"replace","path":"nope","value":"x"}"#, .invalidPath),
        (#"{"op":"replace","path":"name.nope","value":"x"}"#, .invalidPath),
        (#"{"op":"replace","path":"emails[type eq ]","value":"x"}"#, .invalidFilter),
        (#"{"op":"replace","path":"active","value":"maybe"}"#, .invalidValue),
        (#"{"op":"replace","path":"userName","value":7}"#, .invalidValue),
        (#"{"op":"remove"}"#, .noTarget),
        (#"{"op":"replace","path":"userName"}"#, .invalidValue),
        (#"{"op":"move","path":"userName","value":"x"}"#, .invalidSyntax),
        (#"{"op":"replace","value":"not an object"}"#, .invalidValue),
    ])
    func rejectsBadOperations(_ op: String, _ kind: SCIMError.Kind) {
        #expect(Self.failure(Self.ops(op))?.kind == kind, "\(op)")
    }

    @Test func rejectsBodiesThatAreNotPatchOps() {
        #expect(Self.failure(#"{"Operations":[{"op":"add","path":"title","value":"x"}]}"#)?.kind == .invalidSyntax)
        #expect(Self.failure(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}"#)?.kind == .invalidSyntax)
        #expect(Self.failure(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}"#)?.kind == .invalidSyntax)
        let many = Array(repeating: #"{"op":"add","path":"title","value":"x"}"#, count: 1001).joined(separator: ",")
        #expect(Self.failure(Self.ops(many))?.kind == .tooMany)
    }

    @Test func pathsParseWithFiltersAndSubAttributes() throws {
        let path = try SCIMPatchPath.parse(#"emails[type eq "work"].value"#)
        #expect(path.attribute == SCIMAttributePath(name: "emails"))
        #expect(path.filteredSubAttribute == "value")
        #expect(path.filter == .compare(SCIMAttributePath(name: "type"), .eq, .string("work")))
        #expect(throws: SCIMError.self) { try SCIMPatchPath.parse(#"emails[type eq "work"]value"#) }
        #expect(throws: SCIMError.self) { try SCIMPatchPath.parse(#"emails[type eq "work""#) }
    }
}
