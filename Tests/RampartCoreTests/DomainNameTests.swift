import RampartCore
import Testing

@Suite("Domain names, proofs and the public suffix list")
struct DomainNameTests {
    static let suffixes = PublicSuffixList(text: """
        // A few rules of each kind, as in the published list.
        com
        uk
        co.uk
        github.io
        *.ck
        !www.ck
        公司.cn
        """)

    static func parse(_ text: String) throws -> DomainName { try DomainName(parsing: text, publicSuffixes: suffixes) }

    @Test func normalisesCaseSpacesTrailingDotAndUnicode() throws {
        #expect(try Self.parse("  Example.COM. ").ascii == "example.com")
        let idn = try Self.parse("Bücher.Example")
        #expect(idn.ascii == "xn--bcher-kva.example" && idn.unicode == "bücher.example")
        #expect(try Self.parse("münchen。example").ascii == "xn--mnchen-3ya.example")
        #expect(try Self.parse("www.ck").ascii == "www.ck")
        #expect(try Self.parse("acme.github.io").ascii == "acme.github.io")
    }

    /// RFC 3492, section 7.1: (B) Chinese and (L) Japanese sample strings (the latter lowercased).
    @Test func punycodeMatchesTheRFCVectors() throws {
        #expect(try Self.parse("3年B組金八先生.example").ascii == "xn--3b-ww4c5e180e575a65lsy2b.example")
        #expect(try Self.parse("他们为什么不说中文.example").ascii == "xn--ihqwcrb4cv8a8dqg056pqjye.example")
    }

    @Test(arguments: [
        ("", "must not be empty"), ("   ", "must not be empty"),
        ("com", "two labels"), ("localhost", "two labels"),
        ("192.168.10.1", "not an IP address"), ("10.1", "not an IP address"), ("[::1]", "no scheme"),
        ("https://example.com", "no scheme"), ("example.com/path", "no scheme"), ("example.com:8443", "no scheme"),
        ("ada@example.com", "no scheme"), ("a..b.com", "no scheme"), ("-acme.com", "no scheme"),
        ("acme_corp.com", "no scheme"), (String(repeating: "a", count: 64) + ".com", "no scheme"),
        ("co.uk", "public suffix"), ("CO.UK.", "public suffix"), ("github.io", "public suffix"),
        ("anything.ck", "public suffix"), ("公司.cn", "public suffix"),
        ("scim.invalid", "reserved"), ("app.localhost", "reserved"),
    ])
    func refuses(_ text: String, _ because: String) {
        #expect {
            try Self.parse(text)
        } throws: { error in
            let error = error as? RampartError
            return error?.code == .invalidField && error?.field == "domain" && (error?.message.contains(because) ?? false)
        }
    }

    @Test func overLongNamesAreRefused() {
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".") + ".com"
        #expect(throws: RampartError.self) { try Self.parse(long) }
    }

    @Test func emailDomainsTakeTheClaimsForm() {
        #expect(DomainName.ofEmail("ada@Acme.Example") == "acme.example")
        #expect(DomainName.ofEmail("ada@bücher.example") == "xn--bcher-kva.example")
        #expect(DomainName.ofEmail("no-at-sign") == nil)
    }

    static let claim = DomainClaim(id: "c", domain: "acme.example", unicodeDomain: "acme.example", status: .pending,
                                   token: DomainClaim.makeToken(), createdAt: .now())

    @Test func aTXTProofMustHoldThisClaimsToken() {
        let claim = Self.claim
        #expect(claim.token.count == 32 && claim.token != DomainClaim.makeToken())
        #expect(DomainCheckResult.dns(["v=spf1 -all", claim.proof], for: claim) == .proven)
        guard case .failed(let none) = DomainCheckResult.dns([], for: claim) else { Issue.record("no records passed"); return }
        #expect(none.hasPrefix("No TXT record at _rampart-challenge.acme.example"))
        guard case .failed(let wrong) = DomainCheckResult.dns(["rampart-domain-verification=0000", "v=spf1 -all"], for: claim)
        else { Issue.record("a wrong token passed"); return }
        #expect(wrong.contains("Found 2 TXT records at _rampart-challenge.acme.example (1 starting with"))
        #expect(wrong.contains("none holds this domain's token"))
        #expect(DomainCheckResult.dns([claim.proof + " "], for: claim) != .proven)
    }

    @Test func aWellKnownFileMustHoldTheProofOnALine() {
        let claim = Self.claim
        #expect(DomainCheckResult.http(body: "# Rampart\n  \(claim.proof)  \r\n", for: claim) == .proven)
        #expect(DomainCheckResult.http(body: "prefix \(claim.proof)", for: claim) != .proven)
        guard case .failed(let message) = DomainCheckResult.http(body: "", for: claim) else { Issue.record("empty passed"); return }
        #expect(message.contains("https://acme.example/.well-known/rampart-domain-verification.txt"))
    }
}
