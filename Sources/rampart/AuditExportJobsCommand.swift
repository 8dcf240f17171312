import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage
import RampartStreams

extension Audit {
    /// The export jobs the console and `POST /api/v1/audit-exports` make: a running server
    /// (any node on the store) writes them; these commands queue, follow and fetch them.
    struct Exports: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prepare audit exports on the server, follow them and download their files (kept 24 hours).",
            subcommands: [Create.self, List.self, Show.self, Download.self, Delete.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Queue an export for the server to write; --wait follows it until it is done.",
                discussion: "A running `rampart serve` on this store writes it. `rampart audit export` writes one here instead.")
            @OptionGroup var tenant: TenantOptions
            @OptionGroup var export: AuditExportOptions
            @Flag(help: "Show its progress until it is done or failed.") var wait = false

            func run() async throws {
                try await runReportingErrors {
                    let (format, filter) = (export.format, try export.filter())
                    var job = try await tenant.write {
                        try await $0.createAuditExport(format: format.rawValue, filter: filter, by: .system)
                    }
                    if wait { job = try await follow(job.id, tenant) }
                    try tenant.output(AuditExportView(job)) { describe(job) }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the exports of the last 24 hours, newest first.")
            @OptionGroup var tenant: TenantOptions

            func run() async throws {
                try await runReportingErrors {
                    let jobs = try await tenant.read { try await $0.auditExports(limit: 200) }
                    try tenant.output(jobs.map(AuditExportView.init)) {
                        let rows = jobs.map { [$0.id, $0.createdAt.rfc3339, $0.format, $0.status.rawValue, progress($0), filters($0)] }
                        return table(rows.isEmpty ? [] : [["ID", "REQUESTED", "FORMAT", "STATUS", "PROGRESS", "FILTERS"]] + rows,
                                     empty: "No exports; `rampart audit exports create` prepares one.")
                    }
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show an export and how far it is; --wait follows it.")
            @OptionGroup var tenant: TenantOptions
            @Argument(help: "The export's id.") var id: String
            @Flag(help: "Show its progress until it is done or failed.") var wait = false

            func run() async throws {
                try await runReportingErrors {
                    let id = id
                    let job = wait ? try await follow(id, tenant) : try await tenant.read { try await $0.requireAuditExport(id) }
                    try tenant.output(AuditExportView(job)) { describe(job) }
                }
            }
        }

        struct Download: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write a finished export's file.")
            @OptionGroup var tenant: TenantOptions
            @Argument(help: "The export's id.") var id: String
            @Option(help: "Write here instead of standard output (the file is replaced).") var output: String?

            func run() async throws {
                try await runReportingErrors {
                    let id = id
                    let job = try await tenant.read { try await $0.requireAuditExport(id) }
                    guard job.status == .done else {
                        throw RampartError(.conflict, "The export is \(job.status.rawValue) (\(job.percent) %); download it once it is done.")
                    }
                    let sink = try ExportSink(path: output)
                    for index in 0..<job.chunks {
                        sink.write(try await tenant.read { try await $0.auditExportChunk(id, index: index) })
                    }
                    try sink.close()
                    FileHandle.standardError.write(Data("Wrote \(job.byteCount) bytes (\(job.eventsWritten) events).\n".utf8))
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete an export and its file.")
            @OptionGroup var tenant: TenantOptions
            @Argument(help: "The export's id.") var id: String

            func run() async throws {
                try await runReportingErrors {
                    let id = id
                    let job = try await tenant.write { try await $0.deleteAuditExport(id, by: .system) }
                    try tenant.output(AuditExportView(job)) { "Deleted export \(job.id)." }
                }
            }
        }
    }
}

/// Reads the job every second, with its progress on standard error, until it is finished.
private func follow(_ id: String, _ tenant: TenantOptions) async throws -> AuditExportJob {
    let line = ProgressLine(subject: "export", unit: "events read")
    while true {
        let job = try await tenant.read { try await $0.requireAuditExport(id) }
        if job.isFinished { return job }
        line.update(job.eventsRead, of: job.eventsTotal)
        try await Task.sleep(for: .seconds(1))
    }
}

private func progress(_ job: AuditExportJob) -> String {
    "\(job.eventsRead) of \(job.eventsTotal) events (\(job.percent) %)"
}

private func filters(_ job: AuditExportJob) -> String {
    job.filter.isEmpty ? "-" : job.filter.summary.joined(separator: ", ")
}

private func describe(_ job: AuditExportJob) -> String {
    var text = "Export \(job.id): \(job.format), \(job.status.rawValue), \(progress(job))"
    if job.eventsWritten != job.eventsRead { text += ", \(job.eventsWritten) kept by the filters" }
    if !job.filter.isEmpty { text += "\nFilters: " + filters(job) }
    if job.status == .done { text += ", \(job.byteCount) bytes; `rampart audit exports download \(job.id)` writes it" }
    if let error = job.error { text += "\nFailed: \(error)" }
    return text
}
