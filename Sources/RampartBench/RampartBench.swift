import Foundation
import Logging
import RampartAuthn
import RampartCore
import RampartStorage
import SQLKit

/// Benchmarks run by `scripts/bench` in release mode: storage-level ones in-process, and the
/// SCIM load generator against a running server. Prints one JSON object per result line so
/// the script can tabulate them.
///
///   rampart-bench audit-append --data-dir DIR [--database postgres://…] [--events N] [--batch B] [--actors K]
///   rampart-bench audit-query --data-dir DIR [--database postgres://…] --org ID [--actors K] [--queries Q]
///   rampart-bench audit-search --data-dir DIR [--database postgres://…] --org ID [--actors K] [--queries Q]
///   rampart-bench audit-prove --data-dir DIR [--database postgres://…] --org ID [--proofs P]
///   rampart-bench scim-provision --url http://HOST:PORT/scim/v2 [--users N] [--groups G] [--big-group B]
///                                [--connections C] [--lookups L] [--server-pid PID]   (token in RAMPART_SCIM_TOKEN)
///   rampart-bench saml-acs [--responses N] [--tasks T] [--out DIR]
///   rampart-bench saml-acs-http --url http://HOST:PORT --slug ORG [--responses N] [--connections C]
///                               (an org-admin API token in RAMPART_API_TOKEN)
@main
struct RampartBench {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first else {
            FileHandle.standardError.write(Data("usage: rampart-bench audit-append|audit-query|audit-search|audit-prove|totp-verify|session-lookup|scim-provision|saml-acs|saml-acs-http [options]\n".utf8))
            exit(2)
        }
        arguments.removeFirst()
        func option(_ flag: String) -> String? {
            guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count else { return nil }
            return arguments[i + 1]
        }
        if name == "scim-provision" {
            // A client of a running server: no store of its own to open.
            guard let url = option("--url"), let token = ProcessInfo.processInfo.environment["RAMPART_SCIM_TOKEN"] else {
                FileHandle.standardError.write(Data("scim-provision needs --url and the token in RAMPART_SCIM_TOKEN\n".utf8))
                exit(2)
            }
            let options = SCIMProvisionBenchmark.Options(
                baseURL: url, token: token, users: Int(option("--users") ?? "") ?? 100_000,
                groups: Int(option("--groups") ?? "") ?? 1000, bigGroup: Int(option("--big-group") ?? "") ?? 10_000,
                connections: Int(option("--connections") ?? "") ?? 8, lookups: Int(option("--lookups") ?? "") ?? 1000,
                serverPID: option("--server-pid").flatMap { Int32($0) })
            do {
                try await SCIMProvisionBenchmark(options: options).run()
            } catch {
                FileHandle.standardError.write(Data("scim-provision failed: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        if name == "saml-acs" {
            // In-process and storage-free: the SAML core alone.
            try await SAMLACSBenchmark.run(responses: Int(option("--responses") ?? "") ?? 5000,
                                           tasks: Int(option("--tasks") ?? "") ?? ProcessInfo.processInfo.activeProcessorCount,
                                           out: option("--out"))
            return
        }
        if name == "saml-acs-http" {
            // A client of a running server, like scim-provision.
            guard let url = option("--url"), let slug = option("--slug"),
                  let token = ProcessInfo.processInfo.environment["RAMPART_API_TOKEN"] else {
                FileHandle.standardError.write(Data("saml-acs-http needs --url, --slug and an API token in RAMPART_API_TOKEN\n".utf8))
                exit(2)
            }
            do {
                try await SAMLACSOverHTTPBenchmark.run(baseURL: url, token: token, slug: slug,
                                                       responses: Int(option("--responses") ?? "") ?? 2000,
                                                       connections: Int(option("--connections") ?? "") ?? 8)
            } catch {
                FileHandle.standardError.write(Data("saml-acs-http failed: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let dataDirectory = option("--data-dir") ?? "./rampart-bench-data"
        let configuration = try DatabaseConfiguration.from(dataDirectory: dataDirectory, databaseURL: option("--database"))
        // The same key file as `rampart serve --data-dir DIR`, so a server can use the store afterwards.
        let keys = try KeyService(source: .resolve(dataDirectory: dataDirectory))
        switch name {
        case "audit-append":
            let events = Int(option("--events") ?? "") ?? 100_000
            let batch = Int(option("--batch") ?? "") ?? 500
            try await auditAppend(configuration, keys: keys, events: events, batch: batch,
                                  actors: Int(option("--actors") ?? "") ?? 1, logger: logger)
        case "audit-prove":
            guard let org = option("--org") else {
                FileHandle.standardError.write(Data("audit-prove needs --org (an organisation audit-append filled)\n".utf8))
                exit(2)
            }
            try await auditProve(configuration, keys: keys, orgID: org, proofs: Int(option("--proofs") ?? "") ?? 200, logger: logger)
        case "audit-query", "audit-search":
            guard let org = option("--org") else {
                FileHandle.standardError.write(Data("\(name) needs --org (an organisation audit-append filled)\n".utf8))
                exit(2)
            }
            let actors = Int(option("--actors") ?? "") ?? 1000
            if name == "audit-query" {
                try await auditQuery(configuration, keys: keys, orgID: org, actors: actors,
                                     queries: Int(option("--queries") ?? "") ?? 1000, logger: logger)
            } else {
                try await auditSearch(configuration, keys: keys, orgID: org, actors: actors,
                                      queries: Int(option("--queries") ?? "") ?? 20, logger: logger)
            }
        case "totp-verify":
            try totpVerify(iterations: Int(option("--iterations") ?? "") ?? 200_000)
        case "session-lookup":
            try await sessionLookup(configuration, keys: keys, iterations: Int(option("--iterations") ?? "") ?? 50_000, logger: logger)
        default:
            FileHandle.standardError.write(Data("unknown benchmark \(name)\n".utf8))
            exit(2)
        }
    }

    /// Appends `events` audit events in transactions of `batch`, with the full hash chain,
    /// into a fresh organisation; then verifies the chain it wrote.
    static func auditAppend(_ configuration: DatabaseConfiguration, keys: KeyService, events: Int, batch: Int,
                            actors: Int, logger: Logger) async throws {
        try await Database.with(configuration, logger: logger) { database in
            database.attach(keys)
            if configuration.flavor == .sqlite { try await Migrator(database: database).migrate() }
            let org = try await OrganizationProvisioner(database: database, keys: keys)
                .create(name: "Bench", slug: "bench-\(UUID().uuidString.prefix(8).lowercased())", region: nil,
                        adminEmail: "bench@example.com", adminName: nil)
            let orgID = org.organization.id
            let actorList = (0..<max(1, actors)).map { n in
                AuditActor(type: .apiToken, id: benchActorID(n), name: "bench", ip: "127.0.0.1", userAgent: "rampart-bench")
            }
            let start = ContinuousClock.now
            var written = 0
            while written < events {
                let count = min(batch, events - written)
                let records = (0..<count).map { i in
                    AuditRecord(action: .userUpdated, actor: actorList[(written + i) % actorList.count],
                                targets: [AuditTarget(type: "user", id: Identifier.make(), name: "user\(written + i)@example.com")],
                                details: AuditDetails(["changes": .object(["displayName": .object([
                                    "before": .string("Old \(written + i)"), "after": .string("New \(written + i)")])])]))
                }
                _ = try await database.write(org: orgID) { try await $0.appendAudit(records) }
                written += count
            }
            let seconds = secondsSince(start)
            let verifyStart = ContinuousClock.now
            let report = try await AuditVerifier(database: database).verify(org.organization)
            let verifySeconds = secondsSince(verifyStart)
            let result: [String: JSONValue] = [
                "benchmark": .string("audit-append"), "backend": .string(configuration.flavor.rawValue),
                "orgId": .string(orgID), "events": .int(Int64(events)), "batch": .int(Int64(batch)),
                "eventsPerSecond": .int(Int64(Double(events) / seconds)),
                "verifyEventsPerSecond": .int(Int64(Double(report.events) / verifySeconds)),
                "intact": .bool(report.failure == nil),
            ]
            print(JSONValue.object(result).canonical)
        }
    }

    /// The Merkle tree over a filled log: the first checkpoint that signs a root (the tree built
    /// from event 1), one more after 1,000 new events (the tree extended from the frontier), then
    /// inclusion proofs of random events from the store and checked, with the stored block roots
    /// and, for a few, without them (every leaf of a path's subtrees read and hashed); and the
    /// consistency proof from the first checkpoint to the second, built and checked as often.
    static func auditProve(_ configuration: DatabaseConfiguration, keys: KeyService, orgID: String, proofs: Int,
                           logger: Logger) async throws {
        try await Database.with(configuration, logger: logger) { database in
            database.attach(keys)
            var start = ContinuousClock.now
            let first = try await database.write(org: orgID) { try await $0.signAuditCheckpoint(keys: keys) }
            let buildSeconds = secondsSince(start)
            let records = (0..<1000).map { _ in AuditContext.system.record(.auditRetentionChanged, []) }
            _ = try await database.write(org: orgID) { try await $0.appendAudit(records) }
            start = ContinuousClock.now
            let checkpoint = try await database.write(org: orgID) { try await $0.signAuditCheckpoint(keys: keys) }
            let extendSeconds = secondsSince(start)
            guard let checkpoint, checkpoint.treeRoot != nil else {
                FileHandle.standardError.write(Data("audit-prove: no checkpoint signs a tree root\n".utf8))
                exit(1)
            }
            func measure(_ count: Int) async throws -> (latencies: [Double], proven: Int) {
                var latencies: [Double] = []
                var proven = 0
                for _ in 0..<count {
                    let sequence = Int64.random(in: 1...checkpoint.sequence)
                    let start = ContinuousClock.now
                    let proof = try await database.read(org: orgID) { try await $0.auditInclusionProof(sequence: sequence) }
                    if proof.verify().proven { proven += 1 }
                    latencies.append(secondsSince(start) * 1000)
                }
                return (latencies.sorted(), proven)
            }
            func percentile(_ latencies: [Double], _ p: Double) -> JSONValue {
                .string(String(format: "%.2f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]))
            }
            let withBlocks = try await measure(proofs)
            var consistency: [Double] = []
            var consistent = 0
            if let first {
                for _ in 0..<proofs {
                    let start = ContinuousClock.now
                    let proof = try await database.read(org: orgID) {
                        try await $0.auditConsistencyProof(first: first.sequence, second: checkpoint.sequence)
                    }
                    if proof.verify().proven { consistent += 1 }
                    consistency.append(secondsSince(start) * 1000)
                }
                consistency.sort()
            }
            try await database.write(org: orgID) { try await $0.sql.raw("DELETE FROM audit_tree_nodes WHERE org_id = \(bind: orgID)").run() }
            let withoutBlocks = try await measure(max(1, proofs / 20))
            print(JSONValue.object([
                "benchmark": .string("audit-prove"), "backend": .string(configuration.flavor.rawValue),
                "events": .int(checkpoint.sequence), "firstTreeSeconds": .string(String(format: "%.2f", buildSeconds)),
                "firstCheckpointSequence": .int(first?.sequence ?? 0),
                "extend1000Ms": .string(String(format: "%.1f", extendSeconds * 1000)), "proofs": .int(Int64(proofs)),
                "proven": .int(Int64(withBlocks.proven)), "p50Ms": percentile(withBlocks.latencies, 0.5),
                "p99Ms": percentile(withBlocks.latencies, 0.99), "maxMs": percentile(withBlocks.latencies, 1),
                "withoutBlocksP50Ms": percentile(withoutBlocks.latencies, 0.5),
                "withoutBlocksProven": .int(Int64(withoutBlocks.proven)),
                "consistencyProven": .int(Int64(consistent)),
                "consistencyP50Ms": consistency.isEmpty ? .null : percentile(consistency, 0.5),
                "consistencyP99Ms": consistency.isEmpty ? .null : percentile(consistency, 0.99),
            ]).canonical)
        }
    }

    /// The actors `audit-append --actors K` spreads its events over, so `audit-query` can name them.
    static func benchActorID(_ n: Int) -> String { "bench-actor-\(n)" }

    /// Looks up the newest page (50 events) of random actors, each in its read transaction,
    /// as `GET /api/v1/audit-events?actor=` does; prints the latency percentiles.
    static func auditQuery(_ configuration: DatabaseConfiguration, keys: KeyService, orgID: String, actors: Int, queries: Int,
                           logger: Logger) async throws {
        try await Database.with(configuration, logger: logger) { database in
            database.attach(keys)
            let events = try await database.read(org: orgID) { try await $0.auditHead().sequence }
            var latencies: [Double] = []
            var found = 0
            for _ in 0..<queries {
                let actor = benchActorID(Int.random(in: 0..<max(1, actors)))
                let start = ContinuousClock.now
                let page = try await database.read(org: orgID) { try await $0.auditEvents(AuditQuery(actor: actor, limit: 50)) }
                latencies.append(secondsSince(start) * 1000)
                found += page.items.count
            }
            latencies.sort()
            func percentile(_ p: Double) -> JSONValue {
                .string(String(format: "%.2f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]))
            }
            print(JSONValue.object([
                "benchmark": .string("audit-query"), "backend": .string(configuration.flavor.rawValue),
                "events": .int(events), "actors": .int(Int64(actors)), "queries": .int(Int64(queries)),
                "eventsFound": .int(Int64(found)), "p50Ms": percentile(0.5), "p95Ms": percentile(0.95), "p99Ms": percentile(0.99),
            ]).canonical)
        }
    }

    /// Full-text searches as `GET /api/v1/audit-events?q=` runs them, for words no event holds,
    /// so that each request examines as many events as it may: over the newest events of the
    /// whole log, and within one random actor's events (the filter narrows the scan). Prints
    /// the latency percentiles of each and the events examined per second.
    static func auditSearch(_ configuration: DatabaseConfiguration, keys: KeyService, orgID: String, actors: Int, queries: Int,
                            logger: Logger) async throws {
        try await Database.with(configuration, logger: logger) { database in
            database.attach(keys)
            let events = try await database.read(org: orgID) { try await $0.auditHead().sequence }
            let search = AuditSearch(text: try AuditSearchText("nowhere-\(UUID().uuidString.prefix(8)) example.com")!)
            var result: [String: JSONValue] = [
                "benchmark": .string("audit-search"), "backend": .string(configuration.flavor.rawValue),
                "events": .int(events), "queries": .int(Int64(queries)), "examineLimit": .int(Int64(search.examineLimit)),
            ]
            for (name, byActor) in [("whole", false), ("actor", true)] {
                var latencies: [Double] = []
                var examined = 0
                for _ in 0..<queries {
                    let query = AuditQuery(actor: byActor ? benchActorID(Int.random(in: 0..<max(1, actors))) : nil, limit: 50)
                    let start = ContinuousClock.now
                    let found = try await database.read(org: orgID) { try await $0.searchAuditEvents(query, search) }
                    latencies.append(secondsSince(start) * 1000)
                    examined += found.progress.examined
                }
                latencies.sort()
                func percentile(_ p: Double) -> JSONValue {
                    .string(String(format: "%.1f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]))
                }
                result[name + "P50Ms"] = percentile(0.5)
                result[name + "P95Ms"] = percentile(0.95)
                result[name + "Examined"] = .int(Int64(examined / max(1, queries)))
                result[name + "EventsPerSecond"] = .int(Int64(Double(examined) / (latencies.reduce(0, +) / 1000)))
            }
            print(JSONValue.object(result).canonical)
        }
    }

    static func secondsSince(_ start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Sign-in benchmarks named by issue 12: each runs on one task, so the figure is per core.
extension RampartBench {
    /// TOTP verifications per second: a correct code checked against the ±1 step window,
    /// as a sign-in does (three HMAC-SHA-1 computations and constant-time comparisons).
    static func totpVerify(iterations: Int) throws {
        let totp = try TOTP(secret: TOTP.generateSecret())
        let now = Date()
        let code = totp.code(at: now)
        var accepted = 0
        let start = ContinuousClock.now
        for _ in 0..<iterations {
            if case .accepted = totp.verify(code, at: now, lastAcceptedStep: nil) { accepted += 1 }
        }
        let seconds = secondsSince(start)
        print(JSONValue.object([
            "benchmark": .string("totp-verify"), "iterations": .int(Int64(iterations)),
            "verificationsPerSecond": .int(Int64(Double(iterations) / seconds)), "allAccepted": .bool(accepted == iterations),
        ]).canonical)
    }

    /// Session lookups per second through the storage layer, as the server resolves a cookie:
    /// one read-only transaction that finds the session by its hashed secret, checks lifetime,
    /// idle time and user status, and loads the person (the last-seen time is written at most
    /// once a minute, so not here).
    static func sessionLookup(_ configuration: DatabaseConfiguration, keys: KeyService, iterations: Int, logger: Logger) async throws {
        try await Database.with(configuration, logger: logger) { database in
            database.attach(keys)
            if configuration.flavor == .sqlite { try await Migrator(database: database).migrate() }
            let org = try await OrganizationProvisioner(database: database, keys: keys)
                .create(name: "Bench", slug: "bench-\(UUID().uuidString.prefix(8).lowercased())", region: nil,
                        adminEmail: "bench@example.com", adminName: nil)
            let orgID = org.organization.id, userID = org.admin.id
            let (text, _) = try await database.write(org: orgID) {
                try await $0.startUserSession(for: userID, mfaCompleted: true, lifetimeSeconds: 86_400, idleTimeoutSeconds: 3600,
                                              ip: "127.0.0.1", userAgent: "rampart-bench")
            }
            guard let secret = SecretToken(parsing: text, as: .session) else { return }
            var found = 0
            let start = ContinuousClock.now
            for _ in 0..<iterations where try await database.read(org: orgID, { try await $0.signedInSession(secret) }) != nil {
                found += 1
            }
            let seconds = secondsSince(start)
            print(JSONValue.object([
                "benchmark": .string("session-lookup"), "backend": .string(configuration.flavor.rawValue),
                "iterations": .int(Int64(iterations)), "lookupsPerSecond": .int(Int64(Double(iterations) / seconds)),
                "allFound": .bool(found == iterations),
            ]).canonical)
        }
    }
}
