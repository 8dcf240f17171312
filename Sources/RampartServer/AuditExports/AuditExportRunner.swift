import Foundation
import Logging
import NIOConcurrencyHelpers
import RampartCore
import RampartStorage
import RampartStreams
import ServiceLifecycle

/// Runs the audit export jobs (`AuditExportJob`) that wait in any organisation.
///
/// Every `pollInterval` it looks for due jobs in the organisations it watches (those where a job
/// was requested through this process, or found waiting), and every `discoveryInterval` in
/// every organisation (a read each: jobs queued by the CLI or another node, leases that ran
/// out). It claims each due job with a lease in the database, so with many nodes on one database each job runs on one node. A
/// run writes its output in chunks of `chunkSize` and its progress after every page of the
/// log, renewing the lease as it goes; a node that stops hands its jobs back, and one that dies
/// mid-run leaves its lease to run out: either way another node claims the job and starts it over. At most `concurrentJobs` run on a
/// node at once, so a large export does not hold up every other organisation's.
final class AuditExportRunner: Service, Sendable {
    let services: RampartServices
    /// This process, as the holder of job leases.
    let owner = Identifier.make()
    let pageSize: Int
    let chunkSize: Int
    static let pollInterval: Duration = .seconds(1)
    static let discoveryInterval: Duration = .seconds(15)
    static let leaseSeconds = 60.0
    static let concurrentJobs = 2
    static let chunkSize = 1 << 20

    private let running = NIOLockedValueBox<Set<String>>([])

    init(services: RampartServices, pageSize: Int = AuditExport.pageSize, chunkSize: Int = AuditExportRunner.chunkSize) {
        self.services = services
        self.pageSize = pageSize
        self.chunkSize = chunkSize
    }

    /// A stop cancels the runs in progress rather than waiting for a large export to end: each
    /// hands its job back, and another node (or this one, restarted) starts it over.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                // The first discovery waits an interval too: a node that starts picks up the jobs
                // others left within it, and a short-lived process never reads every organisation.
                var discovered = ContinuousClock.now
                while !Task.isCancelled {
                    let everyOrganization = ContinuousClock.now - discovered >= Self.discoveryInterval
                    if everyOrganization { discovered = .now }
                    await self.claimDue(everyOrganization: everyOrganization) { orgID, job in
                        group.addTask { await self.run(job, orgID: orgID) }
                    }
                    try? await Task.sleep(for: Self.pollInterval)
                }
            }
        }
    }

    /// Claims due jobs up to the free places on this node, in the watched organisations or in
    /// every one, and hands each to `start` as soon as it is claimed: a sweep of every
    /// organisation reads each in turn, and a job held until the sweep's end waited that long
    /// with no progress, its lease running out meanwhile. An organisation with none left due is
    /// no longer watched.
    func claimDue(everyOrganization: Bool = true, start: (String, AuditExportJob) -> Void) async {
        let watch = services.auditExportWatch
        do {
            let orgIDs = everyOrganization ? try await services.organizations.all().map(\.id) : Array(watch.organizations)
            for orgID in orgIDs {
                let due = try await services.database.read(org: orgID, { try await $0.dueAuditExports() })
                if due.isEmpty { watch.unwatch(orgID) } else { watch.watch(orgID) }
                for id in due {
                    guard reservePlace(id) else { return }
                    // A claim that fails (another node took it, or the database did not answer) frees its place.
                    if let job = try? await claim(id, orgID: orgID) {
                        start(orgID, job)
                    } else {
                        _ = running.withLockedValue { $0.remove(id) }
                    }
                }
            }
        } catch {
            services.logger.info("audit export sweep failed", metadata: ["error": .string("\(error)")])
        }
    }

    private func reservePlace(_ id: String) -> Bool {
        running.withLockedValue { running in
            guard running.count < Self.concurrentJobs, !running.contains(id) else { return false }
            running.insert(id)
            return true
        }
    }

    func claim(_ id: String, orgID: String) async throws -> AuditExportJob? {
        let (owner, until) = (self.owner, Timestamp.now().adding(seconds: Self.leaseSeconds))
        return try await services.database.write(org: orgID) { try await $0.claimAuditExport(id, owner: owner, until: until) }
    }

    /// The owner no longer holds the job: it was deleted, or another node took it over.
    struct LostLease: Error {}

    /// Writes a claimed job's output; `afterPage` is told once each page's progress is stored.
    func run(_ job: AuditExportJob, orgID: String, afterPage: @Sendable () async -> Void = {}) async {
        defer { _ = running.withLockedValue { $0.remove(job.id) } }
        let (database, owner, pageSize) = (services.database, self.owner, self.pageSize)
        do {
            let export = try Self.export(job, orgID: orgID)
            let checkpoints = export.format == .bundle ? try await database.read(org: orgID) {
                try await $0.auditCheckpoints(after: job.startSequence - 1, through: job.headSequence)
            } : []
            let form: AuditEventForm = export.carriesStoredEvents ? .stored : .readable
            var output = ChunkedOutput(chunkSize: chunkSize)
            let written = try await export.run(from: job.startSequence, head: job.headSequence, checkpoints: checkpoints, page: { after in
                try await database.read(org: orgID) { try await $0.auditEvents(after: after, limit: pageSize, as: form) }
            }, write: { output.append($0) }, progress: { sequence, written in
                try Task.checkCancellation()
                try await record(job, orgID: orgID, read: max(0, sequence - job.startSequence), written: written, output: output.takeFullChunks(), done: false)
                await afterPage()
            })
            try await record(job, orgID: orgID, read: job.eventsTotal, written: written, output: output.takeAll(), done: true)
            await afterPage()
        } catch is LostLease {
            services.logger.info("audit export stopped: deleted, or taken over by another node",
                                 metadata: ["org": .string(orgID), "export_id": .string(job.id)])
        } catch let error as RampartError where error.code != .databaseUnavailable {
            // What a new run would meet again (a format this version does not know): give up.
            services.logger.warning("audit export failed", metadata: [
                "org": .string(orgID), "export_id": .string(job.id), "error": .string("\(error)"),
            ])
            try? await database.write(org: orgID) { try await $0.failAuditExport(job.id, owner: owner, error: error.message) }
        } catch {
            // Stopped with the server, or the database did not answer: another run starts it over
            // (up to `AuditExportJob.maximumAttempts`). Outside this task, which may be cancelled.
            services.logger.info("audit export interrupted; it is started over", metadata: [
                "org": .string(orgID), "export_id": .string(job.id), "error": .string("\(error)"),
            ])
            let id = job.id
            try? await Task.detached {
                try await database.write(org: orgID) { try await $0.releaseAuditExport(id, owner: owner) }
            }.value
        }
    }

    private func record(_ job: AuditExportJob, orgID: String, read: Int64, written: Int64, output: [[UInt8]],
                        done: Bool) async throws {
        let (owner, until) = (self.owner, Timestamp.now().adding(seconds: Self.leaseSeconds))
        let held = try await services.database.write(org: orgID) {
            try await $0.recordAuditExportProgress(job.id, owner: owner, until: until, eventsRead: read, eventsWritten: written,
                                                   output: output, done: done)
        }
        if !held { throw LostLease() }
    }

    static func export(_ job: AuditExportJob, orgID: String) throws -> AuditExport {
        guard let format = AuditExport.Format(rawValue: job.format) else {
            throw RampartError(.invalidParameter, "Unknown export format '\(job.format)'.")
        }
        return try AuditExport(format: format, filter: job.filter, orgID: orgID)
    }
}

/// A job's output cut into chunks of a fixed size as it grows; the last may be shorter.
struct ChunkedOutput {
    let chunkSize: Int
    private var pending: [UInt8] = []

    init(chunkSize: Int) { self.chunkSize = chunkSize }

    mutating func append(_ bytes: [UInt8]) { pending += bytes }

    mutating func takeFullChunks() -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var start = 0
        while pending.count - start >= chunkSize {
            chunks.append(Array(pending[start..<start + chunkSize]))
            start += chunkSize
        }
        pending.removeFirst(start)
        return chunks
    }

    mutating func takeAll() -> [[UInt8]] {
        var chunks = takeFullChunks()
        if !pending.isEmpty { chunks.append(pending) }
        pending = []
        return chunks
    }
}
