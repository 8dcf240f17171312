import Foundation
import RampartCore

/// An organisation's audit log written out oldest first, as the CLI (`rampart audit export`),
/// the API (`GET /api/v1/audit-events/export`) and the console's download all write it: JSON
/// lines (the API's event objects), OCSF, CEF, LEEF, CSV, or a verifiable bundle
/// (`AuditBundle`). Events are read in pages after one another up to the head taken at the
/// start; events are never changed once appended, so pages read in separate transactions
/// make the same export as one long one, without holding a transaction for a slow reader.
public struct AuditExport: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case jsonl, ocsf, cef, leef, csv, bundle

        public var contentType: String {
            switch self {
            case .jsonl, .ocsf, .bundle: "application/x-ndjson"
            case .csv: "text/csv; charset=utf-8"
            case .cef, .leef: "text/plain; charset=utf-8"
            }
        }

        public var fileExtension: String {
            switch self {
            case .jsonl, .ocsf, .bundle: "jsonl"
            case .csv: "csv"
            case .cef, .leef: "log"
            }
        }
    }

    public typealias Filter = AuditExportFilter

    public static let pageSize = 2000
    static let bundleFilterRefused = "A bundle holds the whole log, so that it can be verified: leave out the filters and search words."

    public let format: Format
    public let filter: Filter
    public let orgID: String

    /// A bundle holds events as stored, so that they verify offline: personal data sealed,
    /// never in clear (and, once a person is erased, unrecoverable there too). Every other
    /// format holds them as people read them.
    public var carriesStoredEvents: Bool { format == .bundle }

    public init(format: Format, filter: Filter, orgID: String) throws {
        if format == .bundle, !filter.isEmpty { throw RampartError(.invalidParameter, Self.bundleFilterRefused) }
        self.format = format; self.filter = filter; self.orgID = orgID
    }

    /// Writes the export of the events after `start` (where retention left the log) up to
    /// `head`, with `checkpoints` (oldest first) in a bundle. `page(after)` reads the events
    /// after a sequence number, in order; `write` takes each piece of output; `progress` hears,
    /// after each page's output, how far the log has been read (a sequence number) and how many
    /// events were written so far. Returns how many events were written.
    public func run(from start: Int64 = 0, head: Int64, checkpoints: [AuditCheckpoint],
                    page: (Int64) async throws -> [AuditEvent],
                    write: ([UInt8]) async throws -> Void,
                    progress: (_ read: Int64, _ written: Int64) async throws -> Void = { _, _ in }) async throws -> Int64 {
        let checkpoints = checkpoints.filter { $0.sequence <= head }
        switch format {
        case .bundle:
            try await write(Self.line(AuditBundle.Line(header: AuditBundle.Header(
                orgId: orgID, exportedAt: .now(), events: max(0, head - start), checkpoints: checkpoints.count))))
        case .csv: try await write(Array((AuditCSV.header + "\r\n").utf8))
        default: break
        }
        var last = start, written: Int64 = 0
        while last < head {
            let events = try await page(last)
            guard let end = events.last else { break }
            // Matched and written in slices on every core, like the page's opening before.
            let slices = await events.mapInSlices { [self] slice in
                var out: [UInt8] = []
                out.reserveCapacity(slice.count * 600)
                var count: Int64 = 0
                for event in slice where event.sequence <= head && filter.matches(event) {
                    append(event, to: &out)
                    count += 1
                }
                return [(out, count)]
            }
            for (out, count) in slices {
                try await write(out)
                written += count
            }
            last = end.sequence
            try await progress(min(last, head), written)
        }
        if format == .bundle {
            var out: [UInt8] = []
            for checkpoint in checkpoints { out += try Self.line(AuditBundle.Line(checkpoint: checkpoint)) }
            try await write(out)
        }
        return written
    }

    private func append(_ event: AuditEvent, to out: inout [UInt8]) {
        switch format {
        case .bundle: AuditBundleEventLine.write(event, to: &out)
        case .csv: AuditCSV.write(event, to: &out)
        case .jsonl: LogStreamFormat.json.write(event, orgID: orgID, to: &out); out.append(UInt8(ascii: "\n"))
        case .ocsf: LogStreamFormat.ocsf.write(event, orgID: orgID, to: &out); out.append(UInt8(ascii: "\n"))
        case .cef: LogStreamFormat.cef.write(event, orgID: orgID, to: &out); out.append(UInt8(ascii: "\n"))
        case .leef: LogStreamFormat.leef.write(event, orgID: orgID, to: &out); out.append(UInt8(ascii: "\n"))
        }
    }

    static func line(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
    }
}

extension AuditExportFilter {
    public func matches(_ event: AuditEvent) -> Bool {
        if let since, event.occurredAt < since { return false }
        if let until, !(event.occurredAt < until) { return false }
        if let actor, event.actor.id != actor { return false }
        if let target {
            let targets = try? JSONDecoder().decode([AuditTarget].self, from: Data(event.targetsJSON.utf8))
            guard targets?.contains(where: { $0.id == target }) == true else { return false }
        }
        if let action, action.hasSuffix(".") ? !event.action.hasPrefix(action) : event.action != action { return false }
        // Last: the costliest test, over the event as read (an erased person's name is gone from it).
        return search?.matches(event) ?? true
    }
}

/// A bundle's event line, `{"event":{…}}`, written field by field: through `JSONEncoder`, with
/// its sorted keys, a bundle of a million events took 52 s. It reads back with `JSONDecoder`
/// as the same `AuditBundle.Line` (`AuditBundleEventLineTests` compares), keys in the order
/// `JSONEncoder`'s `sortedKeys` gives, optional fields left out when absent as it leaves them.
enum AuditBundleEventLine {
    static func write(_ e: AuditEvent, to out: inout [UInt8]) {
        out += #"{"event":{"action":"#.utf8
        string(e.action, &out)
        out += #","actor":{"#.utf8
        // As `JSONEncoder` writes an actor: sorted keys, absent fields left out, `type` always there.
        if e.actor.erased { out += #""erased":true,"#.utf8 }
        optional(e.actor.id, named: "id", &out)
        optional(e.actor.ip, named: "ip", &out)
        optional(e.actor.name, named: "name", &out)
        out += #""type":"#.utf8
        string(e.actor.type.rawValue, &out)
        if let userAgent = e.actor.userAgent {
            out += #","userAgent":"#.utf8
            string(userAgent, &out)
        }
        out += #"},"detailsJSON":"#.utf8
        string(e.detailsJSON, &out)
        if e.encoding != AuditEncoding.legacy { number(Int64(e.encoding), named: "encoding", &out) }
        out += #","hash":"#.utf8
        string(e.hash, &out)
        out += #","id":"#.utf8
        string(e.id, &out)
        number(e.occurredAt.microseconds, named: "occurredAtMicroseconds", &out)
        out += #","outcome":"#.utf8
        string(e.outcome, &out)
        if let personal = e.personal {
            out += #","personal":"#.utf8
            string(personal, &out)
        }
        out += #","previousHash":"#.utf8
        string(e.previousHash, &out)
        if let requestID = e.requestID {
            out += #","requestId":"#.utf8
            string(requestID, &out)
        }
        number(e.sequence, named: "sequence", &out)
        out += #","targetsJSON":"#.utf8
        string(e.targetsJSON, &out)
        out += "}}\n".utf8
    }

    private static func string(_ value: String, _ out: inout [UInt8]) {
        JSONValue.writeString(value, .foundation, to: &out)
    }

    /// `"name":"value",` when there is a value.
    private static func optional(_ value: String?, named name: String, _ out: inout [UInt8]) {
        guard let value else { return }
        out += #"""#.utf8
        out += name.utf8
        out += #"":"#.utf8
        string(value, &out)
        out.append(UInt8(ascii: ","))
    }

    /// `,"name":123`: never the first field.
    private static func number(_ value: Int64, named name: String, _ out: inout [UInt8]) {
        out += #",""#.utf8
        out += name.utf8
        out += #"":"#.utf8
        out += String(value).utf8
    }
}

/// Audit events as CSV (RFC 4180): quoted where needed, and a cell that a spreadsheet would
/// take for a formula (starting with =, +, -, @, tab or CR) starts with a ' instead.
public enum AuditCSV {
    public static let header = "sequence,occurredAt,action,outcome,actorType,actorId,actorName,actorIp,actorUserAgent,targets,requestId,details,hash"

    /// Written byte by byte: through `String`'s characters and Foundation's replacing, a CSV
    /// export of a million events took five times as long as the same export as JSON lines.
    public static func write(_ e: AuditEvent, to out: inout [UInt8]) {
        let cells = [String(e.sequence), e.occurredAt.rfc3339, e.action, e.outcome, e.actor.type.rawValue, e.actor.id ?? "",
                     e.actor.name ?? "", e.actor.ip ?? "", e.actor.userAgent ?? "", e.targetsJSON, e.requestID ?? "",
                     e.detailsJSON, e.hash]
        for (index, value) in cells.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            cell(value, to: &out)
        }
        out.append(contentsOf: [0x0D, 0x0A])
    }

    static func cell(_ value: String, to out: inout [UInt8]) {
        let bytes = value.utf8
        let formula = bytes.first.map { "=+-@\t\r".utf8.contains($0) } ?? false
        let quoted = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        if quoted { out.append(UInt8(ascii: "\"")) }
        if formula { out.append(UInt8(ascii: "'")) }
        if quoted {
            for byte in bytes {
                if byte == UInt8(ascii: "\"") { out.append(byte) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: bytes)
        }
    }
}
