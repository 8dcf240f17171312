import Crypto
import Foundation
import RampartCore
import Testing

@Suite("Secret tokens")
struct SecretTokenTests {
    static let orgID = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
    static let kinds: [SecretToken.Kind] = [.apiToken, .session, .setupLink]

    @Test(arguments: kinds)
    func generateThenParseRoundTrips(_ kind: SecretToken.Kind) throws {
        let token = SecretToken.generate(kind, orgID: Self.orgID)
        #expect(token.kind == kind)
        #expect(token.orgID == Self.orgID)
        #expect(token.text.hasPrefix("\(kind.rawValue)_0190a1b2c3d47e5f8a6b7c8d9e0f1a2b_"))
        let parsed = try #require(SecretToken(parsing: token.text, as: kind))
        #expect(parsed.kind == kind)
        #expect(parsed.orgID == Self.orgID)
        #expect(parsed.text == token.text)
        #expect(parsed.hash == token.hash)
    }

    @Test func parsingNormalisesTheOrganisationToTheCanonicalID() throws {
        let token = SecretToken.generate(.apiToken, orgID: Self.orgID)
        let secret = token.text.split(separator: "_", maxSplits: 2)[2]
        let upper = "rmp_0190A1B2C3D47E5F8A6B7C8D9E0F1A2B_\(secret)"
        #expect(SecretToken(parsing: upper, as: .apiToken)?.orgID == Self.orgID)
    }

    @Test(arguments: kinds)
    func anotherKindIsRejected(_ kind: SecretToken.Kind) {
        let token = SecretToken.generate(kind, orgID: Self.orgID)
        for other in Self.kinds where other != kind {
            #expect(SecretToken(parsing: token.text, as: other) == nil)
        }
    }

    @Test func malformedSecretsAreRejected() {
        let token = SecretToken.generate(.apiToken, orgID: Self.orgID)
        let parts = token.text.split(separator: "_", maxSplits: 2).map(String.init)
        let (org, secret) = (parts[1], parts[2])
        #expect(secret.utf8.count == 43)
        let malformed = [
            "", "rmp", "rmp_", "rmp__", "rmp_\(org)", "rmp_\(org)_",
            "rmp_\(org)_\(secret.dropLast())",             // 42 characters of secret
            "rmp_\(org)_\(secret)A",                        // 44 characters
            "rmp_\(org.dropLast())_\(secret)",              // 31 hex digits
            "rmp_\(org)0_\(secret)",                        // 33 hex digits
            "rmp_\(org.dropLast())g_\(secret)",             // not hex
            "rmp_0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b_\(secret)", // dashed id
            "rmp__\(org)_\(secret)",                        // extra underscore after the kind
            "rmp_\(org)_\(secret)_",                        // trailing underscore
            "rmp_\(org)_\(secret)_\(secret)",                // two secrets
            "_rmp_\(org)_\(secret)",
            "RMP_\(org)_\(secret)",
            "rmp-\(org)-\(secret)",
            "rmp_\(org)_\(secret.dropLast())=",             // padding is not base64url
            "rmp_\(org)_\(secret.dropLast())+",
            "rmp_\(org)_\(secret.dropLast()) ",
            "rmp_\(org)_\(secret.dropLast())é",
            " rmp_\(org)_\(secret)",
            String(repeating: "a", count: 129),
        ]
        for text in malformed {
            #expect(SecretToken(parsing: text, as: .apiToken) == nil, "accepted \(text)")
        }
    }

    @Test func hashIsTheSHA256OfTheWholeText() {
        // SHA-256("abc"), the FIPS 180-2 example.
        #expect(SecretToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let token = SecretToken.generate(.session, orgID: Self.orgID)
        #expect(token.hash == SecretToken.hash(token.text))
        #expect(token.hash == SecretToken.hash(token.text))
        #expect(token.hash.count == 64)
        #expect(SecretToken.hash(token.text + "x") != token.hash)
    }

    @Test func secretsCarry256RandomBits() throws {
        var seen = Set<String>()
        for _ in 0..<64 {
            let token = SecretToken.generate(.apiToken, orgID: Self.orgID)
            let secret = String(token.text.split(separator: "_", maxSplits: 2)[2])
            var base64 = secret.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += "="
            let bytes = try #require(Data(base64Encoded: base64))
            #expect(bytes.count == 32)
            seen.insert(secret)
        }
        #expect(seen.count == 64)
        let a = SecretToken.generate(.apiToken, orgID: Self.orgID), b = SecretToken.generate(.apiToken, orgID: Self.orgID)
        #expect(a.text != b.text)
        #expect(a.hash != b.hash)
    }

    @Test func constantTimeEqualsComparesWholeStrings() {
        #expect(constantTimeEquals("abc", "abc"))
        #expect(!constantTimeEquals("abc", "abd"))
        #expect(!constantTimeEquals("abc", "abcd"))
        #expect(constantTimeEquals("", ""))
    }

    /// RFC 4648 section 10's vectors, and bytes whose standard encoding holds `+` and `/`.
    @Test func base64URLMatchesRFC4648() throws {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Data(plain.utf8).base64URLEncoded == encoded)
            #expect(Data(base64URLEncoded: encoded) == Data(plain.utf8))
        }
        let awkward = Data([0xfb, 0xff, 0xbf, 0xfe])  // standard: "+/+//g=="
        #expect(awkward.base64URLEncoded == "-_-__g")
        #expect(Data(base64URLEncoded: "-_-__g") == awkward)
        #expect(Data(base64URLEncoded: "not base64!") == nil)
    }

    @Test func digestHexIsLowercaseAndWhole() {
        let digest = SHA256.hash(data: Data("abc".utf8))
        #expect(digest.hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest.hexString == Array(digest).hexString)
    }
}
