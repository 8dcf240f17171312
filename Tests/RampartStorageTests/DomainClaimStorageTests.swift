import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// Claims, verification and managed accounts. Every test uses domains of its own: the store
/// may be shared with other tests, and a verified domain is verified for all of them.
@Suite("Domain claims in storage")
struct DomainClaimStorageTests {
    static func freshDomain() throws -> DomainName {
        try DomainName(parsing: "d\(Identifier.compact(Identifier.make()).suffix(12)).example.net", publicSuffixes: .empty)
    }

    static func claim(_ store: TestStore, _ org: String, _ name: DomainName) async throws -> DomainClaim {
        try await store.database.write(org: org) { try await $0.claimDomain(name, by: .system) }
    }

    static func check(_ store: TestStore, _ org: String, _ id: String, _ result: DomainCheckResult)
        async throws -> (claim: DomainClaim, failure: RampartError?) {
        try await store.database.write(org: org) { try await $0.recordDomainCheck(id, method: .dns, result: result, by: .system) }
    }

    @Test(arguments: Backend.all)
    func theFirstOrganisationToVerifyHoldsTheDomain(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let c = try await store.createOrganization()
            let name = try Self.freshDomain()
            // Both may claim it while it is pending; each gets its own token.
            let claimA = try await Self.claim(store, a.organization.id, name)
            let claimB = try await Self.claim(store, b.organization.id, name)
            #expect(claimA.status == .pending && claimA.token != claimB.token)
            #expect(try await store.database.organizationVerifying(domain: name.ascii) == nil)

            let verified = try await Self.check(store, a.organization.id, claimA.id, .proven)
            #expect(verified.failure == nil && verified.claim.status == .verified && verified.claim.verifiedMethod == .dns)
            #expect(try await store.database.organizationVerifying(domain: name.ascii) == a.organization.id)

            // B proves it too, but too late: recorded and audited as a failure, without naming A.
            let late = try await Self.check(store, b.organization.id, claimB.id, .proven)
            let failure = try #require(late.failure)
            #expect(failure.code == .conflict && failure.message.contains("verified by another organisation"))
            #expect(!failure.message.contains(a.organization.id) && !failure.message.contains(a.organization.name))
            let stored = try await store.database.read(org: b.organization.id) { try await $0.requireDomainClaim(claimB.id) }
            #expect(stored.status == .pending && stored.lastCheckError == failure.message && stored.lastCheckMethod == .dns)
            let lastB = try #require(try await store.events(b.organization.id).last)
            #expect(lastB.action == "domain.verification_failed" && lastB.outcome == "failure")
            #expect(try await store.events(a.organization.id).last?.action == "domain.verified")

            // A third organisation cannot even claim it, and its log is unchanged.
            let headC = try await store.head(c.organization.id)
            await expectRampartError(.conflict) { _ = try await Self.claim(store, c.organization.id, name) }
            #expect(try await store.head(c.organization.id) == headC)

            // Deleting A's claim frees the domain: B verifies now.
            _ = try await store.database.write(org: a.organization.id) { try await $0.deleteDomainClaim(claimA.id, by: .system) }
            #expect(try await Self.check(store, b.organization.id, claimB.id, .proven).claim.status == .verified)
            #expect(try await store.database.organizationVerifying(domain: name.ascii) == b.organization.id)
            for org in [a, b, c] { #expect(try await store.verify(org.organization).failure == nil) }
        }
    }

    @Test(arguments: Backend.all)
    func theDatabaseItselfRefusesASecondVerifiedClaim(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let name = try Self.freshDomain()
            let claimA = try await Self.claim(store, a.organization.id, name)
            let claimB = try await Self.claim(store, b.organization.id, name)
            _ = try await Self.check(store, a.organization.id, claimA.id, .proven)
            // Behind the repository's back, as B: the unique index over verified domains refuses it.
            await expectRampartError(.conflict) {
                try await store.database.write(org: b.organization.id) { tenant in
                    try await tenant.sql.raw("""
                        UPDATE domain_claims SET status = 'verified' WHERE org_id = \(bind: b.organization.id) AND id = \(bind: claimB.id)
                        """).run()
                }
            }
            #expect(try await store.database.read(org: b.organization.id) { try await $0.requireDomainClaim(claimB.id) }.status
                == .pending)
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganisationCannotSeeVerifyOrDeleteAClaim(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let claimA = try await Self.claim(store, a.organization.id, try Self.freshDomain())
            let verifiedA = try await Self.claim(store, a.organization.id, try Self.freshDomain())
            _ = try await Self.check(store, a.organization.id, verifiedA.id, .proven)
            let headA = try await store.head(a.organization.id), headB = try await store.head(b.organization.id)
            try await store.database.read(org: b.organization.id) { tenant async throws in
                #expect(try await tenant.domainClaims().isEmpty)
                #expect(try await tenant.findDomainClaim(claimA.domain) == nil)
                #expect(try await tenant.findDomainClaim(verifiedA.domain) == nil)
            }
            for id in [claimA.id, verifiedA.id] {
                await expectRampartError(.notFound) {
                    _ = try await store.database.read(org: b.organization.id) { try await $0.requireDomainClaim(id) }
                }
                await expectRampartError(.notFound) { _ = try await Self.check(store, b.organization.id, id, .proven) }
                await expectRampartError(.notFound) {
                    _ = try await store.database.write(org: b.organization.id) { try await $0.deleteDomainClaim(id, by: .system) }
                }
            }
            #expect(try await store.head(a.organization.id) == headA)
            #expect(try await store.head(b.organization.id) == headB)
            let stillA = try await store.database.read(org: a.organization.id) { try await $0.requireDomainClaim(claimA.id) }
            #expect(stillA == claimA)
        }
    }

    @Test(arguments: Backend.all)
    func aFailedCheckIsRecordedAndAClaimTwiceChangesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization()
            let name = try Self.freshDomain()
            let claim = try await Self.claim(store, a.organization.id, name)
            let (failed, failure) = try await Self.check(store, a.organization.id, claim.id, .failed("No TXT record at x."))
            #expect(failure?.code == .domainNotVerified && failed.status == .pending && failed.lastCheckError == "No TXT record at x.")
            let event = try #require(try await store.events(a.organization.id).last)
            #expect(event.action == "domain.verification_failed" && event.detailsJSON.contains("No TXT record at x."))
            let head = try await store.head(a.organization.id)
            await expectRampartError(.conflict) { _ = try await Self.claim(store, a.organization.id, name) }
            #expect(try await store.head(a.organization.id) == head)
            // Verifying a verified claim again looks nothing up and writes nothing.
            _ = try await Self.check(store, a.organization.id, claim.id, .proven)
            let verifiedHead = try await store.head(a.organization.id)
            let again = try await Self.check(store, a.organization.id, claim.id, .failed("gone"))
            #expect(again.failure == nil && again.claim.status == .verified && again.claim.lastCheckError == nil)
            #expect(try await store.head(a.organization.id) == verifiedHead)
        }
    }

    @Test(arguments: Backend.all)
    func usersInAVerifiedDomainAreManagedHereAndRefusedElsewhere(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let name = try Self.freshDomain()
            let claim = try await Self.claim(store, a.organization.id, name)
            let ada = try await store.database.write(org: a.organization.id) {
                try await $0.createUser(email: "ada@\(name.ascii)", displayName: "Ada", by: .system)
            }
            let readAda = { try await store.database.read(org: a.organization.id) { try await $0.requireUser(ada.id) } }
            #expect(try await readAda().managed == false)
            _ = try await Self.check(store, a.organization.id, claim.id, .proven)
            #expect(try await readAda().managed == true)
            let listed = try await store.database.read(org: a.organization.id) { try await $0.users().items }
            #expect(listed.filter(\.managed).map(\.id) == [ada.id])
            let grace = try await store.database.write(org: a.organization.id) {
                try await $0.createUser(email: "grace@\(name.ascii)", displayName: "Grace", by: .system)
            }
            #expect(grace.managed)
            let moved = try await store.database.write(org: a.organization.id) {
                try await $0.updateUser(grace.id, email: "grace@elsewhere.example", displayName: nil, by: .system)
            }
            #expect(!moved.managed)

            let headB = try await store.head(b.organization.id)
            let refused = await expectRampartError(.conflict) {
                _ = try await store.database.write(org: b.organization.id) {
                    try await $0.createUser(email: "Grace@\(name.ascii.uppercased())", displayName: "Grace", by: .system)
                }
            }
            #expect(refused?.message == "The domain \(name.ascii) is verified by another organisation; its users are managed there.")
            #expect(refused?.field == "email")
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: b.organization.id) {
                    try await $0.updateUser(b.admin.id, email: "admin@\(name.ascii)", displayName: nil, by: .system)
                }
            }
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: b.organization.id) {
                    try await $0.createSCIMUser(SCIMUserFields(userName: "grace", externalId: nil, active: true, displayName: "Grace",
                                                               email: "grace@\(name.ascii)", attributesJSON: "{}"), by: .system)
                }
            }
            #expect(try await store.head(b.organization.id) == headB)
            // A subdomain is a different domain: not managed by the claim on its parent.
            _ = try await store.database.write(org: b.organization.id) {
                try await $0.createUser(email: "grace@eu.\(name.ascii)", displayName: "Grace", by: .system)
            }
        }
    }
}

/// On PostgreSQL the verified claims are readable by every transaction (sign-in reads them
/// before it knows the organisation); pending claims stay behind row-level security, and no
/// one changes another organisation's claim even with SQL that forgets to name it.
@Suite("Domain claims under row-level security",
       .enabled(if: Backend.all.contains(.postgres), "needs RAMPART_TEST_POSTGRES_*_URL"))
struct DomainClaimRowSecurityTests {
    @Test func verifiedClaimsAreTheDirectoryAndPendingOnesStayPrivate() async throws {
        try await TestStore.with(.postgres) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let pending = try await DomainClaimStorageTests.claim(store, a.organization.id, try DomainClaimStorageTests.freshDomain())
            let verified = try await DomainClaimStorageTests.claim(store, a.organization.id, try DomainClaimStorageTests.freshDomain())
            _ = try await DomainClaimStorageTests.check(store, a.organization.id, verified.id, .proven)
            let outside = try await store.database.global { sql in
                try await sql.raw("SELECT id, status FROM domain_claims WHERE id IN (\(bind: pending.id), \(bind: verified.id))")
                    .all().map { try $0.decode(column: "status", as: String.self) }
            }
            #expect(outside == ["verified"])
            let changed = try await store.database.write(org: b.organization.id) { t in
                try await t.sql.raw("UPDATE domain_claims SET status = 'pending', token = 'x' WHERE id = \(bind: verified.id)").run()
                try await t.sql.raw("DELETE FROM domain_claims WHERE id = \(bind: verified.id)").run()
                return try await t.sql.raw("SELECT COUNT(*) AS n FROM domain_claims WHERE id = \(bind: pending.id)").first()!
                    .decode(column: "n", as: Int64.self)
            }
            #expect(changed == 0)
            let after = try await store.database.read(org: a.organization.id) { try await $0.requireDomainClaim(verified.id) }
            #expect(after.status == .verified && after.token == verified.token)
        }
    }
}
