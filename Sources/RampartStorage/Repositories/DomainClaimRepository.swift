import RampartCore
import SQLKit

/// Domain claims and their verification. The check itself (DNS, HTTPS) happens outside any
/// transaction; what it found is recorded here, with its event, in one.
extension Tenant {
    public func claimDomain(_ name: DomainName, by context: AuditContext) async throws -> DomainClaim {
        if try await row("SELECT id FROM domain_claims WHERE org_id = ?1 AND domain = ?2", [orgID, name.ascii],
                         { try $0.text(0) }) != nil {
            throw RampartError(.conflict, "This organisation has already claimed \(name.unicode); verify that claim.",
                               field: "domain")
        }
        try await ensureNotVerifiedElsewhere(name.ascii)
        let now = clock()
        let claim = DomainClaim(id: Identifier.make(), domain: name.ascii, unicodeDomain: name.unicode, status: .pending,
                                token: DomainClaim.makeToken(), createdAt: now)
        try await sql.raw("""
            INSERT INTO domain_claims (org_id, id, domain, unicode_domain, status, token, created_at)
            VALUES (\(bind: orgID), \(bind: claim.id), \(bind: claim.domain), \(bind: claim.unicodeDomain), 'pending',
                    \(bind: claim.token), \(bind: now.microseconds))
            """).run()
        try await appendAudit([context.record(.domainClaimed, [.domain(claim)], at: now)])
        return claim
    }

    public func domainClaims() async throws -> [DomainClaim] {
        try await rows("SELECT \(Self.domainClaimColumns) FROM domain_claims WHERE org_id = ?1 ORDER BY domain, id", [orgID],
                       Self.decodeDomainClaim)
    }

    public func requireDomainClaim(_ id: String) async throws -> DomainClaim {
        guard let id = Identifier.canonical(id),
              let claim = try await row("SELECT \(Self.domainClaimColumns) FROM domain_claims WHERE org_id = ?1 AND id = ?2",
                                        [orgID, id], Self.decodeDomainClaim)
        else { throw RampartError.notFound("Domain") }
        return claim
    }

    /// A claim by its id or its domain, as the CLI names one.
    public func findDomainClaim(_ idOrDomain: String) async throws -> DomainClaim? {
        if let id = Identifier.canonical(idOrDomain) {
            return try await row("SELECT \(Self.domainClaimColumns) FROM domain_claims WHERE org_id = ?1 AND id = ?2",
                                 [orgID, id], Self.decodeDomainClaim)
        }
        let domain = (try? DomainName(parsing: idOrDomain, publicSuffixes: .empty))?.ascii ?? idOrDomain.lowercased()
        return try await row("SELECT \(Self.domainClaimColumns) FROM domain_claims WHERE org_id = ?1 AND domain = ?2",
                             [orgID, domain], Self.decodeDomainClaim)
    }

    /// Records one verification attempt of `id` by `method`. A proof makes the claim verified,
    /// unless another organisation verified the domain first: that, like a missing proof, is a
    /// failed check, recorded and audited, and returned as the error to answer with.
    public func recordDomainCheck(_ id: String, method: DomainVerificationMethod, result: DomainCheckResult,
                                  by context: AuditContext) async throws -> (claim: DomainClaim, failure: RampartError?) {
        var claim = try await requireDomainClaim(id)
        guard claim.status == .pending else { return (claim, nil) }
        let now = clock()
        claim.lastCheckedAt = now
        claim.lastCheckMethod = method
        var failure: RampartError?
        switch result {
        case .proven:
            if let taken = try await verifiedElsewhere(claim.domain) {
                failure = taken
            } else {
                claim.status = .verified
                claim.verifiedAt = now
                claim.verifiedMethod = method
                claim.lastCheckError = nil
            }
        case .failed(let reason):
            failure = RampartError(.domainNotVerified, reason)
        }
        if let failure { claim.lastCheckError = failure.message }
        do {
            try await sql.raw("""
                UPDATE domain_claims SET status = \(bind: claim.status.rawValue), verified_at = \(bind: claim.verifiedAt?.microseconds),
                verified_method = \(bind: claim.verifiedMethod?.rawValue), last_checked_at = \(bind: now.microseconds),
                last_check_method = \(bind: method.rawValue), last_check_error = \(bind: claim.lastCheckError)
                WHERE org_id = \(bind: orgID) AND id = \(bind: claim.id)
                """).run()
        } catch where Database.isUniqueViolation(error) {
            // Another organisation's verification committed between the check above and this update.
            throw Self.verifiedElsewhereError(claim.domain)
        }
        var details = AuditDetails(["method": .string(method.rawValue)])
        if let failure { details["reason"] = .string(failure.message) }
        try await appendAudit([context.record(failure == nil ? .domainVerified : .domainVerificationFailed, [.domain(claim)],
                                              details: details, outcome: failure == nil ? .success : .failure, at: now)])
        return (claim, failure)
    }

    /// Deleting a verified claim frees the domain for other organisations; its users stay,
    /// no longer managed.
    public func deleteDomainClaim(_ id: String, by context: AuditContext) async throws -> DomainClaim {
        let claim = try await requireDomainClaim(id)
        try await sql.raw("DELETE FROM domain_claims WHERE org_id = \(bind: orgID) AND id = \(bind: claim.id)").run()
        try await appendAudit([context.record(.domainDeleted, [.domain(claim)],
                                              details: AuditDetails(["status": .string(claim.status.rawValue)]))])
        return claim
    }

    /// A user's email may not be in a domain another organisation verified: those people are
    /// that organisation's managed accounts.
    func ensureEmailNotManagedElsewhere(_ email: String, field: String = "email") async throws {
        guard let domain = DomainName.ofEmail(email) else { return }
        if try await verifiedElsewhere(domain) != nil {
            throw RampartError(.conflict, "The domain \(domain) is verified by another organisation; its users are managed there.",
                               field: field)
        }
    }

    /// Whether this organisation verified the email's domain (`User.managed`), matched as
    /// `userSelect` matches it: the claim's ASCII form or its Unicode form.
    func isManaged(email: String) async throws -> Bool {
        guard let at = email.lastIndex(of: "@") else { return false }
        let typed = String(email[email.index(after: at)...])
        return try await row("""
            SELECT id FROM domain_claims WHERE org_id = ?1 AND status = 'verified' AND (domain = ?2 OR unicode_domain = ?3)
            """, [orgID, DomainName.ofEmail(email) ?? typed, typed]) { try $0.text(0) } != nil
    }

    private func ensureNotVerifiedElsewhere(_ domain: String) async throws {
        if let taken = try await verifiedElsewhere(domain) { throw taken }
    }

    /// Never says which organisation: only that one other than this one holds the domain.
    private func verifiedElsewhere(_ domain: String) async throws -> RampartError? {
        let holder = try await row("""
            SELECT org_id FROM domain_claims WHERE domain = ?1 AND status = 'verified' AND org_id <> ?2
            """, [domain, orgID]) { try $0.text(0) }
        return holder == nil ? nil : Self.verifiedElsewhereError(domain)
    }

    private static func verifiedElsewhereError(_ domain: String) -> RampartError {
        RampartError(.conflict, "The domain \(domain) is already verified by another organisation; a domain can be verified by one organisation only.",
                     field: "domain")
    }

    static let domainClaimColumns = """
        id, domain, unicode_domain, status, token, created_at, verified_at, verified_method, last_checked_at, \
        last_check_method, last_check_error
        """

    static func decodeDomainClaim(_ row: any ColumnReader) throws -> DomainClaim {
        DomainClaim(id: try row.text(0), domain: try row.text(1), unicodeDomain: try row.text(2),
                    status: DomainClaimStatus(rawValue: try row.text(3)) ?? .pending, token: try row.text(4),
                    createdAt: try row.timestamp(5), verifiedAt: try row.optionalTimestamp(6),
                    verifiedMethod: try row.optionalText(7).flatMap(DomainVerificationMethod.init(rawValue:)),
                    lastCheckedAt: try row.optionalTimestamp(8),
                    lastCheckMethod: try row.optionalText(9).flatMap(DomainVerificationMethod.init(rawValue:)),
                    lastCheckError: try row.optionalText(10))
    }
}

extension Database {
    /// The organisation that verified `domain` (an email's domain, in `DomainName.ofEmail` form),
    /// if any: where sign-in sends a person before it knows their organisation.
    public func organizationVerifying(domain: String) async throws -> String? {
        try await global { sql in
            try await sql.raw("SELECT org_id FROM domain_claims WHERE domain = \(bind: domain.lowercased()) AND status = 'verified'")
                .first()?.decode(column: "org_id", as: String.self)
        }
    }
}
