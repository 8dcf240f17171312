import Foundation
import RampartCore

/// A signed audit checkpoint as a log stream sends it: a record of its own, after the event
/// it covers, in the stream's format. It travels as an `AuditEvent` value that is not in the
/// log (action `audit.checkpoint`, the checkpoint's sequence number, the system as actor, the
/// head hash as `hash`, and the checkpoint itself as `details`), so every format and transport
/// carries it as they carry events. In the JSON format the record is the checkpoint's own JSON
/// with `action` added: written one a line to a file, the records a SIEM received are the file
/// `rampart audit verify --checkpoints` reads.
public enum CheckpointRecord {
    public static let action = "audit.checkpoint"

    public static func event(_ checkpoint: AuditCheckpoint) -> AuditEvent {
        AuditEvent(orgID: checkpoint.orgID, sequence: checkpoint.sequence, id: "checkpoint-\(checkpoint.sequence)",
                   occurredAt: checkpoint.signedAt, action: action, outcome: AuditOutcome.success.rawValue, actor: .system,
                   targetsJSON: "[]", requestID: nil, detailsJSON: json(checkpoint), previousHash: "", hash: checkpoint.headHash)
    }

    /// The checkpoint's JSON, keys sorted, as the witness file holds it.
    static func json(_ checkpoint: AuditCheckpoint) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(checkpoint)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// `{"action":"audit.checkpoint",` and the checkpoint's own fields.
    static func writeJSON(_ event: AuditEvent, to out: inout [UInt8]) {
        out += #"{"action":"audit.checkpoint","#.utf8
        out += event.detailsJSON.utf8.dropFirst()
    }

    /// Events and the checkpoints that cover them in one sequence: each checkpoint right after
    /// the event of its sequence number, or first when the stream sent that event before.
    public static func merge(_ events: [AuditEvent], _ checkpoints: [AuditCheckpoint]) -> [AuditEvent] {
        var records: [AuditEvent] = []
        records.reserveCapacity(events.count + checkpoints.count)
        var pending = checkpoints.sorted { $0.sequence < $1.sequence }[...]
        while let next = pending.first, next.sequence < (events.first?.sequence ?? .max) {
            records.append(event(next))
            pending = pending.dropFirst()
        }
        for event in events {
            records.append(event)
            while let next = pending.first, next.sequence <= event.sequence {
                records.append(Self.event(next))
                pending = pending.dropFirst()
            }
        }
        records += pending.map(event)
        return records
    }
}
