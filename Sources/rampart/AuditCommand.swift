import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read and verify the audit log.",
                                                    subcommands: [Events.self, Filters.self, Export.self, Exports.self, Checkpoints.self, Verify.self, Prove.self, Consistency.self, Retention.self, Purge.self])

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an organisation's audit events, newest first; --cursor takes the next page.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: ArgumentHelp("""
            Only events whose action, actor or targets hold every one of these words, in any case. A search \
            examines at most \(AuditSearch.defaultExamineLimit) events; --cursor goes on from where it stopped.
            """, valueName: "words"))
        var search: String?
        @Option(help: "Only events by this actor: a user's id or email, or an API token id.") var actor: String?
        @Option(help: "Only this action, e.g. user.created (docs/events.md lists them).") var action: String?
        @Option(help: "Only events about this target id.") var target: String?
        @Option(help: "Only events at or after this RFC 3339 time, e.g. 2026-11-27T08:00:00Z.") var since: Timestamp?
        @Option(help: "Only events before this RFC 3339 time.") var until: Timestamp?
        @Option(help: "Events per page (\(PageRequest.limits.lowerBound) to \(PageRequest.limits.upperBound)).") var limit = 50
        @Option(help: "The nextCursor of the previous page.") var cursor: Int64?

        func validate() throws {
            guard PageRequest.limits.contains(limit) else {
                throw ValidationError("--limit must be between \(PageRequest.limits.lowerBound) and \(PageRequest.limits.upperBound).")
            }
            if let cursor, cursor < 1 { throw ValidationError("--cursor must be a nextCursor from a previous page.") }
            if let search {
                do { _ = try AuditSearchText(search) } catch let error as RampartError { throw ValidationError("--search: " + error.message) }
            }
        }

        func run() async throws {
            try await runReportingErrors {
                let (actor, action, target, since, until, cursor, limit) = (actor, action, target, since, until, cursor, limit)
                let search = try search.flatMap { try AuditSearchText($0) }.map { AuditSearch(text: $0) }
                let found = try await tenant.read { tenant in
                    let actorID = try await tenant.auditActorID(actor)
                    let query = AuditQuery(actor: actorID, action: action, target: target, since: since, until: until,
                                           beforeSequence: cursor, limit: limit)
                    return try await tenant.auditEvents(query, search: search)
                }
                let page = found.page
                let text = {
                    let rows = page.items.map { e in
                        let targets = AuditTarget.parse(e.targetsJSON).map(\.label).joined(separator: ", ")
                        let details = (JSONValue.parse(e.detailsJSON)?.labelledFields ?? []).map { "\($0.name)=\($0.value)" }
                        return [String(e.sequence), e.occurredAt.rfc3339, e.action, e.outcome, e.actor.label,
                                targets.isEmpty ? "-" : targets, details.joined(separator: " ")]
                    }
                    let header = ["SEQ", "TIME", "ACTION", "OUTCOME", "ACTOR", "TARGETS", "DETAILS"]
                    let reach = found.progress.flatMap { progress in
                        progress.complete ? nil : "\nSearched \(progress.examined) events, back to "
                            + (progress.searchedBackTo?.rfc3339 ?? "the start")
                    } ?? ""
                    let more = page.nextCursor.map { "\nMore: --cursor \($0)" } ?? ""
                    return table(rows.isEmpty ? [] : [header] + rows, empty: "No events match.") + reach + more
                }
                if let progress = found.progress {
                    try tenant.output(AuditSearchPageBody((page, progress)), text: text)
                } else {
                    try tenant.output(PageBody(Page(items: page.items.map(AuditEventView.init), nextCursor: page.nextCursor)),
                                      text: text)
                }
            }
        }
    }

    struct Checkpoints: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an organisation's signed audit checkpoints, newest first (`serve --audit-witness` keeps them outside).")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "How many (\(PageRequest.limits.lowerBound) to \(PageRequest.limits.upperBound)).") var limit = 50

        func validate() throws {
            guard PageRequest.limits.contains(limit) else {
                throw ValidationError("--limit must be between \(PageRequest.limits.lowerBound) and \(PageRequest.limits.upperBound).")
            }
        }

        func run() async throws {
            try await runReportingErrors {
                let limit = limit
                let checkpoints = try await tenant.read { try await $0.auditCheckpoints(limit: limit) }
                try tenant.output(["data": checkpoints]) {
                    let rows = checkpoints.map { [String($0.sequence), $0.signedAt.rfc3339, $0.headHash, $0.treeRoot ?? "-", $0.keyID] }
                    return table(rows.isEmpty ? [] : [["SEQ", "SIGNED", "HEAD HASH", "TREE ROOT", "KEY"]] + rows,
                                 empty: "No checkpoints yet.")
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash chain; exit 0 when intact, 1 naming the first broken sequence number.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this organisation (id or slug).") var org: String?
        @Option(help: ArgumentHelp("""
            A head saved outside the database earlier (the 'head' of `audit verify --json`), as SEQ:HASH; \
            needs --org. Without it, someone who can write the database can cut the log's tail unnoticed.
            """, valueName: "seq:hash"))
        var expectHead: String?
        @Option(help: ArgumentHelp("""
            A checkpoint witness file (one signed checkpoint a line, as `serve --audit-witness` appends them): \
            every checkpoint of the organisations checked must verify and still be in their logs.
            """, valueName: "file"))
        var checkpoints: String?
        @Option(help: ArgumentHelp("""
            Check an export bundle (`audit export --format bundle`) on its own, without the store: every event's \
            hash and link from the first on, and every checkpoint's signature and head.
            """, valueName: "file"))
        var bundle: String?
        // A base64url key starts with '-' one time in 64: the value after --trust-key is taken
        // as it is, never as another option.
        @Option(parsing: .unconditionalSingleValue,
                help: ArgumentHelp("With --bundle: a public key (base64url) checkpoints must be signed with; repeatable.",
                                   valueName: "key"))
        var trustKey: [String] = []
        @Flag(help: "Print JSON.") var json = false

        struct Result: Encodable {
            let organization: String
            let events: Int64
            let intact: Bool
            let brokenAt: Int64?
            let reason: String?
            /// SEQ:HASH of the last event checked: keep it elsewhere for a later --expect-head.
            let head: String?
        }

        func validate() throws {
            if let expectHead {
                guard Self.head(expectHead) != nil else {
                    throw ValidationError("--expect-head must be SEQ:HASH, e.g. 1042:9f2c… from `audit verify --json`.")
                }
                guard org != nil else { throw ValidationError("--expect-head needs --org: a head belongs to one organisation.") }
            }
            if bundle != nil, org != nil || expectHead != nil || checkpoints != nil {
                throw ValidationError("--bundle is checked on its own: leave out --org, --expect-head and --checkpoints.")
            }
            if !trustKey.isEmpty, bundle == nil { throw ValidationError("--trust-key goes with --bundle.") }
        }

        static func head(_ text: String) -> ChainHead? {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let sequence = Int64(parts[0]), sequence >= 0, parts[1].count == 64,
                  parts[1].allSatisfy(\.isHexDigit) else { return nil }
            return ChainHead(sequence: sequence, hash: parts[1].lowercased())
        }

        /// The checkpoints of a witness file; a line that is not one stops the check, naming it.
        static func witnessed(_ path: String) throws -> [AuditCheckpoint] {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw RampartError(.invalidParameter, "Cannot read the checkpoint file \(path): check the path and its permissions.")
            }
            return try text.split(separator: "\n").enumerated().map { index, line in
                guard let checkpoint = try? JSONDecoder().decode(AuditCheckpoint.self, from: Data(line.utf8)) else {
                    throw RampartError(.invalidParameter, "Line \(index + 1) of \(path) is not a signed checkpoint.")
                }
                return checkpoint
            }
        }

        struct BundleResult: Encodable {
            let organization: String
            let events: Int64
            let checkpoints: Int
            let signedThrough: Int64?
            let publicKeys: [String]
            /// Checkpoints whose tree root was recomputed from the bundle's events (a bundle from event 1).
            let treeRootsChecked: Int
            let intact: Bool
            let brokenAt: Int64?
            let reason: String?
        }

        /// Reads and checks a bundle; exits 1 when it does not verify.
        func verifyBundle(_ path: String) throws {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw RampartError(.invalidParameter, "Cannot read the bundle \(path): check the path and its permissions.")
            }
            let lines = try text.split(separator: "\n").enumerated().map { index, line in
                guard let parsed = try? JSONDecoder().decode(AuditBundle.Line.self, from: Data(line.utf8)) else {
                    throw RampartError(.invalidParameter, "Line \(index + 1) of \(path) is not a line of an audit bundle.")
                }
                return parsed
            }
            let result: BundleResult
            do {
                let report = try AuditBundle.verify(lines, trustedKeys: trustKey.isEmpty ? nil : Set(trustKey))
                result = BundleResult(organization: report.orgID, events: report.events, checkpoints: report.checkpoints,
                                      signedThrough: report.signedThrough, publicKeys: report.publicKeys,
                                      treeRootsChecked: report.treeRootsChecked, intact: true,
                                      brokenAt: nil, reason: nil)
            } catch {
                result = BundleResult(organization: lines.first?.header?.orgId ?? "", events: 0, checkpoints: 0, signedThrough: nil,
                                      publicKeys: [], treeRootsChecked: 0, intact: false, brokenAt: error.sequence, reason: error.reason)
            }
            try emit(json: json, result) {
                guard result.intact else {
                    return "audit bundle broken at sequence \(result.brokenAt ?? 0): \(result.reason ?? "")"
                }
                let signed = result.signedThrough.map { "signed through event \($0) by \(result.publicKeys.joined(separator: ", "))" }
                    ?? "no signed checkpoint: compare its last hash with one kept elsewhere"
                return "audit bundle intact: organization \(result.organization), \(result.events) events; \(signed)"
            }
            if !result.intact { throw ExitCode(1) }
        }

        func run() async throws {
            if let bundle {
                try await runReportingErrors { try verifyBundle(bundle) }
                return
            }
            var broken = false
            try await runReportingErrors {
                let witnessed = try checkpoints.map(Self.witnessed) ?? []
                let reports = try await store.withStore { database in
                    let orgs = if let org { [try await resolveOrganization(org, in: database)] } else {
                        try await OrganizationRepository(database: database).all()
                    }
                    var reports: [AuditVerifier.Report] = []
                    for organization in orgs {
                        let progress = ProgressLine(subject: organization.slug, unit: "events checked")
                        reports.append(try await AuditVerifier(database: database)
                            .verify(organization, savedHeads: expectHead.flatMap(Self.head).map { [$0] } ?? [],
                                    checkpoints: witnessed.filter { $0.orgID == organization.id }, progress: progress.update))
                    }
                    return reports
                }
                broken = reports.contains { $0.failure != nil }
                let results = reports.map {
                    Result(organization: $0.organization.slug, events: $0.events, intact: $0.failure == nil,
                           brokenAt: $0.failure?.sequence, reason: $0.failure?.reason,
                           head: $0.failure == nil ? $0.head.map { "\($0.sequence):\($0.hash)" } : nil)
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

/// Times on the command line are RFC 3339, as in the API's query parameters.
extension Timestamp: ExpressibleByArgument {
    public init?(argument: String) { self.init(rfc3339: argument) }
}
