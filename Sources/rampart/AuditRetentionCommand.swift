import ArgumentParser
import RampartCore
import RampartServer
import RampartStorage

extension Audit {
    /// `rampart audit retention`: show or change how long events are kept, and the legal hold.
    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set how long audit events are kept (default 400 days) and the legal hold that suspends purging.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Keep events this many days (\(AuditRetention.allowedDays.lowerBound) to \(AuditRetention.allowedDays.upperBound)).")
        var days: Int?
        @Option(help: "Place a legal hold, with its reason (a case or matter reference): nothing is purged while it holds.")
        var hold: String?
        @Flag(help: "Release the legal hold.") var releaseHold = false

        func validate() throws {
            if hold != nil, releaseHold { throw ValidationError("--hold and --release-hold exclude each other.") }
            if let days, !AuditRetention.allowedDays.contains(days) {
                throw ValidationError("--days must be between \(AuditRetention.allowedDays.lowerBound) and \(AuditRetention.allowedDays.upperBound).")
            }
        }

        func run() async throws {
            try await runReportingErrors {
                let (days, hold, release) = (days, hold, releaseHold)
                let retention = try await tenant.write { tenant in
                    guard days != nil || hold != nil || release else { return try await tenant.auditRetention() }
                    return try await tenant.updateAuditRetention(days: days, legalHold: hold != nil ? true : (release ? false : nil),
                                                                 legalHoldReason: hold, by: .system)
                }
                try tenant.output(AuditRetentionView(retention)) { Self.describe(retention) }
            }
        }

        static func describe(_ r: AuditRetention) -> String {
            var lines = ["Audit events are kept \(r.retentionDays) days."]
            if r.legalHold {
                lines.append("Legal hold since \(r.legalHoldSince?.rfc3339 ?? "?"): \(r.legalHoldReason ?? ""). Nothing is purged.")
            }
            if r.purgedThrough.sequence > 0 {
                lines.append("Purged through event \(r.purgedThrough.sequence) (last purge \(r.lastPurgeAt?.rfc3339 ?? "?")); "
                             + "the log verifies from its signed checkpoint.")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// `rampart audit purge`: apply the retention now.
    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Purge the events older than the retention now, through the newest signed checkpoint (the server does it hourly).")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let (purge, retention) = try await tenant.write { tenant in
                    (try await tenant.purgeExpiredAudit(by: .system), try await tenant.auditRetention())
                }
                try tenant.output(AuditPurgeView(purge, retention: retention)) {
                    guard let purge else {
                        return retention.legalHold ? "Nothing purged: a legal hold is in place."
                            : "Nothing to purge: no signed checkpoint precedes the events within the retention."
                    }
                    return "Purged \(purge.events) events (\(purge.firstSequence) to \(purge.throughSequence))."
                }
            }
        }
    }
}
