import Foundation
import RampartAuthn
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Second factors in storage")
struct AuthFactorStorageTests {
    /// Enrols a TOTP factor for the organisation's admin and returns it with the user.
    func enrol(_ store: TestStore) async throws -> (org: String, user: User, totp: TOTP, factor: Factor) {
        let created = try await store.createOrganization()
        let org = created.organization.id, user = created.admin
        let secret = TOTP.generateSecret()
        let factor = try await store.database.write(org: org) { tenant in
            try await tenant.createPendingTOTPFactor(for: user.id, secret: secret, settings: .standard, label: "phone",
                                                     keys: store.keys)
        }
        let totp = try TOTP(secret: secret)
        let step = totp.step(at: Date())
        let activated = try await store.database.write(org: org) {
            try await $0.activateTOTPFactor(factor, acceptedStep: step, by: acting(as: user), user: user)
        }
        #expect(activated)
        return (org, user, totp, factor)
    }

    @Test(arguments: Backend.all)
    func enrolmentSealsTheSeedAndIsAudited(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, user, totp, factor) = try await enrol(store)
            let stored = try #require(try await store.database.read(org: org) {
                try await $0.totpFactor(of: user.id, keys: store.keys)
            })
            #expect(stored.totp == totp)
            #expect(stored.factor.state == .active)
            #expect(stored.lastAcceptedStep == totp.step(at: Date()) || stored.lastAcceptedStep == totp.step(at: Date()) - 1)
            // The seed is not in the row in any readable form.
            let raw = try await store.database.read(org: org) { tenant in
                try await tenant.sql.raw("SELECT sealed_secret FROM auth_factors WHERE id = \(bind: factor.id)").first()?
                    .decode(column: "sealed_secret", as: String.self)
            }
            let sealed = try #require(raw)
            #expect(!sealed.contains(Base32.encode(totp.secret)))
            #expect(!sealed.contains(Data(totp.secret).base64EncodedString()))
            let events = try await store.events(org).map(\.action)
            #expect(events.contains(AuditAction.mfaFactorEnrolled.rawValue))
        }
    }

    @Test(arguments: Backend.all)
    func aStepIsAcceptedOnceAndNeverOneBeforeIt(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, _, _, factor) = try await enrol(store)
            let later = UInt64(Date().timeIntervalSince1970) / 30 + 1
            #expect(try await store.database.write(org: org) { try await $0.advanceTOTPStep(factorID: factor.id, to: later) })
            #expect(!(try await store.database.write(org: org) { try await $0.advanceTOTPStep(factorID: factor.id, to: later) }))
            #expect(!(try await store.database.write(org: org) { try await $0.advanceTOTPStep(factorID: factor.id, to: later - 1) }))
        }
    }

    /// Two sign-ins with the same code, each in its own transaction at the same time: one passes.
    @Test(arguments: Backend.all)
    func concurrentSignInsWithOneCodeCannotBothPass(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, user, totp, _) = try await enrol(store)
            let next = Date().addingTimeInterval(30)
            let code = totp.code(at: next)
            for round in 0..<5 {
                let at = next.addingTimeInterval(Double(round) * 30)
                let roundCode = round == 0 ? code : totp.code(at: at)
                let results = await withTaskGroup(of: Bool.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            do {
                                return try await store.database.write(org: org) { tenant in
                                    guard let stored = try await tenant.totpFactor(of: user.id, keys: store.keys),
                                          case .accepted(let step) = stored.totp.verify(roundCode, at: at,
                                                                                          lastAcceptedStep: stored.lastAcceptedStep)
                                    else { return false }
                                    return try await tenant.advanceTOTPStep(factorID: stored.factor.id, to: step)
                                }
                            } catch {
                                // A serialisation failure is a refusal too: it never lets a second sign-in pass.
                                return false
                            }
                        }
                    }
                    return await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(results.filter { $0 }.count == 1, "round \(round): \(results)")
            }
        }
    }

    @Test(arguments: Backend.all)
    func recoveryCodesWorkOnceAndARegenerationKillsTheOldSet(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let created = try await store.createOrganization()
            let org = created.organization.id, user = created.admin
            let first = RecoveryCodes.generate()
            try await store.database.write(org: org) {
                try await $0.replaceRecoveryCodes(for: user, hashes: first.map(\.hash), by: acting(as: user))
            }
            let code = first[3].code
            #expect(try await store.database.write(org: org) { try await $0.consumeRecoveryCode(of: user.id, presented: code.uppercased()) })
            #expect(!(try await store.database.write(org: org) { try await $0.consumeRecoveryCode(of: user.id, presented: code) }))
            #expect(try await store.database.read(org: org) { try await $0.unusedRecoveryCodeCount(of: user.id) } == 9)
            let second = RecoveryCodes.generate()
            try await store.database.write(org: org) {
                try await $0.replaceRecoveryCodes(for: user, hashes: second.map(\.hash), by: acting(as: user))
            }
            #expect(!(try await store.database.write(org: org) { try await $0.consumeRecoveryCode(of: user.id, presented: first[0].code) }))
            #expect(try await store.database.write(org: org) { try await $0.consumeRecoveryCode(of: user.id, presented: second[0].code) })
            // Another organisation's view never finds them.
            let other = try await store.createOrganization()
            #expect(!(try await store.database.write(org: other.organization.id) {
                try await $0.consumeRecoveryCode(of: user.id, presented: second[1].code)
            }))
            #expect(try await store.events(org).filter { $0.action == AuditAction.mfaRecoveryCodesGenerated.rawValue }.count == 2)
        }
    }
}
