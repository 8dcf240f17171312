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
                checks it without the store. The other formats take the filters and --search.
                """)
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var export: AuditExportOptions
        @Option(help: "Write here instead of standard output (the file is replaced).") var output: String?

        func run() async throws {
            try await runReportingErrors {
                let sink = try ExportSink(path: output)
                let (format, filter) = (export.format, try export.filter())
                let written = try await tenant.read { tenant in
                    let export = try AuditExport(format: format, filter: filter, orgID: tenant.orgID)
                    let scope = try await tenant.auditExportScope(withCheckpoints: format == .bundle)
                    let progress = ProgressLine(subject: "export", unit: "events read")
                    return try await export.run(from: scope.start, head: scope.head, checkpoints: scope.checkpoints,
                                                page: {
                                                    try await tenant.auditEvents(after: $0, limit: AuditExport.pageSize,
                                                                                 as: export.carriesStoredEvents ? .stored : .readable)
                                                },
                                                write: sink.write, progress: { read, _ in progress.update(read, of: scope.head) })
                }
                try sink.close()
                FileHandle.standardError.write(Data("Exported \(written) events.\n".utf8))
            }
        }
    }
}

extension AuditExport.Format: ExpressibleByArgument {}

/// The format and filters of `audit export` and `audit exports create`, as the API takes them.
struct AuditExportOptions: ParsableArguments {
    @Option(help: "jsonl (the API's event objects), ocsf, cef, leef, csv, or bundle.") var format: AuditExport.Format = .jsonl
    @Option(help: ArgumentHelp("""
        Only events whose action, actor or targets hold every one of these words, in any case, as `audit events --search`; \
        every event the other filters keep is examined.
        """, valueName: "words"))
    var search: String?
    @Option(help: "Only this action, or actions starting with it when it ends in '.' (e.g. user.).") var action: String?
    @Option(help: "Only events by this actor id.") var actor: String?
    @Option(help: "Only events naming this target id.") var target: String?
    @Option(help: "Only events at or after this RFC 3339 time.") var since: Timestamp?
    @Option(help: "Only events before this RFC 3339 time.") var until: Timestamp?

    func filter() throws -> AuditExport.Filter {
        AuditExport.Filter(action: action, actor: actor, target: target, since: since, until: until,
                           search: try search.flatMap { try AuditSearchText($0) })
    }

    func validate() throws {
        let filter: AuditExport.Filter
        do { filter = try self.filter() } catch let error as RampartError { throw ValidationError("--search: " + error.message) }
        if format == .bundle, !filter.isEmpty {
            throw ValidationError("A bundle holds the whole log, so that it can be verified: leave out --action, --actor, --target, --since, --until and --search.")
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

    func close() throws {
        guard let path, let temporary else { return }
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw RampartError(.invalidParameter, "Cannot move the export into place at \(path).")
        }
    }
}
