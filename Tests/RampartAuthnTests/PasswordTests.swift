import Foundation
import RampartAuthn
import Testing

@Suite struct PasswordPolicyTests {
    let policy = PasswordPolicy.standard
    let context = PasswordContext(organizationName: "Globex Corporation", email: "ada.lovelace@globex.test",
                                  displayName: "Augusta Ada King")
    let blocklist = PasswordBlocklist(entries: ["correcthorsebatterystaple", "iloveyou123456"])

    func refusals(_ password: String, onlyFactor: Bool = false) -> [PasswordRefusal] {
        if case .refused(let reasons) = policy.evaluate(password, context: context, passwordIsOnlyFactor: onlyFactor,
                                                         blocklist: blocklist) { return reasons }
        return []
    }

    @Test func lengthDependsOnWhetherThePasswordIsTheOnlyFactor() {
        #expect(refusals("tulip-radar-9").isEmpty)
        #expect(refusals("tulip-radar-9", onlyFactor: true) == [.tooShort(minimum: 15)])
        #expect(refusals("tulip-radar") == [.tooShort(minimum: 12)])
        #expect(refusals("tulip-radar-9-sun", onlyFactor: true).isEmpty)
    }

    @Test func acceptsLongPassphrasesWithoutTruncationAndRefusesOverTheMaximum() {
        let sixtyFour = String(repeating: "wombat-q", count: 8)
        #expect(policy.evaluate(sixtyFour, context: context, passwordIsOnlyFactor: true, blocklist: blocklist)
            == .acceptable(normalized: sixtyFour))
        let long = String(repeating: "x", count: 256) + "y"
        #expect(refusals(long) == [.tooLong(maximum: 256)])
        #expect(PasswordRefusal.tooLong(maximum: 256).description == "must be at most 256 characters")
    }

    @Test func hasNoCompositionRules() {
        #expect(refusals("all lowercase words here").isEmpty)
    }

    @Test func normalisesWithNFKCAndCountsCodePoints() {
        // U+FB01 (the "fi" ligature) and full-width digits become their compatibility forms.
        let typed = "ﬁsh-and-chips-１２"
        #expect(policy.evaluate(typed, context: context, passwordIsOnlyFactor: false, blocklist: blocklist)
            == .acceptable(normalized: "fish-and-chips-12"))
        // Twelve code points of a non-Latin script are twelve characters.
        #expect(refusals("パスワードはとても長いです").isEmpty)
    }

    @Test func refusesBlocklistedPasswordsWhateverTheirCase() {
        #expect(refusals("CorrectHorseBatteryStaple") == [.blocklisted])
        #expect(PasswordRefusal.blocklisted.code == "password_blocklisted")
    }

    @Test func refusesContextWords() {
        #expect(refusals("globex-is-the-best") == [.containsContextWord(.organizationName)])
        #expect(refusals("ada.lovelace@globex.test") == [.containsContextWord(.organizationName)]
            || refusals("ada.lovelace@globex.test") == [.containsContextWord(.email)])
        #expect(refusals("my name: AUGUSTA 1815") == [.containsContextWord(.name)])
        #expect(PasswordRefusal.containsContextWord(.email).description == "must not contain your email address")
    }

    @Test func policyProblemsAreReported() {
        #expect(PasswordPolicy.standard.problems.isEmpty)
        #expect(!PasswordPolicy(minimumLength: 12, minimumLengthSingleFactor: 15, maximumLength: 32).problems.isEmpty)
        #expect(!PasswordPolicy(minimumLength: 6, minimumLengthSingleFactor: 15, maximumLength: 64).problems.isEmpty)
    }
}

@Suite struct PasswordBlocklistTests {
    @Test func shippedListIsLargeAndHoldsCommonPasswords() {
        let list = PasswordBlocklist.shipped
        #expect(list.count >= 40_000)
        #expect(list.contains("password1234"))
        #expect(list.contains("QWERTYUIOP"))
        #expect(!list.contains("tulip-radar-9-sun"))
    }
}

@Suite struct ImportedPasswordHashTests {
    // Made with Python's bcrypt and hashlib, not with Rampart.
    static let bcrypt = "$2b$05$7uus4.9nevpIZ6grhx1Iued1r.W1DIGHeiL1VWtA/bdALk7fN4KpS"
    static let django = "pbkdf2_sha256$260000$seasalt1234$Y22j9Y2icpn1ujgedZWP8VCgRKwbMWz2EkX9iMVLvoY="
    static let passlib = "$pbkdf2-sha512$25000$AQIDBAUGBwgJEBESExQVFg$V/0hgH0FqaNtBIpy1bMT7zWAZyBLk6wl5OQu.Vi.pYOedHuVH7gZlPfVbaCmcTQ7I7uKPewBKk056QeW5fk.yA"
    static let password = "correct horse battery staple"

    @Test(arguments: [bcrypt, django, passlib])
    func verifiesTheRightPasswordOnly(_ text: String) throws {
        let hash = try ImportedPasswordHash(parsing: text)
        #expect(hash.verify(Self.password))
        #expect(!hash.verify("correct horse battery stapler"))
        #expect(!hash.verify(""))
    }

    @Test func namesTheScheme() throws {
        #expect(try ImportedPasswordHash(parsing: Self.bcrypt).scheme == "bcrypt")
        #expect(try ImportedPasswordHash(parsing: Self.django).scheme == "pbkdf2-sha256")
        #expect(try ImportedPasswordHash(parsing: Self.passlib).scheme == "pbkdf2-sha512")
    }

    @Test(arguments: ["", "plaintext", "$1$abc$def", "$2b$05$short", "pbkdf2_sha256$1$salt$aGVsbG8=",
                      "pbkdf2_md5$260000$salt$Y22j9Y2icpn1ujgedZWP8VCgRKwbMWz2EkX9iMVLvoY=",
                      "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"])
    func refusesWhatItCannotRead(_ text: String) {
        #expect(throws: (any Error).self) { try ImportedPasswordHash(parsing: text) }
    }

    @Test func bcryptRefusesPasswordsLongerThanItsInputLimit() throws {
        let hash = try ImportedPasswordHash(parsing: Self.bcrypt)
        #expect(!hash.verify(Self.password + String(repeating: "!", count: 60)))
    }

    @Test func argon2ParametersDecideRehash() throws {
        let configured = Argon2idParameters(iterations: 2, memoryKiB: 19_456, parallelism: 1)
        let older = try StoredPasswordHash(stored: "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
        let current = try StoredPasswordHash(stored: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
        let stronger = try StoredPasswordHash(stored: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
        #expect(older.needsRehash(configured: configured))
        #expect(!current.needsRehash(configured: configured))
        #expect(!stronger.needsRehash(configured: configured))
        #expect(try StoredPasswordHash(stored: Self.bcrypt).needsRehash(configured: configured))
        #expect(Argon2idParameters(phc: "$argon2id$v=19$m=1,t=2$x$y") == nil)
    }
}

@Suite struct RecoveryCodeTests {
    @Test func generatesTenDistinctCodesAndMatchesEachOnce() {
        let set = RecoveryCodes.generate()
        #expect(set.count == 10)
        #expect(Set(set.map(\.code)).count == 10)
        let hashes = set.map(\.hash)
        for entry in set {
            #expect(RecoveryCodes.isWellFormed(entry.code))
            #expect(entry.code.count == 19)
            #expect(RecoveryCodes.match(entry.code.uppercased().replacingOccurrences(of: "-", with: ""), among: hashes) == entry.hash)
        }
        #expect(RecoveryCodes.match("0000-0000-0000-0000", among: hashes) == nil)
        #expect(!RecoveryCodes.isWellFormed("iiii-llll-oooo-uuuu"))
        #expect(!hashes.contains { $0.contains(set[0].code) })
    }
}

@Suite("The shipped password blocklist")
struct ShippedBlocklistTests {
    @Test func holdsOverAHundredThousandFoldedEntriesFromBothKindsOfSource() {
        let shipped = PasswordBlocklist.shipped
        #expect(shipped.count >= 100_000)
        // From the frequency-ranked lists (short, very common) and from the long breached ones.
        #expect(shipped.contains("Password123"))
        #expect(shipped.contains("qwertyuiopasdfghjkl"))
        #expect(!shipped.contains("violet tractor evening 77"))
    }
}
