import RampartCore
import SQLKit

/// Who sent a batch of product events: the product, and the credential it proved itself with.
public struct EventSource: Sendable, Equatable {
    public enum Credential: String, Sendable {
        case ingestionKey = "ingestion_key"
        /// A `client_credentials` access token of one of the product's OAuth clients.
        case oauthClient = "oauth_client"
    }

    public let product: Product
    public let credential: Credential
    public let credentialID: String

    public init(product: Product, credential: Credential, credentialID: String) {
        self.product = product; self.credential = credential; self.credentialID = credentialID
    }

    /// `details.source` of every event it sends, so that the log, its streams and its exports
    /// say which product reported the event and with which credential.
    var details: JSONValue {
        .object(["productId": .string(product.id), "credential": .string(credential.rawValue),
                 "credentialId": .string(credentialID)])
    }
}

/// Whose personal data a product's person is: the Rampart user when the product sent
/// Rampart's id, else the email address, else the product's own reference, so that erasing
/// a Rampart user also shreds what products sent about them by id or address.
struct ProductPeople {
    let product: String
    let rampartUsers: Set<String>

    func subject(id: String?, name: String?) -> AuditSubject? {
        if let id, rampartUsers.contains(id) { return .user(id) }
        // A product's actor carries its email in `name` when it sent one (ProductEvent). Read
        // byte by byte: `String.contains(_:)` goes through Foundation, 2 % of ingestion's CPU.
        if let name, name.utf8.contains(UInt8(ascii: "@")) { return .email(name.lowercased()) }
        if let reference = id ?? name { return .productUser(product: product, reference: reference) }
        return nil
    }
}

/// Where one event of a batch landed: appended now, or already in the log under its key.
public struct IngestedEvent: Sendable, Equatable {
    public let idempotencyKey: String
    public let sequence: Int64
    public let duplicate: Bool
}

/// A batch of product events as audit records, sealed before the writer's transaction
/// (`Tenant.prepareIngestion`), appended by `Tenant.ingest(_:)`.
public struct PreparedIngestion: Sendable {
    public let source: EventSource
    let idempotencyKeys: [String]
    let audit: PreparedAuditBatch
}

extension Tenant {
    /// Appends a batch of product events to the audit log in this transaction, each once per
    /// idempotency key and product. A key already in the log, or earlier in the batch, is a
    /// duplicate: it answers with the sequence number its first event got, and appends nothing.
    public func ingest(_ events: [ProductEvent], from source: EventSource, requestID: String?) async throws -> [IngestedEvent] {
        try await ingest(try await prepareIngestion(events, from: source, requestID: requestID))
    }

    /// The audit records of a batch, sealed: the part of ingestion that needs no place in the
    /// log, done in a read transaction so that writers do not wait for it.
    public func prepareIngestion(_ events: [ProductEvent], from source: EventSource, requestID: String?) async throws
        -> PreparedIngestion
    {
        let people = ProductPeople(product: source.product.id, rampartUsers: try await rampartUserIDs(among: events))
        let productTarget = AuditTarget.product(source.product)
        let sourceDetails = source.details.canonical
        let records = events.map { event in
            var record = AuditRecord(
                action: event.action, actor: event.actor, targets: event.targets + [productTarget], outcome: event.outcome,
                requestID: requestID, occurredAt: event.occurredAt)
            record.renderedDetails = JSONValue.canonicalObject(
                sortedFields: [("data", event.details), ("idempotencyKey", .string(event.idempotencyKey))],
                last: ("source", sourceDetails))
            record.actorSubjectOverride = people.subject(id: event.actor.id, name: event.actor.name)
            for target in event.targets where target.isPerson {
                record.targetSubjectOverrides[target.id] = people.subject(id: target.id, name: target.name)
            }
            return record
        }
        var audit = try await prepareAudit(records)
        audit.rangeTarget = productTarget.id
        return PreparedIngestion(source: source, idempotencyKeys: events.map(\.idempotencyKey), audit: audit)
    }

    /// Appends a prepared batch: the events whose keys this product has not sent before.
    public func ingest(_ batch: PreparedIngestion) async throws -> [IngestedEvent] {
        // Taken first, so that on PostgreSQL a second node sending the same keys waits here and
        // then sees them; the primary key of ingested_event_keys backs this up.
        let head = try await lockedHead()
        let claims = try await claimKeys(batch.idempotencyKeys, product: batch.source.product.id, after: head.sequence)
        try await append(batch.audit.keeping(claims.kept), after: head)
        return claims.answers
    }

    /// Which of a batch's keys are new (their indexes, in order), and the answer for every key.
    private struct KeyClaims {
        var kept: [Int] = []
        var answers: [IngestedEvent] = []
    }

    /// Records the keys of the batch's new events with the sequence numbers those events get
    /// after `head`; a key this product sent before, or earlier in the batch, is a duplicate,
    /// answered with the number its first event got.
    ///
    /// On SQLite each key is inserted with `INSERT OR IGNORE` under the number it would get,
    /// and only the keys the primary key turned away are looked up: one B-tree seek per key
    /// in the writer's transaction instead of a lookup and then an insert.
    private func claimKeys(_ keys: [String], product: String, after head: Int64) async throws -> KeyClaims {
        var claims = KeyClaims()
        claims.answers.reserveCapacity(keys.count)
        guard let session = sql as? SQLiteSession else {
            var sequences = try await ingestedSequences(product: product, keys: keys)
            var rows: [[ColumnValue]] = []
            for (index, key) in keys.enumerated() {
                if let sequence = sequences[key] {
                    claims.answers.append(IngestedEvent(idempotencyKey: key, sequence: sequence, duplicate: true))
                    continue
                }
                claims.kept.append(index)
                let sequence = head + Int64(claims.kept.count)
                sequences[key] = sequence
                claims.answers.append(IngestedEvent(idempotencyKey: key, sequence: sequence, duplicate: false))
                rows.append([ColumnValue(orgID), ColumnValue(product), ColumnValue(key), ColumnValue(sequence)])
            }
            try await insertRows(into: "ingested_event_keys", columns: ["org_id", "product_id", "idempotency_key", "seq"],
                                 rows: rows)
            return claims
        }
        var duplicates: [Int] = []
        try session.connection.insertEach("""
            INSERT OR IGNORE INTO ingested_event_keys (org_id, product_id, idempotency_key, seq) VALUES (?1, ?2, ?3, ?4)
            """, keys.indices, binds: { [.text(orgID), .text(product), .text(keys[$0]), .integer(head + Int64(claims.kept.count) + 1)] },
            inserted: { index, new in
                if new {
                    claims.kept.append(index)
                    claims.answers.append(IngestedEvent(idempotencyKey: keys[index], sequence: head + Int64(claims.kept.count),
                                                        duplicate: false))
                } else {
                    duplicates.append(index)
                    claims.answers.append(IngestedEvent(idempotencyKey: keys[index], sequence: 0, duplicate: true))
                }
            })
        guard !duplicates.isEmpty else { return claims }
        let sequences = try await ingestedSequences(product: product, keys: duplicates.map { keys[$0] })
        for index in duplicates {
            guard let sequence = sequences[keys[index]] else {
                throw RampartError(.integrity, "An idempotency key was turned away but is not recorded.")
            }
            claims.answers[index] = IngestedEvent(idempotencyKey: keys[index], sequence: sequence, duplicate: true)
        }
        return claims
    }

    /// The ids among the batch's actors and person targets that are Rampart users of this
    /// organisation: one query per batch.
    private func rampartUserIDs(among events: [ProductEvent]) async throws -> Set<String> {
        var ids = Set<String>()
        for event in events {
            if let id = event.actor.id { ids.insert(id) }
            for target in event.targets where target.isPerson { ids.insert(target.id) }
        }
        var found = Set<String>()
        for chunk in Array(ids).chunked(1000) {
            for row in try await sql.select().column("id").from("users").where("org_id", .equal, orgID)
                .where("id", .in, Array(chunk)).all() {
                found.insert(try row.string("id"))
            }
        }
        return found
    }

    /// The sequence numbers of the keys among `keys` that this product already sent.
    private func ingestedSequences(product: String, keys: [String]) async throws -> [String: Int64] {
        var found: [String: Int64] = [:]
        if let session = sql as? SQLiteSession {
            // One prepared statement run per key: cheaper in-process than rendering an IN list.
            try session.connection.run("""
                SELECT seq FROM ingested_event_keys WHERE org_id = ?1 AND product_id = ?2 AND idempotency_key = ?3
                """, each: keys.lazy.map { [.text(orgID), .text(product), .text($0)] }) { index, row in
                if case .integer(let sequence) = row.values[0] { found[keys[index]] = sequence }
            }
            return found
        }
        for chunk in keys.chunked(1000) {
            let rows = try await sql.select().column("idempotency_key").column("seq").from("ingested_event_keys")
                .where("org_id", .equal, orgID).where("product_id", .equal, product)
                .where("idempotency_key", .in, Array(chunk)).all()
            for row in rows {
                found[try row.decode(column: "idempotency_key", as: String.self)] = try row.decode(column: "seq", as: Int64.self)
            }
        }
        return found
    }
}
