import CArgon2
import Crypto
import Foundation
import NIOPosix
import RampartCore

/// Argon2id through libargon2, in the PHC string format so parameters travel with each hash.
public struct PasswordHasher: Sendable {
    public struct Parameters: Sendable {
        public var iterations: UInt32
        public var memoryKiB: UInt32
        public var parallelism: UInt32
        /// OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
        public static let standard = Parameters(iterations: 2, memoryKiB: 19 * 1024, parallelism: 1)
        public init(iterations: UInt32, memoryKiB: UInt32, parallelism: UInt32) {
            self.iterations = iterations; self.memoryKiB = memoryKiB; self.parallelism = parallelism
        }
    }

    public let parameters: Parameters
    /// A hash of a random password with these parameters, checked when there is no account,
    /// so that an unknown account costs what a known one does.
    private let dummyHash: String

    public init(parameters: Parameters = .standard) {
        self.parameters = parameters
        self.dummyHash = Self.dummyHash(parameters)
    }

    public func hash(_ password: String) async throws -> String {
        let parameters = self.parameters
        return try await NIOThreadPool.singleton.runIfActive {
            let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }
            let pwd = Array(password.utf8)
            let length = argon2_encodedlen(parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                                           UInt32(salt.count), 32, Argon2_id)
            var encoded = [CChar](repeating: 0, count: length)
            let result = argon2id_hash_encoded(parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                                               pwd, pwd.count, salt, salt.count, 32, &encoded, length)
            guard result == ARGON2_OK.rawValue else {
                throw RampartError(.internalError, "Password hashing failed (argon2 code \(result)).")
            }
            return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Verifies in constant time (libargon2 compares digests with a constant-time routine).
    /// With no stored hash it still does the work, so timing does not reveal whether an account exists.
    public func verify(_ password: String, against encoded: String?) async throws -> Bool {
        let dummy = dummyHash
        return try await NIOThreadPool.singleton.runIfActive {
            let pwd = Array(password.utf8)
            let target = encoded ?? dummy
            let ok = argon2id_verify(target, pwd, pwd.count) == ARGON2_OK.rawValue
            return ok && encoded != nil
        }
    }

    private static func dummyHash(_ p: Parameters) -> String {
        let salt = [UInt8](repeating: 7, count: 16)
        let pwd = Array(UUID().uuidString.utf8)
        let length = argon2_encodedlen(p.iterations, p.memoryKiB, p.parallelism, 16, 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        _ = argon2id_hash_encoded(p.iterations, p.memoryKiB, p.parallelism, pwd, pwd.count, salt, 16, 32, &encoded, length)
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
