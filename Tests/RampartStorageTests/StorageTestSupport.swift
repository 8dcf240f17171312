import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Expects `body` to throw a `RampartError` with `code`, and returns it.
@discardableResult
func expectRampartError(_ code: RampartError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () async throws -> Void) async -> RampartError? {
    let error = await #expect(throws: RampartError.self, sourceLocation: sourceLocation) { try await body() }
    #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
    return error
}

/// The audit context of a person acting through the console or API.
func acting(as user: User, requestID: String? = nil) -> AuditContext {
    AuditContext(actor: AuditActor(type: .user, id: user.id, name: user.email, ip: "198.51.100.7"), requestID: requestID)
}

extension TestStore {
    func events(_ org: String) async throws -> [AuditEvent] {
        try await database.read(org: org) { try await $0.auditEvents(after: 0, limit: 10_000) }
    }

    func head(_ org: String) async throws -> ChainHead {
        try await database.read(org: org) { try await $0.auditHead() }
    }

    func verify(_ org: Organization) async throws -> AuditVerifier.Report {
        try await AuditVerifier(database: database).verify(org)
    }
}
