import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

struct LogStreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-stream",
        abstract: "Send the audit log to SIEMs: list, create, change, pause, resume, delete and test log streams.",
        subcommands: [List.self, Show.self, Create.self, Update.self, Pause.self, Resume.self, Delete.self, Test.self])

    static func describe(_ body: LogStreamBody) -> String {
        let s = body.stream
        var lines = ["\(s.name) (\(s.id)): \(s.kind.rawValue) to \(s.endpoint), \(s.status.rawValue)",
                     "  trusts: \(s.caCertificate == nil ? "the system's root certificates" : "its own CA certificates")",
                     "  sent up to event \(s.cursor) of \(body.headSequence) (\(body.lag) behind)",
                     "  last success: \(s.lastSuccessAt?.rfc3339 ?? "never")"]
        if let error = s.lastError {
            lines.append("  last error: \(error) at \(s.lastErrorAt?.rfc3339 ?? "?")")
        }
        if let next = s.nextAttemptAt { lines.append("  next attempt: \(next.rfc3339) (\(s.failures) failures)") }
        return lines.joined(separator: "\n")
    }

    struct StreamOption: ParsableArguments {
        @Option(help: "The stream's id or its name.") var stream: String

        /// The stream this option names, by id or by (case-insensitive) name.
        func id(in tenant: Tenant) async throws -> String {
            if let id = Identifier.canonical(stream) { return id }
            guard let found = try await tenant.logStreams().first(where: { $0.name.lowercased() == stream.lowercased() }) else {
                throw RampartError.notFound("Log stream '\(stream)'")
            }
            return found.id
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's log streams and their health.")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let bodies = try await tenant.read { tenant in
                    let head = try await tenant.auditHead()
                    return try await tenant.logStreams().map { LogStreamBody($0, head: head) }
                }
                try tenant.output(["data": bodies]) {
                    bodies.isEmpty ? "No log streams." : table([["ID", "STATUS", "BEHIND", "LAST SUCCESS", "ENDPOINT", "NAME"]] + bodies.map { body in
                        [body.stream.id, body.stream.lastError != nil && body.stream.failures > 0 ? "failing" : body.stream.status.rawValue,
                         String(body.lag), body.stream.lastSuccessAt?.rfc3339 ?? "never", body.stream.endpoint, body.stream.name]
                    }, empty: "No log streams.")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a log stream and its health.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption

        func run() async throws {
            try await runReportingErrors {
                let stream = self.stream
                let body = try await tenant.read { tenant in
                    LogStreamBody(try await tenant.requireLogStream(try await stream.id(in: tenant)), head: try await tenant.auditHead())
                }
                try tenant.output(body) { LogStreamCommand.describe(body) }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start sending the audit log to a receiver (syslog over TLS, RFC 5424/5425).",
            discussion: "A running server picks the stream up within 15 seconds.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "A name for the stream.") var name: String
        @Option(help: "The receiver as host:port, e.g. siem.example.com:6514.") var endpoint: String
        @Option(help: "Only syslog today.") var kind: LogStreamKind = .syslog
        @Option(help: "A PEM file of the CA certificates to trust for the receiver (default: the system's).")
        var caFile: String?
        @Option(help: "now (default), beginning, or an RFC 3339 time to backfill from.") var start = "now"

        func run() async throws {
            try await runReportingErrors {
                let settings = try LogStreamSettings(caCertificate: try caFile.map(readCAFile), start: start)
                let (name, endpoint, kind) = (self.name, self.endpoint, self.kind)
                let body = try await tenant.write { tenant in
                    let stream = try await tenant.createLogStream(name: name, kind: kind, endpoint: endpoint,
                                                                  caCertificate: settings.trust.pem,
                                                                  start: settings.start, by: .system)
                    return LogStreamBody(stream, head: try await tenant.auditHead())
                }
                try tenant.output(body) { "Created log stream " + LogStreamCommand.describe(body) }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a log stream, or change its endpoint or trusted CA.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption
        @Option(help: "A new name.") var name: String?
        @Option(help: "A new receiver, host:port.") var endpoint: String?
        @Option(help: "A PEM file of CA certificates to trust instead.") var caFile: String?
        @Flag(help: "Trust the system's root certificates again.") var systemRoots = false

        func run() async throws {
            try await runReportingErrors {
                if caFile != nil && systemRoots {
                    throw ValidationError("Give --ca-file or --system-roots, not both.")
                }
                let settings = try LogStreamSettings(caCertificate: systemRoots ? "" : try caFile.map(readCAFile), start: nil)
                let (stream, name, endpoint) = (self.stream, self.name, self.endpoint)
                let body = try await tenant.write { tenant in
                    let updated = try await tenant.updateLogStream(try await stream.id(in: tenant), name: name, endpoint: endpoint,
                                                                   caCertificate: settings.trust, status: nil, by: .system)
                    return LogStreamBody(updated, head: try await tenant.auditHead())
                }
                try tenant.output(body) { "Updated log stream " + LogStreamCommand.describe(body) }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop sending a stream; it keeps its place in the log.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption

        func run() async throws { try await setStatus(.paused, tenant: tenant, stream: stream) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a paused stream again, from where it stopped.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption

        func run() async throws { try await setStatus(.active, tenant: tenant, stream: stream) }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a log stream and its place in the log.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption

        func run() async throws {
            try await runReportingErrors {
                let stream = self.stream
                let deleted = try await tenant.write { tenant in
                    let found = try await tenant.requireLogStream(try await stream.id(in: tenant))
                    try await tenant.deleteLogStream(found.id, by: .system)
                    return found
                }
                try tenant.output(["id": deleted.id, "deleted": "true"]) { "Deleted log stream \(deleted.name) (\(deleted.id))." }
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one test record (not part of the log) to the stream's receiver now, and say whether it was taken.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption
        @Option(help: "The address the server is reached at; its host is the records' HOSTNAME.")
        var publicURL = "http://localhost:8080"

        func run() async throws {
            try await runReportingErrors {
                let stream = self.stream
                let (found, orgID) = try await tenant.read { tenant in
                    (try await tenant.requireLogStream(try await stream.id(in: tenant)), tenant.orgID)
                }
                try await LogStreamTestRecord.send(to: found, orgID: orgID, actor: .system,
                                                   hostname: LogStreamSender.hostname(publicURL: publicURL))
                try tenant.output(["delivered": true]) { "The receiver at \(found.endpoint) took the test record." }
            }
        }
    }
}

private func setStatus(_ status: LogStreamStatus, tenant: TenantOptions, stream: LogStreamCommand.StreamOption) async throws {
    try await runReportingErrors {
        let body = try await tenant.write { tenant in
            let updated = try await tenant.updateLogStream(try await stream.id(in: tenant), name: nil, endpoint: nil,
                                                           caCertificate: .unchanged, status: status, by: .system)
            return LogStreamBody(updated, head: try await tenant.auditHead())
        }
        try tenant.output(body) { (status == .paused ? "Paused " : "Resumed ") + LogStreamCommand.describe(body) }
    }
}

private func readCAFile(_ path: String) throws -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw RampartError.invalidField("--ca-file", "names a file that cannot be read: \(path)")
    }
    return text
}

extension LogStreamKind: ExpressibleByArgument {}
