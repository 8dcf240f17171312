import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import RampartCore
import RampartStorage
import ServiceLifecycle

/// Signs each organisation's audit head once `every` events have been added since the last
/// checkpoint, or once `interval` has passed with any new event, and hands every checkpoint
/// to the witness (when one is configured) until it took it. A witness that is down delays
/// only its own hand-over: checkpoints go on being signed and wait, marked unwitnessed.
///
/// The same sweep purges events past each organisation's retention, once an hour per
/// organisation: a purge goes through a signed checkpoint, so it follows the signing. Audit
/// export jobs past their 24 hours go with their output in the same hourly pass (lists and
/// downloads already leave them out once expired).
public final class AuditCheckpointer: Service, Sendable {
    /// `serve --audit-witness`, `--audit-checkpoint-events` and `--audit-checkpoint-seconds`.
    public struct Settings: Sendable, Equatable {
        public var witness: CheckpointWitness?
        public var everyEvents: Int64
        public var intervalSeconds: Double

        public init(witness: CheckpointWitness? = nil, everyEvents: Int64 = 1000, intervalSeconds: Double = 300) {
            self.witness = witness; self.everyEvents = everyEvents; self.intervalSeconds = intervalSeconds
        }
    }

    let services: RampartServices
    let settings: Settings
    static let purgeInterval: Duration = .seconds(3600)
    /// When each organisation's retention was last applied by this process.
    private let purgedAt = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
    /// How often heads are looked at: often enough for the interval, and at most every 10 s,
    /// since each look reads every organisation's head.
    let pollInterval: Duration

    init(services: RampartServices, settings: Settings) {
        self.services = services
        self.settings = settings
        pollInterval = .milliseconds(Int64(min(settings.intervalSeconds, 10) * 1000))
    }

    public func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                        timeout: .init(connect: .seconds(5))))
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await sweep(client)
            // A stop ends the pause at once: a pause runs up to 10 s, and a stopping server
            // waited for it before its other services stopped.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.pollInterval) }
        }
        try? await client.shutdown()
    }

    /// One organisation that fails (its keys do not open here, say) does not hold up the others.
    private func sweep(_ client: HTTPClient) async {
        let organizations: [Organization]
        do { organizations = try await services.organizations.all() } catch {
            services.logger.info("audit checkpoint sweep failed", metadata: ["error": .string("\(error)")])
            return
        }
        for organization in organizations {
            do {
                try await checkpoint(organization.id)
                if let witness = settings.witness { try await handOver(organization.id, to: witness, client: client) }
                try await applyRetention(organization.id)
            } catch {
                services.logger.info("audit checkpoint failed",
                                     metadata: ["org": .string(organization.id), "error": .string("\(error)")])
            }
        }
    }

    /// Reads first, so an organisation with nothing new costs no write.
    private func checkpoint(_ orgID: String) async throws {
        let (head, last) = try await services.database.read(org: orgID) { (try await $0.auditHead(), try await $0.latestAuditCheckpoint()) }
        let added = head.sequence - (last?.sequence ?? 0)
        let waited = last.map { $0.signedAt.adding(seconds: settings.intervalSeconds) <= .now() } ?? true
        guard added >= settings.everyEvents || (added > 0 && waited) else { return }
        let keys = services.keys
        // The tree is extended by every event since the last checkpoint: in a read
        // transaction, so that appends go on meanwhile (docs/benchmarks.md).
        let tree = try await services.database.read(org: orgID) { try await $0.auditTreeExtension(to: head.sequence) }
        _ = try await services.database.write(org: orgID) { try await $0.signAuditCheckpoint(at: head, tree: tree, keys: keys) }
    }

    private func applyRetention(_ orgID: String) async throws {
        let now = ContinuousClock.now
        let due = purgedAt.withLockedValue { seen in
            guard seen[orgID].map({ now - $0 >= Self.purgeInterval }) ?? true else { return false }
            seen[orgID] = now
            return true
        }
        guard due else { return }
        _ = try await services.database.write(org: orgID) { try await $0.purgeExpiredAuditExports() }
        if let purge = try await services.database.write(org: orgID, { try await $0.purgeExpiredAudit(by: .system) }) {
            services.logger.info("audit events purged under retention", metadata: [
                "org": .string(orgID), "through_sequence": .stringConvertible(purge.throughSequence),
                "events": .stringConvertible(purge.events),
            ])
        }
    }

    /// Oldest first, so the witness holds them in order; stops at the first refusal.
    private func handOver(_ orgID: String, to witness: CheckpointWitness, client: HTTPClient) async throws {
        let waiting = try await services.database.read(org: orgID) { try await $0.auditCheckpoints(unwitnessedOnly: true) }
        for checkpoint in waiting.reversed() {
            do {
                try await witness.record(checkpoint, client: client)
            } catch {
                services.logger.warning("the audit witness did not take a checkpoint; it is handed again later",
                                        metadata: ["org": .string(orgID), "sequence": .stringConvertible(checkpoint.sequence)])
                return
            }
            try await services.database.write(org: orgID) { try await $0.markAuditCheckpointWitnessed(checkpoint.sequence) }
        }
    }
}
