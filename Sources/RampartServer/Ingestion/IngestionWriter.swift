import RampartCore
import RampartStorage

/// Appends the event batches that wait for the log's writer together, one transaction for the
/// batches of one organisation that are waiting when the last one committed.
///
/// Each commit writes every page it changed, and a batch's index entries (one per target, one
/// per actor) land all over their indexes: batches appended one by one wrote the same hot pages
/// again with every batch. Together, a page is written once for all of them, and there is one
/// commit instead of several. Each batch runs in a savepoint of its own, so a batch that fails
/// (its key revoked a moment ago) is undone alone and answered with its own error; the others
/// are answered only once the transaction has committed, so nothing is acknowledged that
/// could still be lost.
actor IngestionWriter {
    /// One request's batch, sealed before it waits for the writer.
    struct Work: Sendable {
        let prepared: PreparedIngestion
        let events: [ProductEvent]
        let credential: EventCredential.Checked
        let requestID: String?
        let receivedAt: Timestamp
    }

    private struct Waiting {
        let work: Work
        let answer: CheckedContinuation<[IngestedEvent], any Error>
    }

    /// At most this many batches (of up to 1,000 events) in one transaction, so that none grows
    /// without bound under load.
    static let maximumGroup = 8

    private let database: Database
    private let tokenUsage: TokenUsageRecorder
    private var waiting: [String: [Waiting]] = [:]

    init(database: Database, tokenUsage: TokenUsageRecorder) { self.database = database; self.tokenUsage = tokenUsage }

    /// Appends `work` with the batches of its organisation that wait beside it, and answers
    /// once they are committed.
    func append(_ work: Work) async throws -> [IngestedEvent] {
        try await withCheckedThrowingContinuation { answer in
            let orgID = work.credential.orgID
            if waiting[orgID] != nil {
                // A group of this organisation is being written: this batch joins the next.
                waiting[orgID]!.append(Waiting(work: work, answer: answer))
            } else {
                waiting[orgID] = [Waiting(work: work, answer: answer)]
                Task { await self.write(orgID) }
            }
        }
    }

    /// Writes the organisation's waiting batches, group after group, until none is left.
    private func write(_ orgID: String) async {
        while let queued = waiting[orgID], !queued.isEmpty {
            let group = Array(queued.prefix(Self.maximumGroup))
            waiting[orgID] = Array(queued.dropFirst(group.count))
            do {
                let outcomes = try await Self.appendTogether(group.map(\.work), orgID: orgID, database: database,
                                                             tokenUsage: tokenUsage)
                for (batch, outcome) in zip(group, outcomes) { batch.answer.resume(with: outcome) }
            } catch {
                for batch in group { batch.answer.resume(throwing: error) }
            }
        }
        waiting[orgID] = nil
    }

    /// Appends the batches of one organisation in one transaction, each in a savepoint: the
    /// outcome of each, valid once this returns (the transaction has committed).
    static func appendTogether(_ group: [Work], orgID: String, database: Database, tokenUsage: TokenUsageRecorder)
        async throws -> [Result<[IngestedEvent], any Error>]
    {
        try await database.write(org: orgID) { tenant in
            var outcomes: [Result<[IngestedEvent], any Error>] = []
            for work in group {
                do {
                    outcomes.append(.success(try await tenant.inSavepoint {
                        // The credential is checked again where the batch is appended: revoked
                        // a moment ago, it is refused.
                        let current = try await work.credential.resolve(in: tenant, noting: tokenUsage, at: work.receivedAt)
                        let batch = current == work.prepared.source
                            ? work.prepared
                            : try await tenant.prepareIngestion(work.events, from: current, requestID: work.requestID)
                        return try await tenant.ingest(batch)
                    }))
                } catch {
                    outcomes.append(.failure(error))
                }
            }
            return outcomes
        }
    }
}
