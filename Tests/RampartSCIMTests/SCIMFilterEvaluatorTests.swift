import RampartCore
import RampartSCIM
import Testing

@Suite("SCIM filter evaluation")
struct SCIMFilterEvaluatorTests {
    static let barbara = JSONValue.parse("""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
         "id":"2819c223","externalId":"Ext-701","userName":"BJensen@example.com","active":true,
         "name":{"familyName":"Jensen","givenName":"Barbara"},"title":"Tour Guide","displayName":"Babs",
         "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","manager":{"value":"26118915"}},
         "meta":{"created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34Z"}}
        """)!

    static func matches(_ text: String, _ resource: JSONValue = barbara) throws -> Bool {
        try SCIMFilterEvaluator(.user).matches(try SCIMFilterParser.parse(text), resource)
    }

    @Test(arguments: [
        (#"userName eq "bjensen@EXAMPLE.com""#, true),  // userName is not caseExact
        (#"USERNAME Eq "bjensen@example.com""#, true),  // attribute names and operators in any case
        (#"externalId eq "ext-701""#, false),           // externalId is caseExact
        (#"externalId eq "Ext-701""#, true),
        (#"id eq "2819C223""#, false),                  // so is id
        (#"name.familyName co "ens""#, true),
        (#"name.familyName sw "J""#, true),
        (#"name.familyName ew "sen""#, true),
        (#"name.familyName ew "jen""#, false),
        (#"title pr"#, true),
        (#"nickName pr"#, false),
        (#"title ne "Tour Guide""#, false),
        (#"nickName ne "x""#, true),
        ("active eq true", true),
        ("active eq false", false),
        (#"emails co "home.example""#, true),           // complex multi-valued: compares "value"
        (#"emails.type eq "home""#, true),
        (#"emails[type eq "work" and value co "@example.com"]"#, true),
        (#"emails[type eq "home" and primary eq true]"#, false),
        (#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true),
        (#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
        (#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
        (#"meta.created lt "2010-01-23T05:00:00+01:00""#, false),  // 04:00Z: compared as times, not as text
        (#"meta.created lt "2010-01-23T06:00:00+01:00""#, true),
        (#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#, true),
        (#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#, true),
        (#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjensen""#, true),
        (#"not (userName eq "bjensen@example.com") or title eq "Tour Guide""#, true),
        (#"not (userName eq "bjensen@example.com" or title eq "Tour Guide")"#, false),
        (#"userName eq "nobody" or (title sw "tour" and active eq true)"#, true),
        (#"unknownAttribute eq "x""#, false),
    ])
    func evaluates(_ filter: String, _ expected: Bool) throws {
        #expect(try Self.matches(filter) == expected, "\(filter)")
    }

    @Test func orderingOnABooleanIsAnInvalidFilter() {
        #expect(throws: SCIMError.invalidFilter("Booleans compare only with eq and ne.")) { try Self.matches("active gt true") }
    }

    @Test func groupMembersMatchByValue() throws {
        let group = JSONValue.parse(#"{"displayName":"Ops","members":[{"value":"u1"},{"value":"u2","display":"Ada"}]}"#)!
        let evaluator = SCIMFilterEvaluator(.group)
        #expect(try evaluator.matches(try SCIMFilterParser.parse(#"members[value eq "u2"]"#), group))
        #expect(try !evaluator.matches(try SCIMFilterParser.parse(#"members[value eq "U2"]"#), group))  // caseExact
        #expect(try evaluator.matches(try SCIMFilterParser.parse(#"displayname eq "ops""#), group))
    }
}
