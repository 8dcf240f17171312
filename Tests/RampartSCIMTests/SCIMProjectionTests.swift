import RampartCore
import RampartSCIM
import Testing

@Suite("SCIM attribute projection and schemas")
struct SCIMProjectionTests {
    static let user = SCIMFilterEvaluatorTests.barbara

    static func keys(_ v: JSONValue) -> Set<String> {
        guard case .object(let o) = v else { return [] }
        return Set(o.keys)
    }

    @Test func attributesKeepsOnlyWhatWasAskedPlusIdAndSchemas() throws {
        let p = try SCIMProjection(attributes: "userName, name.givenName,emails.value")
        let r = p.apply(Self.user, .user)
        #expect(Self.keys(r) == ["schemas", "id", "userName", "name", "emails"])
        guard case .object(let o) = r else { return }
        #expect(o["name"] == .object(["givenName": .string("Barbara")]))
        #expect(o["emails"] == .array([.object(["value": .string("bjensen@example.com")]),
                                       .object(["value": .string("babs@home.example")])]))
    }

    @Test func extensionAttributesByURN() throws {
        let r = try SCIMProjection(attributes: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
            .apply(Self.user, .user)
        guard case .object(let o) = r else { return }
        #expect(o[SCIMSchema.enterpriseUserID] == .object(["employeeNumber": .string("701984")]))
    }

    @Test func excludedAttributesNeverRemovesId() throws {
        let r = try SCIMProjection(excludedAttributes: "ID,emails,name.givenName,meta").apply(Self.user, .user)
        let k = Self.keys(r)
        #expect(k.contains("id") && !k.contains("emails") && !k.contains("meta") && k.contains("userName"))
        guard case .object(let o) = r else { return }
        #expect(o["name"] == .object(["familyName": .string("Jensen")]))
    }

    @Test func passwordIsNeverReturned() {
        guard case .object(var o) = Self.user else { return }
        o["password"] = .string("secret")
        #expect(!Self.keys(SCIMProjection.identity.apply(.object(o), .user)).contains("password"))
    }

    @Test func schemasDescribeTheirAttributes() throws {
        guard case .object(let s) = SCIMSchema.user.json(location: "https://r.example/scim/v2") else { return }
        #expect(s["id"] == .string(SCIMSchema.userID))
        guard case .array(let attributes)? = s["attributes"] else { Issue.record("no attributes"); return }
        let userName = attributes.first { if case .object(let a) = $0 { return a["name"] == .string("userName") } else { return false } }
        #expect(userName == SCIMAttribute("userName", required: true, uniqueness: .server).json)
        let userType = try #require(SCIMResourceType.user.leaf(for: SCIMAttributePath.parse("EMAILS.Value")))
        #expect(userType.name == "value")
        #expect(SCIMResourceType.user.attribute(for: try SCIMAttributePath.parse("id"))?.mutability == .readOnly)
        #expect(SCIMResourceType.group.attribute(for: try SCIMAttributePath.parse("members"))?.multiValued == true)
    }

    @Test func errorsUseTheSCIMErrorSchema() {
        let body = SCIMError.invalidFilter("The filter is bad.").json
        #expect(body == .object(["schemas": .array([.string("urn:ietf:params:scim:api:messages:2.0:Error")]),
                                 "status": .string("400"), "scimType": .string("invalidFilter"),
                                 "detail": .string("The filter is bad.")]))
        #expect(SCIMError.uniqueness("taken").status == 409)
        guard case .object(let notFound) = SCIMError.notFound("User not found.").json else { return }
        #expect(notFound["scimType"] == nil && notFound["status"] == .string("404"))
    }
}

extension SCIMProjection {
    static var identity: SCIMProjection { try! SCIMProjection() }
}
