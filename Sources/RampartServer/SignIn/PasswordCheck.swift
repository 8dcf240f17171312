import NIOPosix
import RampartAuthn
import RampartCore

/// Checks a password against what is stored: Argon2id hashes through libargon2, imported
/// bcrypt and PBKDF2 hashes as they are. Passwords are NFKC-normalised before Argon2id, as
/// they were when set.
struct PasswordCheck: Sendable {
    let services: RampartServices

    /// With no stored hash the dummy Argon2id hash is checked, so an unknown account costs the same.
    func verify(_ password: String, against stored: String?) async throws -> Bool {
        guard let stored, case .imported(let imported) = try? StoredPasswordHash(stored: stored) else {
            return try await services.passwords.verify(PasswordPolicy.normalize(password), against: stored)
        }
        return try await NIOThreadPool.singleton.runIfActive { imported.verify(password) }
    }

    /// A new Argon2id hash when the stored one is imported or made with weaker parameters
    /// than the server's: upgraded at the next successful sign-in.
    func rehashIfNeeded(_ password: String, stored: String?) async throws -> String? {
        let configured = services.passwords.parameters
        let parameters = Argon2idParameters(iterations: configured.iterations, memoryKiB: configured.memoryKiB,
                                            parallelism: configured.parallelism)
        guard let stored, let hash = try? StoredPasswordHash(stored: stored), hash.needsRehash(configured: parameters)
        else { return nil }
        return try await services.passwords.hash(PasswordPolicy.normalize(password))
    }
}
