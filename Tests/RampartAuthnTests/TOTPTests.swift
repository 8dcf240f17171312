import Foundation
import RampartAuthn
import Testing

/// RFC 6238 Appendix B: the seeds are the ASCII digits repeated to the digest's block size.
@Suite struct TOTPTests {
    static let sha1Seed = Array("12345678901234567890".utf8)
    static let sha256Seed = Array("12345678901234567890123456789012".utf8)
    static let sha512Seed = Array("1234567890123456789012345678901234567890123456789012345678901234".utf8)

    struct Vector: Sendable, CustomTestStringConvertible {
        let time: Int64
        let algorithm: TOTP.Algorithm
        let code: String
        var testDescription: String { "\(algorithm.rawValue) T=\(time)" }
    }

    static let vectors: [Vector] = [
        Vector(time: 59, algorithm: .sha1, code: "94287082"), Vector(time: 59, algorithm: .sha256, code: "46119246"),
        Vector(time: 59, algorithm: .sha512, code: "90693936"),
        Vector(time: 1111111109, algorithm: .sha1, code: "07081804"), Vector(time: 1111111109, algorithm: .sha256, code: "68084774"),
        Vector(time: 1111111109, algorithm: .sha512, code: "25091201"),
        Vector(time: 1111111111, algorithm: .sha1, code: "14050471"), Vector(time: 1111111111, algorithm: .sha256, code: "67062674"),
        Vector(time: 1111111111, algorithm: .sha512, code: "99943326"),
        Vector(time: 1234567890, algorithm: .sha1, code: "89005924"), Vector(time: 1234567890, algorithm: .sha256, code: "91819424"),
        Vector(time: 1234567890, algorithm: .sha512, code: "93441116"),
        Vector(time: 2000000000, algorithm: .sha1, code: "69279037"), Vector(time: 2000000000, algorithm: .sha256, code: "90698825"),
        Vector(time: 2000000000, algorithm: .sha512, code: "38618901"),
        Vector(time: 20000000000, algorithm: .sha1, code: "65353130"), Vector(time: 20000000000, algorithm: .sha256, code: "77737706"),
        Vector(time: 20000000000, algorithm: .sha512, code: "47863826"),
    ]

    static func seed(_ algorithm: TOTP.Algorithm) -> [UInt8] {
        switch algorithm { case .sha1: sha1Seed; case .sha256: sha256Seed; case .sha512: sha512Seed }
    }

    @Test(arguments: vectors)
    func appendixBVectors(_ vector: Vector) throws {
        let totp = try TOTP(secret: Self.seed(vector.algorithm), algorithm: vector.algorithm, digits: 8)
        let time = Date(timeIntervalSince1970: TimeInterval(vector.time))
        #expect(totp.code(at: time) == vector.code)
        #expect(totp.verify(vector.code, at: time, lastAcceptedStep: nil) == .accepted(step: totp.step(at: time)))
    }

    @Test func sixDigitsAreTheLowSixOfTheEight() throws {
        let totp = try TOTP(secret: Self.sha1Seed)
        #expect(totp.code(at: Date(timeIntervalSince1970: 59)) == "287082")
    }

    @Test func acceptsOneStepEitherSideButNotTwo() throws {
        let totp = try TOTP(secret: Self.sha1Seed)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let step = totp.step(at: now)
        #expect(totp.verify(totp.code(forStep: step - 1), at: now, lastAcceptedStep: nil) == .accepted(step: step - 1))
        #expect(totp.verify(totp.code(forStep: step + 1), at: now, lastAcceptedStep: nil) == .accepted(step: step + 1))
        #expect(totp.verify(totp.code(forStep: step - 2), at: now, lastAcceptedStep: nil) == .rejected(.wrongCode))
        #expect(totp.verify(totp.code(forStep: step + 2), at: now, lastAcceptedStep: nil) == .rejected(.wrongCode))
    }

    @Test func neverAcceptsAStepAtOrBeforeTheLastAcceptedOne() throws {
        let totp = try TOTP(secret: Self.sha1Seed)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let step = totp.step(at: now)
        let code = totp.code(forStep: step)
        #expect(totp.verify(code, at: now, lastAcceptedStep: step) == .rejected(.replayed))
        #expect(totp.verify(totp.code(forStep: step - 1), at: now, lastAcceptedStep: step) == .rejected(.replayed))
        #expect(totp.verify(totp.code(forStep: step + 1), at: now, lastAcceptedStep: step) == .accepted(step: step + 1))
    }

    @Test func refusesMalformedCodes() throws {
        let totp = try TOTP(secret: Self.sha1Seed)
        let now = Date(timeIntervalSince1970: 59)
        for bad in ["", "28708", "2870822", "28708a", "２８７０８２", "287 08"] {
            #expect(totp.verify(bad, at: now, lastAcceptedStep: nil) == .rejected(.malformed), "\(bad)")
        }
        #expect(totp.verify("287 082", at: now, lastAcceptedStep: nil) == .accepted(step: 1))
    }

    @Test func refusesBadParameters() {
        #expect(throws: (any Error).self) { try TOTP(secret: Array(repeating: 1, count: 10)) }
        #expect(throws: (any Error).self) { try TOTP(secret: Self.sha1Seed, digits: 7) }
        #expect(throws: (any Error).self) { try TOTP(secret: Self.sha1Seed, period: 0) }
    }

    @Test func base32RoundTripsAndMatchesRFC4648() throws {
        #expect(Base32.encode(Self.sha1Seed) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(try Base32.decode("mzxw 6ytb-oi======") == Array("foobar".utf8))
        let secret = TOTP.generateSecret()
        #expect(secret.count == 20)
        #expect(try Base32.decode(Base32.encode(secret)) == secret)
        #expect(throws: (any Error).self) { try Base32.decode("MZXW1") }
    }

    @Test func otpauthURIEscapesLabelAndCarriesParameters() throws {
        let totp = try TOTP(secret: Self.sha1Seed, algorithm: .sha256, digits: 8)
        let uri = OTPAuthURI(issuer: "Acme & Co", accountName: "ada@acme.test", totp: totp).text
        #expect(uri == "otpauth://totp/Acme%20%26%20Co:ada@acme.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            + "&issuer=Acme%20%26%20Co&algorithm=SHA256&digits=8&period=30")
    }
}
