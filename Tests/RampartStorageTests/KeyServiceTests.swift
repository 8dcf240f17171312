import Crypto
import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

@Suite("Key service")
struct KeyServiceTests {
    static let secret = Data("JBSWY3DPEHPK3PXP-client-secret".utf8)

    static func seal(_ store: TestStore, _ org: String, _ plaintext: Data = secret, keys: KeyService? = nil)
        async throws -> String
    {
        let keys = keys ?? store.keys
        return try await store.database.write(org: org) { t async throws in
            try await keys.seal(plaintext, in: t, table: "idp_connections", row: "row-1", column: "client_secret")
        }
    }

    static func open(_ store: TestStore, _ org: String, _ sealed: String, keys: KeyService? = nil,
                     table: String = "idp_connections", row: String = "row-1", column: String = "client_secret")
        async throws -> Data
    {
        let keys = keys ?? store.keys
        return try await store.database.read(org: org) { t async throws in
            try await keys.open(sealed, in: t, table: table, row: row, column: column)
        }
    }

    static func kekPath(_ store: TestStore) -> String { store.dataDirectory + "/kek" }

    static func readKEK(_ store: TestStore) throws -> KeyEncryptionKey {
        let text = try String(contentsOfFile: kekPath(store), encoding: .utf8)
        let data = try #require(Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(data.count == 32)
        return KeyEncryptionKey(key: SymmetricKey(data: data))
    }

    static func source(_ store: TestStore) -> KeyEncryptionKeySource {
        .resolve(dataDirectory: store.dataDirectory, environment: [:])
    }

    @Test(arguments: Backend.all)
    func sealThenOpenRoundTrips(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization.id
            let sealed = try await Self.seal(store, org)
            #expect(sealed.hasPrefix("v1.1."))
            #expect(!sealed.contains("JBSWY3DP"))
            #expect(try await Self.open(store, org, sealed) == Self.secret)
            #expect(try await Self.seal(store, org) != sealed, "each seal has a fresh nonce")
            let empty = try await Self.seal(store, org, Data())
            #expect(try await Self.open(store, org, empty) == Data())
            // A service without a warm cache, from the same key file, opens it as well.
            let fresh = try KeyService(source: Self.source(store))
            #expect(try await Self.open(store, org, sealed, keys: fresh) == Self.secret)
        }
    }

    @Test(arguments: Backend.all)
    func aSealedValueOpensOnlyWhereItWasSealed(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization().organization.id
            let b = try await store.createOrganization().organization.id
            let sealed = try await Self.seal(store, a)
            await expectRampartError(.integrity) { _ = try await Self.open(store, a, sealed, row: "row-2") }
            await expectRampartError(.integrity) { _ = try await Self.open(store, a, sealed, column: "client_id") }
            await expectRampartError(.integrity) { _ = try await Self.open(store, a, sealed, table: "products") }
            await expectRampartError(.integrity) { _ = try await Self.open(store, b, sealed) }
            #expect(try await Self.open(store, a, sealed) == Self.secret)
        }
    }

    @Test(arguments: Backend.all)
    func tamperedOrMalformedValuesDoNotOpen(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization.id
            let sealed = try await Self.seal(store, org)
            let combined = try #require(Data(base64Encoded: String(sealed.dropFirst("v1.1.".count))))
            for index in [0, 12, 12 + Self.secret.count / 2, combined.count - 1] {  // nonce, ciphertext, tag
                var altered = combined
                altered[index] ^= 0x01
                await expectRampartError(.integrity) {
                    _ = try await Self.open(store, org, "v1.1." + altered.base64EncodedString())
                }
            }
            for malformed in ["", "garbage", "v2.1." + combined.base64EncodedString(), "v1.x.abc", "v1.1.!!!!",
                              "v1.1." + combined.prefix(20).base64EncodedString(),
                              "v1.2." + combined.base64EncodedString()] {
                await expectRampartError(.integrity) { _ = try await Self.open(store, org, malformed) }
            }
        }
    }

    @Test(arguments: Backend.all)
    func theKeyFileIsOwnerOnly(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let attributes = try FileManager.default.attributesOfItem(atPath: Self.kekPath(store))
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            _ = try Self.readKEK(store)
            if backend == .sqlite {
                let database = try FileManager.default.attributesOfItem(atPath: store.dataDirectory + "/rampart.sqlite")
                #expect((database[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            }
        }
    }

    /// Rotation walks every organisation of the store and replaces the key file, so it runs on
    /// SQLite, where each test has a store of its own. On the shared PostgreSQL test database
    /// it would re-wrap the keys of every other test running at the same time; the SQL it runs
    /// is the same tenant-scoped SQL that every PostgreSQL test exercises.
    @Test(arguments: [Backend.sqlite])
    func rotateKEKRewrapsAndANewServiceOpensOldValues(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let sealed = try await Self.seal(store, org)
            let oldKEK = try Self.readKEK(store)

            let outcome = try await KeyService.rotateKEK(database: store.database, source: Self.source(store))
            #expect(outcome.organizations == 1)
            #expect(outcome.keys == 1)

            let newKEK = try Self.readKEK(store)
            #expect(newKEK.id != oldKEK.id)
            #expect(!FileManager.default.fileExists(atPath: Self.kekPath(store) + ".next"))
            #expect(!FileManager.default.fileExists(atPath: Self.kekPath(store) + ".previous"))
            let attributes = try FileManager.default.attributesOfItem(atPath: Self.kekPath(store))
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            let kekIDs = try await store.database.read(org: org) { t async throws in
                try await t.sql.raw("SELECT kek_id FROM org_keys WHERE org_id = \(bind: org)").all()
                    .map { try $0.decode(column: "kek_id", as: String.self) }
            }
            #expect(kekIDs == [newKEK.id])

            let fresh = try KeyService(source: Self.source(store))
            #expect(try await Self.open(store, org, sealed, keys: fresh) == Self.secret)
            let sealedAfter = try await Self.seal(store, org, keys: fresh)
            #expect(try await Self.open(store, org, sealedAfter, keys: KeyService(current: newKEK)) == Self.secret)
            await expectRampartError(.configuration) {
                _ = try await Self.open(store, org, sealed, keys: KeyService(current: oldKEK))
            }

            let last = try #require(try await store.events(org).last)
            #expect(last.action == "keys.kek_rotated")
            #expect(JSONValue.parse(last.detailsJSON)
                == .object(["kekId": .string(newKEK.id), "keysRewrapped": .int(1)]))
            #expect(try await store.verify(created.organization).failure == nil)
        }
    }

    /// SQLite only, for the reason given above rotateKEKRewrapsAndANewServiceOpensOldValues.
    @Test(arguments: [Backend.sqlite])
    func rotationStopsAtAKeyUnderAnUnknownKEKAndLosesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let otherKEK = KeyEncryptionKey.generate()
            let otherKeys = KeyService(current: otherKEK)
            let foreign = try await OrganizationProvisioner(database: store.database, keys: otherKeys)
                .create(name: "Foreign", slug: "f-" + UUID().uuidString.prefix(8).lowercased(), region: "eu",
                        adminEmail: "foreign@example.com", adminName: nil)
            let foreignSealed = try await Self.seal(store, foreign.organization.id, keys: otherKeys)
            let mine = try await store.createOrganization()
            let sealed = try await Self.seal(store, mine.organization.id)
            let kekBefore = try Self.readKEK(store)

            await expectRampartError(.integrity) {
                _ = try await KeyService.rotateKEK(database: store.database, source: Self.source(store))
            }

            #expect(try Self.readKEK(store).id == kekBefore.id, "the current KEK is replaced only after a full rotation")
            let fresh = try KeyService(source: Self.source(store))
            #expect(try await Self.open(store, mine.organization.id, sealed, keys: fresh) == Self.secret)
            #expect(try await Self.open(store, foreign.organization.id, foreignSealed,
                                        keys: KeyService(current: otherKEK)) == Self.secret)
            let foreignEvents = try await store.database.read(org: foreign.organization.id) {
                try await $0.auditEvents(after: 0, limit: 100, as: .stored)
            }
            #expect(!foreignEvents.contains { $0.action == "keys.kek_rotated" })
            #expect(try await store.verify(foreign.organization).failure == nil)
        }
    }
}
