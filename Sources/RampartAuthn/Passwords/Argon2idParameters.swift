import RampartCore

/// The cost parameters of an Argon2id hash, read from its PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), so the sign-in can tell whether a stored
/// hash was made with older, cheaper settings and must be re-computed.
public struct Argon2idParameters: Sendable, Equatable, Codable {
    public var iterations: UInt32
    public var memoryKiB: UInt32
    public var parallelism: UInt32

    public init(iterations: UInt32, memoryKiB: UInt32, parallelism: UInt32) {
        self.iterations = iterations; self.memoryKiB = memoryKiB; self.parallelism = parallelism
    }

    /// nil for anything that is not an Argon2id PHC string of version 19.
    public init?(phc: String) {
        let parts = phc.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "argon2id", parts[2] == "v=19" else { return nil }
        var values = [Substring: UInt32]()
        for pair in parts[3].split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let value = UInt32(kv[1]) else { return nil }
            values[kv[0]] = value
        }
        guard let m = values["m"], let t = values["t"], let p = values["p"], values.count == 3 else { return nil }
        self.init(iterations: t, memoryKiB: m, parallelism: p)
    }

    /// A stored hash is re-computed when any of its costs is below the configured one.
    /// A hash made with higher costs is kept: lowering the configuration should not weaken it.
    public func isWeaker(than configured: Argon2idParameters) -> Bool {
        iterations < configured.iterations || memoryKiB < configured.memoryKiB || parallelism < configured.parallelism
    }
}

/// What a stored password hash is, and whether a successful sign-in should replace it.
public enum StoredPasswordHash: Sendable, Equatable {
    case argon2id(String, Argon2idParameters)
    case imported(ImportedPasswordHash)

    public init(stored text: String) throws(RampartError) {
        if let parameters = Argon2idParameters(phc: text) { self = .argon2id(text, parameters); return }
        self = .imported(try ImportedPasswordHash(parsing: text))
    }

    public func needsRehash(configured: Argon2idParameters) -> Bool {
        switch self {
        case .argon2id(_, let parameters): parameters.isWeaker(than: configured)
        case .imported: true
        }
    }
}
