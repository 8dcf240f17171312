import ArgumentParser
import Foundation
import RampartCore
import RampartStorage
import RampartStreams

extension Audit {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an organisation's audit log, oldest first, as JSON lines, OCSF, CEF, LEEF, CSV, or a verifiable bundle.",
            discussion: """
                A bundle holds every event as stored and the signed checkpoints; `rampart audit verify --bundle FILE` \
                checks it without the store. The other formats take the filters.
                """)
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case jsonl, ocsf, cef, leef, csv, bundle
        }

        @OptionGroup var tenant: TenantOptions
        @Option(help: "jsonl (the API's event objects), ocsf, cef, leef, csv, or bundle.") var format: Format = .jsonl
        @Option(help: "Write here instead of standard output (the file is replaced).") var output: String?
        @Option(help: "Only this action, or actions starting with it when it ends in '.' (e.g. user.).") var action: String?
        @Option(help: "Only events at or after this RFC 3339 time.") var since: Timestamp?
        @Option(help: "Only events before this RFC 3339 time.") var until: Timestamp?

        func validate() throws {
            if format == .bundle, action != nil || since != nil || until != nil {
                throw ValidationError("A bundle holds the whole log, so that it can be verified: leave out --action, --since and --until.")
            }
        }

        func run() async throws {
            try await runReportingErrors {
                let sink = try ExportSink(path: output)
                let (format, action, since, until) = (format, action, since, until)
                let written = try await tenant.read { tenant in
                    let head = try await tenant.auditHead()
                    let progress = ProgressLine(subject: "export", unit: "events read")
                    let checkpoints = format == .bundle ? try await tenant.auditCheckpoints(limit: Int.max).reversed() : []
                    if format == .bundle {
                        try sink.line(AuditBundle.Line(header: AuditBundle.Header(
                            orgId: tenant.orgID, exportedAt: .now(), events: head.sequence, checkpoints: checkpoints.count)))
                    } else if format == .csv {
                        sink.write(Array((AuditCSV.header + "\n").utf8))
                    }
                    var last: Int64 = 0
                    var written: Int64 = 0
                    while last < head.sequence {
                        let batch = try await tenant.auditEvents(after: last, limit: 2000)
                        guard let end = batch.last else { break }
                        var out: [UInt8] = []
                        for event in batch where event.sequence <= head.sequence
                            && Self.matches(event, action: action, since: since, until: until) {
                            switch format {
                            case .bundle: try sink.line(AuditBundle.Line(event: AuditBundle.Event(event)))
                            case .csv: out += AuditCSV.row(event).utf8
                            case .jsonl: LogStreamFormat.json.write(event, orgID: tenant.orgID, to: &out)
                            case .ocsf: LogStreamFormat.ocsf.write(event, orgID: tenant.orgID, to: &out)
                            case .cef: LogStreamFormat.cef.write(event, orgID: tenant.orgID, to: &out)
                            case .leef: LogStreamFormat.leef.write(event, orgID: tenant.orgID, to: &out)
                            }
                            if format != .bundle && format != .csv { out.append(UInt8(ascii: "\n")) }
                            written += 1
                        }
                        sink.write(out)
                        last = end.sequence
                        progress.update(last, of: head.sequence)
                    }
                    for checkpoint in checkpoints where checkpoint.sequence <= head.sequence {
                        try sink.line(AuditBundle.Line(checkpoint: checkpoint))
                    }
                    return written
                }
                try sink.close()
                FileHandle.standardError.write(Data("Exported \(written) events.\n".utf8))
            }
        }

        static func matches(_ event: AuditEvent, action: String?, since: Timestamp?, until: Timestamp?) -> Bool {
            if let since, event.occurredAt < since { return false }
            if let until, !(event.occurredAt < until) { return false }
            guard let action else { return true }
            return action.hasSuffix(".") ? event.action.hasPrefix(action) : event.action == action
        }
    }
}

/// Where an export goes: a file written beside its final name and moved there at the end, so
/// an interrupted export never leaves a file that looks complete; or standard output.
final class ExportSink: @unchecked Sendable {
    private let handle: FileHandle
    private let path: String?
    private let temporary: String?

    init(path: String?) throws {
        guard let path else {
            handle = .standardOutput; self.path = nil; temporary = nil
            return
        }
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw RampartError(.invalidParameter, "Cannot write \(path): check the folder exists and may be written.")
        }
        self.handle = handle; self.path = path; self.temporary = temporary
    }

    func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        handle.write(Data(bytes))
    }

    func line(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        write(Array(try encoder.encode(value)) + [UInt8(ascii: "\n")])
    }

    func close() throws {
        guard let path, let temporary else { return }
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw RampartError(.invalidParameter, "Cannot move the export into place at \(path).")
        }
    }
}

/// Audit events as CSV (RFC 4180): quoted where needed, and a cell that a spreadsheet would
/// take for a formula (starting with =, +, -, @, tab or CR) starts with a ' instead.
enum AuditCSV {
    static let header = "sequence,occurredAt,action,outcome,actorType,actorId,actorName,actorIp,actorUserAgent,targets,requestId,details,hash"

    static func row(_ e: AuditEvent) -> String {
        [String(e.sequence), e.occurredAt.rfc3339, e.action, e.outcome, e.actor.type.rawValue, e.actor.id ?? "",
         e.actor.name ?? "", e.actor.ip ?? "", e.actor.userAgent ?? "", e.targetsJSON, e.requestID ?? "", e.detailsJSON, e.hash]
            .map(cell).joined(separator: ",") + "\r\n"
    }

    static func cell(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
