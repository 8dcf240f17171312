import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RampartCore

/// The key-encryption key (KEK) that wraps every organisation's data key.
///
/// It comes from `RAMPART_KEK` (base64 of 32 bytes) or from `<data-dir>/kek`, created with
/// mode 0600 on first start. During a rotation a second key (`kek.next`, or `RAMPART_KEK_NEXT`)
/// exists beside it; each wrapped key records which KEK wrapped it, so an interrupted rotation
/// can always be resumed.
public struct KeyEncryptionKey: Sendable {
    public let key: SymmetricKey
    /// A fingerprint, not the key: safe to store and log.
    public let id: String

    public init(key: SymmetricKey) {
        self.key = key
        var sha = SHA256()
        sha.update(data: Array("rampart.kek-id.v1".utf8))
        key.withUnsafeBytes { sha.update(bufferPointer: $0) }
        self.id = String(sha.finalize().hexString.prefix(16))
    }

    public static func generate() -> KeyEncryptionKey { KeyEncryptionKey(key: SymmetricKey(size: .bits256)) }

    init(base64 text: String, source: String) throws {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw RampartError(.configuration, "\(source) must hold 32 bytes in base64 (e.g. from `openssl rand -base64 32`).")
        }
        self.init(key: SymmetricKey(data: data))
    }

    var base64: String { key.withUnsafeBytes { Data($0).base64EncodedString() } }
}

/// Where the KEK lives, and how it is replaced during a rotation.
public struct KeyEncryptionKeySource: Sendable {
    enum Origin: Sendable { case file(directory: String), environment }
    let origin: Origin

    public static func resolve(dataDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> KeyEncryptionKeySource
    {
        if let value = environment["RAMPART_KEK"], !value.isEmpty { return KeyEncryptionKeySource(origin: .environment) }
        return KeyEncryptionKeySource(origin: .file(directory: dataDirectory))
    }

    /// The key file this source would read, when it is a file that does not exist (yet).
    public var missingKeyFile: String? {
        guard case .file(let directory) = origin else { return nil }
        let path = (directory as NSString).appendingPathComponent("kek")
        return FileManager.default.fileExists(atPath: path) ? nil : path
    }

    /// The current KEK and, if a rotation is under way, the next one.
    public func load(createIfMissing: Bool = true, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (current: KeyEncryptionKey, next: KeyEncryptionKey?)
    {
        switch origin {
        case .environment:
            let current = try KeyEncryptionKey(base64: environment["RAMPART_KEK"] ?? "", source: "RAMPART_KEK")
            let next = try environment["RAMPART_KEK_NEXT"].flatMap { $0.isEmpty ? nil : $0 }
                .map { try KeyEncryptionKey(base64: $0, source: "RAMPART_KEK_NEXT") }
            return (current, next)
        case .file(let directory):
            let path = (directory as NSString).appendingPathComponent("kek")
            if !FileManager.default.fileExists(atPath: path) {
                guard createIfMissing else {
                    throw RampartError(.configuration, "No key file at \(path); start `rampart serve` once or set RAMPART_KEK.")
                }
                do {
                    try Self.store(KeyEncryptionKey.generate(), at: path)
                } catch where FileManager.default.fileExists(atPath: path) {
                    // Another process (or task) created it first: use theirs.
                }
            }
            let current = try Self.read(path)
            let nextPath = path + ".next"
            let next = FileManager.default.fileExists(atPath: nextPath) ? try Self.read(nextPath) : nil
            return (current, next)
        }
    }

    /// Makes (or reuses) the next KEK before any key is re-wrapped with it.
    func prepareNext(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KeyEncryptionKey {
        switch origin {
        case .environment:
            guard let next = try load(environment: environment).next else {
                throw RampartError(.configuration,
                                   "Set RAMPART_KEK_NEXT to the new key (base64 of 32 bytes) to rotate an environment KEK.")
            }
            return next
        case .file(let directory):
            let nextPath = (directory as NSString).appendingPathComponent("kek.next")
            if FileManager.default.fileExists(atPath: nextPath) { return try Self.read(nextPath) }
            let next = KeyEncryptionKey.generate()
            try Self.store(next, at: nextPath)
            return next
        }
    }

    /// After every organisation key is re-wrapped: the next KEK becomes the current one.
    func promoteNext() throws -> String {
        switch origin {
        case .environment:
            return "Now set RAMPART_KEK to the value of RAMPART_KEK_NEXT and unset RAMPART_KEK_NEXT."
        case .file(let directory):
            let path = (directory as NSString).appendingPathComponent("kek")
            let previous = path + ".previous"
            try? FileManager.default.removeItem(atPath: previous)
            try FileManager.default.moveItem(atPath: path, toPath: previous)
            try FileManager.default.moveItem(atPath: path + ".next", toPath: path)
            try FileManager.default.removeItem(atPath: previous)
            return "The key file \(path) now holds the new key."
        }
    }

    private static func read(_ path: String) throws -> KeyEncryptionKey {
        try refuseLooseMode(path)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RampartError(.configuration, "Cannot read the key file \(path); check its owner and mode (0600).")
        }
        return try KeyEncryptionKey(base64: text, source: "The key file \(path)")
    }

    /// A key anyone but its owner can read is a key that may have been copied: like ssh with a
    /// private key, refuse it and say how to fix the mode, rather than use it silently.
    static func refuseLooseMode(_ path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        let mode = status.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw RampartError(.configuration, """
                The key file \(path) is accessible to group or others (mode \(String(mode, radix: 8))); \
                only its owner may read it. Run `chmod 600 \(path)` and check who could have copied it.
                """)
        }
    }

    private static func store(_ kek: KeyEncryptionKey, at path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        // Written whole under a name of its own, then linked into place: a process that finds
        // the key file (a server and a CLI started together) never reads it half written, and
        // of two creating it at once exactly one link succeeds. Created with 0600 from the
        // start: never a moment where the key is readable by others.
        let temporary = path + ".new-" + UUID().uuidString
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw RampartError(.configuration, "Cannot create the key file \(path).") }
        defer { unlink(temporary) }
        let bytes = Array((kek.base64 + "\n").utf8)
        let written = Glibc.write(fd, bytes, bytes.count) == bytes.count && fsync(fd) == 0
        close(fd)
        guard written, link(temporary, path) == 0 else {
            throw RampartError(.configuration, "Cannot write the key file \(path).")
        }
    }
}
