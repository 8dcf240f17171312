import Foundation
import Synchronization
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Issue 18, finding 6: a key file others can read is refused, and a lost key file is never
/// silently replaced beside a store whose keys it wrapped.
@Suite("Key-file safety")
struct KeyFileSafetyTests {
    static func scratch() throws -> String { try makeScratchDirectory("rampart-kek") }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660])
    func keyFileAccessibleToOthersIsRefusedWithTheFix(mode: Int) throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = KeyEncryptionKeySource.resolve(dataDirectory: directory, environment: [:])
        _ = try source.load()
        let path = directory + "/kek"
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let error = try #require(throws: RampartError.self) { try source.load() }
        #expect(error.code == .configuration)
        #expect(error.message.contains("chmod 600 \(path)"), "\(error.message)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(throws: Never.self) { try source.load() }
    }

    @Test(arguments: Backend.all)
    func missingKeyFileBesideAStoreWithKeysIsNotCreated(backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            _ = try await store.createOrganization()
            let elsewhere = try Self.scratch()
            defer { try? FileManager.default.removeItem(atPath: elsewhere) }
            let source = KeyEncryptionKeySource.resolve(dataDirectory: elsewhere, environment: [:])
            let error = await #expect(throws: RampartError.self) {
                try await KeyService.open(source: source, database: store.database)
            }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains("missing") == true)
            #expect(error?.message.contains(elsewhere + "/kek") == true, "says where it looked: \(error?.message ?? "")")
            #expect(!FileManager.default.fileExists(atPath: elsewhere + "/kek"), "no key file was written")
        }
    }

    /// Processes started together on a new data directory (a server and a CLI, or parallel
    /// tests on one database) all get the one key: none reads the file half written.
    @Test func keyFileCreatedByManyAtOnceIsReadWholeByAll() throws {
        for _ in 0..<20 {
            let directory = try Self.scratch()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let outcomes = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                let outcome: String
                do {
                    outcome = try KeyEncryptionKeySource.resolve(dataDirectory: directory, environment: [:]).load().current.id
                } catch {
                    outcome = "\(error)"
                }
                outcomes.withLock { $0.append(outcome) }
            }
            let seen = outcomes.withLock { $0 }
            #expect(seen.count == 8 && Set(seen).count == 1, "one key for all, no error: \(Set(seen))")
            let left = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(left == ["kek"], "no temporary files are left: \(left)")
        }
    }

    @Test func missingKeyFileOfAnEmptyStoreIsCreated() async throws {
        try await TestStore.with(.sqlite) { store in
            let fresh = try Self.scratch()
            defer { try? FileManager.default.removeItem(atPath: fresh) }
            let source = KeyEncryptionKeySource.resolve(dataDirectory: fresh, environment: [:])
            _ = try await KeyService.open(source: source, database: store.database)
            let attributes = try FileManager.default.attributesOfItem(atPath: fresh + "/kek")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
    }
}
