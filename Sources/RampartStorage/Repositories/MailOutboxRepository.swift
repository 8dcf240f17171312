import Foundation
import RampartCore
import SQLKit

/// A message in the outbox, its body opened for sending.
public struct OutgoingMail: Sendable, Equatable {
    public let id: String
    public let recipient: String
    public let subject: String
    public let body: String
    public let attempts: Int
}

/// The mail outbox (migration 4): messages queued in the transaction of the change that sends
/// them, handed to the mail system by `MailDeliverer`, deleted once it took them.
extension Tenant {
    /// Queues a plain-text message; its body is sealed with the organisation's key.
    public func queueMail(to recipient: String, subject: String, body: String, keys: KeyService) async throws {
        let id = Identifier.make()
        let now = clock().microseconds
        let sealed = try await keys.seal(Data(body.utf8), in: self, table: "mail_outbox", row: id, column: "body")
        try await sql.raw("""
            INSERT INTO mail_outbox (org_id, id, recipient, subject, sealed_body, created_at, attempts, next_attempt_at)
            VALUES (\(bind: orgID), \(bind: id), \(bind: recipient), \(bind: subject), \(bind: sealed), \(bind: now), 0, \(bind: now))
            """).run()
    }

    /// Messages due for an attempt, oldest first.
    public func dueMail(at now: Timestamp = .now(), limit: Int = 50, keys: KeyService) async throws -> [OutgoingMail] {
        var out: [OutgoingMail] = []
        for row in try await sql.raw("""
            SELECT id, recipient, subject, sealed_body, attempts FROM mail_outbox
            WHERE org_id = \(bind: orgID) AND next_attempt_at <= \(bind: now.microseconds)
            ORDER BY next_attempt_at, id LIMIT \(bind: limit)
            """).all() {
            let id = try row.string("id")
            let body = try await keys.open(try row.string("sealed_body"), in: self, table: "mail_outbox", row: id, column: "body")
            out.append(OutgoingMail(id: id, recipient: try row.string("recipient"), subject: try row.string("subject"),
                                    body: String(decoding: body, as: UTF8.self), attempts: Int(try row.int("attempts"))))
        }
        return out
    }

    /// The mail system took the message: it leaves the outbox, and its one-time link with it.
    public func mailSent(_ id: String) async throws {
        try await sql.raw("DELETE FROM mail_outbox WHERE org_id = \(bind: orgID) AND id = \(bind: id)").run()
    }

    /// An attempt failed; the next one waits longer each time, up to an hour.
    public func mailFailed(_ id: String, attempts: Int, error: String, at now: Timestamp = .now()) async throws {
        let wait = min(3600, 5 * pow(2, Double(min(attempts, 12))))
        try await sql.raw("""
            UPDATE mail_outbox SET attempts = \(bind: Int64(attempts + 1)), last_error = \(bind: String(error.prefix(500))),
                next_attempt_at = \(bind: now.adding(seconds: wait).microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: id)
            """).run()
    }

    /// How many messages wait, and the last error of the oldest failing one: for tests and status.
    public func outboxState() async throws -> (waiting: Int, lastError: String?) {
        let row = try await sql.raw("""
            SELECT COUNT(*) AS waiting, MAX(last_error) AS last_error FROM mail_outbox WHERE org_id = \(bind: orgID)
            """).first()
        return (Int(try row?.int("waiting") ?? 0), try row?.optionalString("last_error"))
    }
}
