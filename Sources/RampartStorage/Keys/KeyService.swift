import Crypto
import Foundation
import NIOConcurrencyHelpers
import RampartCore
import SQLKit

/// Per-organisation data keys (AES-256-GCM), stored wrapped by the KEK, and sealing of
/// values with them. The authenticated data of every seal binds organisation, table, row
/// and column: a sealed value copied anywhere else does not open.
public final class KeyService: Sendable {
    private let current: KeyEncryptionKey
    private let next: KeyEncryptionKey?
    private let cache = NIOLockedValueBox<[String: (version: Int64, key: SymmetricKey)]>([:])

    public init(current: KeyEncryptionKey, next: KeyEncryptionKey? = nil) {
        self.current = current
        self.next = next
    }

    public convenience init(source: KeyEncryptionKeySource) throws {
        let keys = try source.load()
        self.init(current: keys.current, next: keys.next)
    }

    /// The key service for `database`. A missing key file is created only for a store that
    /// holds no organisation yet: beside an existing store a new key could open nothing, and
    /// writing it would hide that the real one is lost. A database that does not answer at
    /// start cannot be asked; the key is then made as before, and `checkMatches` refuses it
    /// once the database answers if the store's keys were wrapped by another.
    public static func open(source: KeyEncryptionKeySource, database: Database) async throws -> KeyService {
        if let path = source.missingKeyFile {
            let holdsKeys = try await { () async throws -> Bool in
                do { return try await database.holdsOrganizations() } catch let error as RampartError
                    where error.code == .databaseUnavailable { return false }
            }()
            if holdsKeys {
                throw RampartError(.configuration, """
                    The key-encryption key is missing: there is no key file at \(path) and RAMPART_KEK is not set, \
                    but this store already holds organisation keys wrapped by one. Restore that key file (mode 0600) \
                    or set RAMPART_KEK; no new key was created, because it could not open them.
                    """)
            }
        }
        let keys = try KeyService(source: source)
        database.attach(keys)
        return keys
    }

    /// A key for one purpose of the servers themselves (signing sign-in form tokens, ...),
    /// derived from the current key-encryption key with HKDF-SHA256: every node of one store
    /// derives the same key, and none is stored.
    public func derivedKey(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: current.key, info: Data(purpose.utf8), outputByteCount: 32)
    }

    /// The organisation's key for the actor pseudonyms of its log streams: derived with
    /// HKDF-SHA256 from its first data key, which key rotation keeps, so a person's pseudonym
    /// never changes, and no two organisations share one.
    public func pseudonymKey(in tenant: Tenant) async throws -> SymmetricKey {
        let (_, first) = try await dataKey(in: tenant, version: 1)
        return HKDF<SHA256>.deriveKey(inputKeyMaterial: first, info: Data("rampart.log-stream-pseudonym.v1".utf8),
                                      outputByteCount: 32)
    }

    /// The organisation's key for the references of audit subjects known by an email or a
    /// product's reference (`audit_subject_keys.subject`): an HMAC of the address under it, so
    /// the table never holds the address, and the same address finds the same key. Derived
    /// as `pseudonymKey` is, with another purpose.
    public func subjectReferenceKey(in tenant: Tenant) async throws -> SymmetricKey {
        let (_, first) = try await dataKey(in: tenant, version: 1)
        return HKDF<SHA256>.deriveKey(inputKeyMaterial: first, info: Data("rampart.audit-subject.v1".utf8),
                                      outputByteCount: 32)
    }

    /// Creates the organisation's first data key; called in the transaction that creates it.
    func createOrganizationKey(in tenant: Tenant, at now: Timestamp) async throws {
        let dataKey = SymmetricKey(size: .bits256)
        let wrapped = try wrap(dataKey, org: tenant.orgID, version: 1, with: current)
        try await tenant.sql.raw("""
            INSERT INTO org_keys (org_id, version, wrapped_key, kek_id, created_at)
            VALUES (\(bind: tenant.orgID), 1, \(bind: wrapped), \(bind: current.id), \(bind: now.microseconds))
            """).run()
    }

    public func seal(_ plaintext: Data, in tenant: Tenant, table: String, row: String, column: String) async throws
        -> String
    {
        let (version, key) = try await dataKey(in: tenant)
        let aad = Self.associatedData(org: tenant.orgID, table: table, row: row, column: column, version: version)
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: aad)
        return "v1.\(version).\(box.combined!.base64EncodedString())"
    }

    public func open(_ sealed: String, in tenant: Tenant, table: String, row: String, column: String) async throws
        -> Data
    {
        let value = try SealedValue(sealed)
        let (_, key) = try await dataKey(in: tenant, version: value.version)
        return try value.open(with: key, org: tenant.orgID, table: table, row: row, column: column)
    }

    /// Opens many values of one column: the data keys they name are read in the tenant's
    /// transaction, then the values are opened in slices on every core (`mapInSlices`), which
    /// need nothing else. An export's page names up to thousands of subject keys.
    public func openAll(_ sealed: [(row: String, value: String)], in tenant: Tenant, table: String, column: String) async throws
        -> [Data]
    {
        let values = try sealed.map { try SealedValue($0.value) }
        var keys: [Int64: SymmetricKey] = [:]
        for version in Set(values.map(\.version)) { keys[version] = try await dataKey(in: tenant, version: version).1 }
        let org = tenant.orgID, found = keys
        let opened = await Array(zip(sealed.map(\.row), values)).mapInSlices { slice in
            slice.map { row, value in
                Result { try value.open(with: found[value.version]!, org: org, table: table, row: row, column: column) }
            }
        }
        return try opened.map { try $0.get() }
    }

    /// A value as `seal` writes it, `v1.<data key version>.<base64 of nonce, ciphertext, tag>`, read once.
    private struct SealedValue: Sendable {
        let version: Int64
        let box: AES.GCM.SealedBox

        init(_ sealed: String) throws {
            let parts = sealed.split(separator: ".", maxSplits: 2)
            guard parts.count == 3, parts[0] == "v1", let version = Int64(parts[1]),
                  let combined = Data(base64Encoded: String(parts[2])), let box = try? AES.GCM.SealedBox(combined: combined)
            else { throw RampartError(.integrity, "A sealed value is malformed.") }
            self.version = version; self.box = box
        }

        func open(with key: SymmetricKey, org: String, table: String, row: String, column: String) throws -> Data {
            let aad = KeyService.associatedData(org: org, table: table, row: row, column: column, version: version)
            do {
                return try AES.GCM.open(box, using: key, authenticating: aad)
            } catch {
                throw RampartError(.integrity, "A sealed value does not open here: it was altered or belongs elsewhere.")
            }
        }
    }

    /// Re-wraps every organisation's keys with the next KEK, one organisation per transaction.
    /// Safe to re-run after an interruption: keys already under the next KEK are skipped.
    public static func rotateKEK(database: Database, source: KeyEncryptionKeySource) async throws
        -> (organizations: Int, keys: Int, message: String)
    {
        let loaded = try source.load()
        let next = try source.prepareNext()
        let candidates = [loaded.current, next]
        let orgIDs = try await database.global { sql in
            try await sql.raw("SELECT id FROM organizations ORDER BY id").all().map { try $0.decode(column: "id", as: String.self) }
        }
        var rewrapped = 0
        for org in orgIDs {
            rewrapped += try await database.write(org: org) { tenant in
                var count = 0
                let rows = try await tenant.sql.raw("""
                    SELECT version, wrapped_key, kek_id FROM org_keys WHERE org_id = \(bind: org)
                    """).all()
                for row in rows {
                    let version = try row.decode(column: "version", as: Int64.self)
                    let kekID = try row.decode(column: "kek_id", as: String.self)
                    if kekID == next.id { continue }
                    guard let kek = candidates.first(where: { $0.id == kekID }) else {
                        throw RampartError(.integrity, "An organisation key is wrapped by an unknown KEK (\(kekID)).")
                    }
                    let dataKey = try unwrap(try row.decode(column: "wrapped_key", as: String.self),
                                             org: org, version: version, with: kek)
                    let wrapped = try wrap(dataKey, org: org, version: version, with: next)
                    try await tenant.sql.raw("""
                        UPDATE org_keys SET wrapped_key = \(bind: wrapped), kek_id = \(bind: next.id)
                        WHERE org_id = \(bind: org) AND version = \(bind: version)
                        """).run()
                    count += 1
                }
                try await tenant.appendAudit([AuditRecord(
                    action: .kekRotated, actor: .system, targets: [.organization(try await tenant.organization())],
                    details: AuditDetails(["kekId": .string(next.id), "keysRewrapped": .int(Int64(count))]))])
                return count
            }
        }
        let message = try source.promoteNext()
        return (orgIDs.count, rewrapped, message)
    }

    /// Refuses a key-encryption key that did not wrap this store's keys: a node or command
    /// started with the wrong key file (or none) must stop before it writes keys nobody else
    /// can unwrap. One organisation is enough to tell.
    public func checkMatches(_ database: Database) async throws {
        guard let orgID = try await database.global({ sql in
            try await sql.raw("SELECT id FROM organizations ORDER BY created_at, id LIMIT 1").first()
                .map { try $0.decode(column: "id", as: String.self) }
        }) else { return }
        let kekIDs = try await database.read(org: orgID) { tenant in
            try await tenant.sql.raw("SELECT DISTINCT kek_id FROM org_keys WHERE org_id = \(bind: orgID)").all()
                .map { try $0.decode(column: "kek_id", as: String.self) }
        }
        let known = Set([current.id, next?.id].compactMap { $0 })
        if let foreign = kekIDs.first(where: { !known.contains($0) }) {
            throw RampartError(.configuration, """
                This store's organisation keys are wrapped by key-encryption key \(foreign), but this process has \
                \(current.id). Give every node and command the same RAMPART_KEK (or the same --data-dir key file).
                """)
        }
    }

    private func dataKey(in tenant: Tenant, version: Int64? = nil) async throws -> (Int64, SymmetricKey) {
        let cacheKey = "\(tenant.orgID)#\(version.map(String.init) ?? "latest")"
        if let hit = cache.withLockedValue({ $0[cacheKey] }) { return hit }
        let row: (any SQLRow)?
        if let version {
            row = try await tenant.sql.raw("""
                SELECT version, wrapped_key, kek_id FROM org_keys WHERE org_id = \(bind: tenant.orgID)
                AND version = \(bind: version)
                """).first()
        } else {
            row = try await tenant.sql.raw("""
                SELECT version, wrapped_key, kek_id FROM org_keys WHERE org_id = \(bind: tenant.orgID)
                ORDER BY version DESC LIMIT 1
                """).first()
        }
        guard let row else { throw RampartError(.integrity, "The organisation has no data key.") }
        let found = try row.decode(column: "version", as: Int64.self)
        let kekID = try row.decode(column: "kek_id", as: String.self)
        guard let kek = [current, next].compactMap({ $0 }).first(where: { $0.id == kekID }) else {
            throw RampartError(.configuration,
                               "The organisation key is wrapped by another KEK (\(kekID)); start with the right key file or RAMPART_KEK.")
        }
        let key = try Self.unwrap(try row.decode(column: "wrapped_key", as: String.self), org: tenant.orgID,
                                  version: found, with: kek)
        cache.withLockedValue { $0[cacheKey] = (found, key) }
        return (found, key)
    }

    private static func associatedData(org: String, table: String, row: String, column: String, version: Int64) -> Data {
        // Length-prefixed so no two different bindings can produce the same bytes.
        var data = Data()
        for part in ["rampart.seal.v1", org, table, row, column, String(version)] {
            let bytes = Array(part.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: bytes)
        }
        return data
    }

    private func wrap(_ key: SymmetricKey, org: String, version: Int64, with kek: KeyEncryptionKey) throws -> String {
        try Self.wrap(key, org: org, version: version, with: kek)
    }

    private static func wrap(_ key: SymmetricKey, org: String, version: Int64, with kek: KeyEncryptionKey) throws
        -> String
    {
        let raw = key.withUnsafeBytes { Data($0) }
        let box = try AES.GCM.seal(raw, using: kek.key, authenticating: Data("rampart.org-key.v1|\(org)|\(version)".utf8))
        return box.combined!.base64EncodedString()
    }

    private static func unwrap(_ wrapped: String, org: String, version: Int64, with kek: KeyEncryptionKey) throws
        -> SymmetricKey
    {
        guard let data = Data(base64Encoded: wrapped), let box = try? AES.GCM.SealedBox(combined: data),
              let raw = try? AES.GCM.open(box, using: kek.key,
                                          authenticating: Data("rampart.org-key.v1|\(org)|\(version)".utf8))
        else { throw RampartError(.integrity, "An organisation key does not unwrap with the configured KEK.") }
        return SymmetricKey(data: raw)
    }
}
