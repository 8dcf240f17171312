import RampartCore
import RampartSCIM
import Testing

@Suite("SCIM filter parser")
struct SCIMFilterParserTests {
    static func error(_ text: String) -> SCIMError? {
        do { _ = try SCIMFilterParser.parse(text); return nil } catch { return error }
    }

    @Test func parsesEveryComparisonOperatorInAnyCase() throws {
        for op in SCIMFilter.Operator.allCases {
            let filter = try SCIMFilterParser.parse("userName \(op.rawValue.uppercased()) \"bjensen\"")
            #expect(filter == .compare(SCIMAttributePath(name: "userName"), op, .string("bjensen")))
        }
        #expect(try SCIMFilterParser.parse("title pr") == .present(SCIMAttributePath(name: "title")))
    }

    @Test func parsesLiteralsOfEveryJSONKind() throws {
        #expect(try SCIMFilterParser.parse("active eq true") == .compare(SCIMAttributePath(name: "active"), .eq, .bool(true)))
        #expect(try SCIMFilterParser.parse("x eq false") == .compare(SCIMAttributePath(name: "x"), .eq, .bool(false)))
        #expect(try SCIMFilterParser.parse("x eq null") == .compare(SCIMAttributePath(name: "x"), .eq, .null))
        #expect(try SCIMFilterParser.parse("x gt -42") == .compare(SCIMAttributePath(name: "x"), .gt, .integer(-42)))
        #expect(try SCIMFilterParser.parse("x le 1.5") == .compare(SCIMAttributePath(name: "x"), .le, .decimal(1.5)))
        #expect(try SCIMFilterParser.parse(#"x eq "a \"quoted\" \u00e9 (paren) [b]""#)
                == .compare(SCIMAttributePath(name: "x"), .eq, .string("a \"quoted\" é (paren) [b]")))
    }

    @Test func notBindsTighterThanAndWhichBindsTighterThanOr() throws {
        let a = SCIMFilter.compare(SCIMAttributePath(name: "a"), .eq, .integer(1))
        let b = SCIMFilter.compare(SCIMAttributePath(name: "b"), .eq, .integer(2))
        let c = SCIMFilter.compare(SCIMAttributePath(name: "c"), .eq, .integer(3))
        #expect(try SCIMFilterParser.parse("a eq 1 or b eq 2 and c eq 3") == .or(a, .and(b, c)))
        #expect(try SCIMFilterParser.parse("(a eq 1 or b eq 2) and c eq 3") == .and(.or(a, b), c))
        #expect(try SCIMFilterParser.parse("not (a eq 1) AND b eq 2") == .and(.not(a), b))
        #expect(try SCIMFilterParser.parse("a eq 1 and b eq 2 and c eq 3") == .and(.and(a, b), c))
    }

    @Test func parsesValuePathsAndSchemaQualifiedPaths() throws {
        let filter = try SCIMFilterParser.parse(#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp"]"#)
        #expect(filter == .or(
            .valuePath(SCIMAttributePath(name: "emails"), .and(
                .compare(SCIMAttributePath(name: "type"), .eq, .string("work")),
                .compare(SCIMAttributePath(name: "value"), .co, .string("@example.com")))),
            .valuePath(SCIMAttributePath(name: "ims"), .compare(SCIMAttributePath(name: "type"), .eq, .string("xmpp")))))
        let urn = try SCIMFilterParser.parse(
            #"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#)
        #expect(urn == .compare(SCIMAttributePath(schema: SCIMSchema.enterpriseUserID, name: "manager", subAttribute: "value"),
                                .eq, .string("26118915-6090-4610-87e4-49d8ca9f808d")))
        #expect(try SCIMFilterParser.parse(#"meta.lastModified gt "2011-05-13T04:42:34Z""#)
                == .compare(SCIMAttributePath(name: "meta", subAttribute: "lastModified"), .gt, .string("2011-05-13T04:42:34Z")))
    }

    @Test func equalityLookupIsRecognisedForIndexedQueries() throws {
        let lookup = try #require(try SCIMFilterParser.parse(#"USERNAME eq "Ada""#).equalityLookup)
        #expect(lookup.path.names("userName") && lookup.value == "Ada")
        #expect(try SCIMFilterParser.parse(#"userName ne "Ada""#).equalityLookup == nil)
        #expect(try SCIMFilterParser.parse(#"userName eq "a" or userName eq "b""#).equalityLookup == nil)
    }

    @Test(arguments: [
        #"userName eq "unterminated"#, #"userName eq "a" or 1 eq 1"#, "userName xx \"a\"", "userName eq", "userName",
        "(userName eq \"a\"", "userName eq \"a\")", "emails[type eq \"work\"", "and", "", "   ", "not userName eq \"a\"",
        "userName eq bareword", "1abc eq \"x\"", "user name eq \"x\"", #"userName eq "\q""#, #"userName eq "\u12""#,
        #"emails[type eq "work"].value eq "x""#, "userName pr extra", "name.given.family eq \"x\"", "x eq 1e999",
    ])
    func rejectsMalformedFiltersAsInvalidFilter(_ text: String) {
        let error = Self.error(text)
        #expect(error?.kind == .invalidFilter, "\(text)")
        #expect(error?.status == 400)
    }

    @Test func boundsNestingDepthAndLength() {
        let deep = String(repeating: "(", count: 1000) + "userName eq \"a\"" + String(repeating: ")", count: 1000)
        #expect(Self.error(deep)?.kind == .invalidFilter)
        let deepNot = String(repeating: "not (", count: 1000) + "a pr" + String(repeating: ")", count: 1000)
        #expect(Self.error(deepNot)?.kind == .invalidFilter)
        let shallow = String(repeating: "(", count: 10) + "userName eq \"a\"" + String(repeating: ")", count: 10)
        #expect(Self.error(shallow) == nil)
        let long = "userName eq \"" + String(repeating: "a", count: 5000) + "\""
        #expect(Self.error(long)?.kind == .invalidFilter)
    }
}
