import RampartCore
import Testing

@Suite("Field validation")
struct ValidationTests {
    /// The code of the error `body` throws, or nil when it succeeds.
    static func failure<T>(_ body: () throws(RampartError) -> T) -> RampartError? {
        do { _ = try body(); return nil } catch { return error }
    }

    // MARK: email

    @Test(arguments: [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x@a-b.example", "x@a-b.example"),
    ])
    func acceptsAndLowercasesEmails(_ raw: String, _ stored: String) throws {
        #expect(try Validate.email(raw) == stored)
    }

    @Test(arguments: [
        "", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "ada@exa@mple.com", "ada@.example.com",
        "ada@example.com.", "ada@example..com", "ada lovelace@example.com", "ada@-example.com", "ada@example-.com",
        "ada<x>@example.com", "ada@exa mple.com", "ada\u{7F}@example.com", "ada\u{0}@example.com",
        "\"ada\"@example.com", String(repeating: "a", count: 65) + "@example.com",
        "ada@" + String(repeating: "a", count: 64) + ".com",
        "a@" + String(repeating: "b", count: 320) + ".com",
        "ada@example.com-", "ada@example.-com", "ada@a.b-", "ada@example.com@", "ada@ex,ample.com",
    ])
    func rejectsMalformedEmails(_ raw: String) {
        let error = Self.failure { () throws(RampartError) in try Validate.email(raw, field: "admin-email") }
        #expect(error?.code == .invalidField)
        #expect(error?.message.contains("admin-email") == true)
    }

    @Test func emailLocalPartAtTheLimitIsAccepted() throws {
        let email = String(repeating: "a", count: 64) + "@example.com"
        #expect(try Validate.email(email) == email)
        let label = "ada@" + String(repeating: "b", count: 63) + ".example"
        #expect(try Validate.email(label) == label)
    }

    /// Lowercase ASCII addresses take a path of their own over the bytes; these are accepted
    /// on it as they are, and their spelled-differently twins on the full path come out the same.
    @Test(arguments: ["ada@example.com", "a.b-c_d+e'f@x-y.example.co", ".ada@e.x", "1@2.3"])
    func plainEmailsAreKeptAsTheyAre(_ raw: String) throws {
        #expect(try Validate.email(raw) == raw)
        #expect(try Validate.email(" " + raw.uppercased() + " ") == raw)
    }

    // MARK: name

    @Test func namesAreTrimmed() throws {
        #expect(try Validate.name("  Ada Lovelace\n", field: "name") == "Ada Lovelace")
        #expect(try Validate.name("Zoë Ørsted", field: "name") == "Zoë Ørsted")
    }

    @Test(arguments: ["", "   ", "\n\t"])
    func emptyNamesAreRejected(_ raw: String) {
        let error = Self.failure { () throws(RampartError) in try Validate.name(raw, field: "displayName") }
        #expect(error?.code == .invalidField)
        #expect(error?.message.contains("must not be empty") == true)
    }

    @Test func namesHaveAMaximumLength() throws {
        #expect(try Validate.name(String(repeating: "é", count: 200), field: "name").count == 200)
        let error = Self.failure { () throws(RampartError) in
            try Validate.name(String(repeating: "é", count: 201), field: "name")
        }
        #expect(error?.message.contains("at most 200") == true)
        #expect(Self.failure { () throws(RampartError) in try Validate.name("abcd", field: "n", max: 3) } != nil)
    }

    @Test(arguments: ["Ada\u{0}", "Ada\nLovelace", "Ada\u{7}", "Ada\u{1B}[31m", "Ada\u{7F}", "Ada\u{85}x", "A\rB"])
    func controlCharactersInNamesAreRejected(_ raw: String) {
        let error = Self.failure { () throws(RampartError) in try Validate.name(raw, field: "name") }
        #expect(error?.code == .invalidField)
        #expect(error?.message.contains("control characters") == true)
    }

    // MARK: url

    @Test(arguments: [
        ("https://wiki.example.com", "https://wiki.example.com"),
        ("http://localhost:8080/path?q=1", "http://localhost:8080/path?q=1"),
        ("HTTPS://Example.com/", "https://example.com/"),
        ("https://192.0.2.1/x", "https://192.0.2.1/x"),
        ("https://example.com:443/a%2fb?x=%7e#top", "https://example.com/a%2Fb?x=%7E#top"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://[::1]:8080/cb", "http://[::1]:8080/cb"),
        ("https://[2001:db8::1]/", "https://[2001:db8::1]/"),
        ("https://app.example.com:8443/sso?next=/a&b=c", "https://app.example.com:8443/sso?next=/a&b=c"),
        ("https://Example.com?q=1", "https://example.com/?q=1"),
    ])
    func acceptsWebURLsInTheirNormalForm(_ raw: String, _ normal: String) throws {
        #expect(try Validate.url(raw) == normal)
        #expect(try Validate.url(normal) == normal, "the normal form is stable")
    }

    /// Issue 18, finding 5: what the prefix check let through.
    @Test(arguments: [
        "https://wiki.example.com/\u{0}x", "https://wiki.example.com/a\r\nSet-Cookie: x=1", "https://wiki.example.com/a b",
        "https://wiki.example.com/\"onmouseover=\"x", "https://wiki.example.com/'<script>", "https://user:pass@wiki.example.com/",
        "https://trusted.example.com@evil.example/", "https://wiki.example.com\\@evil.example/", "http://wiki.example.com/",
        "https://wiki.example.com:99999/", "https://wiki.example.com:x/", "https://wiki.example.com/%zz", "https://wiki.example.com/%4",
        "https://wi_ki.example.com/", "https://-wiki.example.com/", "https://wiki..example.com/", "https://[zz::1]/",
        "https://wiki.example.com/{x}", "https://wiki.example.com/a|b", "https://wiki.example.com/é",
        "http://127.0.0.1.evil.example/",
    ])
    func refusesWhatRFC3986AndThePolicyDoNotAllow(_ raw: String) {
        let error = Self.failure { () throws(RampartError) in try Validate.url(raw) }
        #expect(error?.code == .invalidField, "\(raw.debugDescription)")
        #expect(error.map { !$0.message.contains(raw) } ?? true, "the message does not echo the value")
    }

    @Test(arguments: [
        "", "wiki.example.com", "ftp://example.com", "javascript:alert(1)", "file:///etc/passwd", "https://",
        "https:///path", "mailto:ada@example.com", "data:text/html,hi", "//example.com/x",
        "https://" + String(repeating: "a", count: 2000) + ".com",
    ])
    func rejectsOtherURLs(_ raw: String) {
        let error = Self.failure { () throws(RampartError) in try Validate.url(raw) }
        #expect(error?.code == .invalidField)
    }

    // MARK: slug

    @Test(arguments: [("acme", "acme"), ("  ACME-Corp ", "acme-corp"), ("a1", "a1"), ("x-y-z-9", "x-y-z-9")])
    func acceptsSlugs(_ raw: String, _ stored: String) throws {
        #expect(try Validate.slug(raw) == stored)
        #expect(try Validate.slug(String(repeating: "a", count: 63)).count == 63)
    }

    @Test(arguments: [
        "", "a", "-acme", "acme-", "ac me", "acme_corp", "acmé", "acme.com", "acme/x", String(repeating: "a", count: 64),
    ])
    func rejectsSlugs(_ raw: String) {
        let error = Self.failure { () throws(RampartError) in try Validate.slug(raw) }
        #expect(error?.code == .invalidField)
        #expect(error?.message.contains("2 to 63") == true)
    }

    @Test(arguments: [
        ("Acme Corporation", "acme-corporation"),
        ("  \u{DC}n\u{EF}c\u{F6}d\u{E9} & Co. Ltd!! ", "n-c-d-co-ltd"),
        ("R&D -- Team", "r-d-team"),
        ("X", "org-x"),
        ("!!!", "org"),
        ("", "org"),
        ("Team 42", "team-42"),
    ])
    func slugFromName(_ name: String, _ expected: String) {
        #expect(Validate.slug(fromName: name) == expected)
    }

    @Test func slugFromNameIsAlwaysAValidSlug() throws {
        let long = Validate.slug(fromName: String(repeating: "ab ", count: 40))
        #expect(long.count <= 63)
        #expect(!long.hasSuffix("-"))
        for name in ["Acme Corporation", "X", "!!!", "", "Team 42", String(repeating: "ab ", count: 40)] {
            let slug = Validate.slug(fromName: name)
            #expect(try Validate.slug(slug) == slug)
        }
    }
}
