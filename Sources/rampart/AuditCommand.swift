import ArgumentParser
import Foundation
import RampartCore
import RampartStorage

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with the audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash chain; exit 0 when intact, 1 naming the first broken sequence number.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this organisation (id or slug).") var org: String?
        @Flag(help: "Print JSON.") var json = false

        struct Result: Encodable {
            let organization: String
            let events: Int64
            let intact: Bool
            let brokenAt: Int64?
            let reason: String?
        }

        func run() async throws {
            var broken = false
            try await runReportingErrors {
                let reports = try await store.withStore { database in
                    let orgs = if let org { [try await resolveOrganization(org, in: database)] } else {
                        try await OrganizationRepository(database: database).all()
                    }
                    var reports: [AuditVerifier.Report] = []
                    for organization in orgs {
                        let progress = ProgressLine(subject: organization.slug, unit: "events checked")
                        reports.append(try await AuditVerifier(database: database).verify(organization, progress: progress.update))
                    }
                    return reports
                }
                broken = reports.contains { $0.failure != nil }
                let results = reports.map {
                    Result(organization: $0.organization.slug, events: $0.events, intact: $0.failure == nil,
                           brokenAt: $0.failure?.sequence, reason: $0.failure?.reason)
                }
                try emit(json: json, ["organizations": results]) {
                    reports.isEmpty ? "No organizations to verify." : reports.map { report in
                        if let failure = report.failure {
                            return "audit chain broken: organization \(report.organization.slug) at sequence \(failure.sequence): \(failure.reason)"
                        }
                        return "audit chain intact: \(report.organization.slug) \(report.events) events"
                    }.joined(separator: "\n")
                }
            }
            if broken { throw ExitCode(1) }
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage encryption keys.", subcommands: [RotateKEK.self])

    struct RotateKEK: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-kek",
            abstract: "Re-wrap every organisation's data key with a new key-encryption key; safe to re-run if interrupted.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let source = store.keySource()
                let result = try await store.withStore { database in
                    try await KeyService.rotateKEK(database: database, source: source)
                }
                try emit(json: json, ["organizations": result.organizations, "keysRewrapped": result.keys]) {
                    "Re-wrapped \(result.keys) keys of \(result.organizations) organizations. \(result.message)"
                }
            }
        }
    }
}
