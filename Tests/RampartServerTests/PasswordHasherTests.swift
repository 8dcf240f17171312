@testable import RampartServer
import Testing

/// Argon2id is built with the package (Sources/CArgon2); its hashes must be the same as those
/// of every other build of the library: stores hold hashes made by Debian's build, and an
/// organisation may bring hashes made elsewhere.
@Suite("Argon2id hashing")
struct PasswordHasherTests {
    static let password = "correct horse battery staple ü"
    /// Made by argon2-cffi 25.1.0 (argon2-cffi-bindings 26.2.0, its own build of libargon2):
    /// `PasswordHasher(time_cost=…, memory_cost=…, parallelism=…).hash(password)`.
    static let peerHashes = [
        "$argon2id$v=19$m=19456,t=2,p=1$a2Sc4gelBn8ajUEb2yy4Qw$aphV64IkeqfxbWAIfmwsn8qLiq6VmXoi9tung9Qogio",
        "$argon2id$v=19$m=4096,t=3,p=2$GiUSAznyofrsFA+tVzw6hg$Cn+TlfA/QKTBkMcXb7dSRb8IlS0gNXoelbmL/q9hGk8",
    ]

    @Test(arguments: peerHashes)
    func verifiesHashesMadeByAnotherBuild(_ stored: String) async throws {
        let hasher = PasswordHasher()
        #expect(try await hasher.verify(Self.password, against: stored))
        #expect(!(try await hasher.verify(Self.password + " ", against: stored)))
        #expect(!(try await hasher.verify("correct horse battery staple u\u{308}", against: stored)))
    }

    @Test func hashesVerifyAndCarryTheirParameters() async throws {
        let hasher = PasswordHasher(parameters: .init(iterations: 3, memoryKiB: 8192, parallelism: 2))
        let stored = try await hasher.hash(Self.password)
        #expect(stored.hasPrefix("$argon2id$v=19$m=8192,t=3,p=2$"))
        #expect(try await PasswordHasher().verify(Self.password, against: stored))
        #expect(!(try await PasswordHasher().verify("wrong", against: stored)))
        #expect(!(try await PasswordHasher().verify(Self.password, against: nil)))
    }
}
