import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

struct LogStreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-stream",
        abstract: "Send the audit log to SIEMs: list, create, change, pause, resume, delete and test log streams, and replay "
            + "or discard their dead letters.",
        subcommands: [List.self, Show.self, Create.self, Update.self, Pause.self, Resume.self, Delete.self, Test.self,
                      DeadLetters.self, Replay.self, Discard.self])

    static func describe(_ body: LogStreamBody) -> String {
        let s = body.stream
        var lines = ["\(s.name) (\(s.id)): \(s.kind.rawValue) to \(s.endpoint), \(s.status.rawValue), format \(s.format.rawValue)",
                     "  people in events: \(s.personalData.rawValue)",
                     "  trusts: \(s.caCertificate == nil ? "the system's root certificates" : "its own CA certificates")",
                     "  sent up to event \(s.cursor) of \(body.headSequence) (\(body.lag) behind)",
                     "  last success: \(s.lastSuccessAt?.rfc3339 ?? "never")"]
        lines += s.target.named.map { "  \($0.name): \($0.value)" }
        if let field = s.kind.secretField { lines.append("  \(field): \(s.hasSecret ? "sealed" : "none")") }
        if let error = s.lastError {
            lines.append("  last error: \(error) at \(s.lastErrorAt?.rfc3339 ?? "?")")
        }
        if let next = s.nextAttemptAt { lines.append("  next attempt: \(next.rfc3339) (\(s.failures) failures)") }
        lines.append("  dead letters: \(s.deadLetters) (a batch becomes one after \(s.deadLetterAfter) failed attempts)")
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

    /// The receiver settings of `create` and `update`; which a kind takes is `LogStreamFields`' to say.
    struct ReceiverOptions: ParsableArguments {
        @Option(help: "The record format: json (default), cef, leef (syslog, webhook) or ocsf.") var format: String?
        @Option(help: ArgumentHelp("Failed attempts at one batch before its events become a dead letter and the stream "
                                   + "moves on (default \(LogStream.defaultDeadLetterAfter)).", valueName: "attempts"))
        var deadLetterAfter: Int64?
        @Option(help: "People in events: full (default), or pseudonymous (a stable pseudonym per person, no IP or user agent).")
        var personalData: String?
        @Option(help: ArgumentHelp("A file holding the kind's secret: the Splunk HEC token, the webhook's signing secret, or "
                                   + "the Sentinel app's client secret ('-' reads standard input). A webhook without one gets "
                                   + "a generated secret, printed once.", valueName: "path"))
        var secretFile: String?
        @Option(help: "Splunk: the index (default: the token's).") var index: String?
        @Option(help: "Sentinel: the Entra ID tenant id.") var tenantId: String?
        @Option(help: "Sentinel: the application (client) id.") var clientId: String?
        @Option(help: "Sentinel: the data collection rule's immutable id (dcr-…).") var dcrImmutableId: String?
        @Option(help: "Sentinel: the rule's stream, e.g. Custom-RampartAudit_CL.") var streamName: String?
        @Option(help: "Sentinel: the OAuth token URL (default: Entra ID's for the tenant).") var tokenUrl: String?

        func fields(kind: LogStreamKind, endpoint: String?) throws -> LogStreamFields {
            var fields = LogStreamFields(endpoint: endpoint, format: format, deadLetterAfter: deadLetterAfter, personalData: personalData, target: LogStreamTarget(
                index: index, tenantId: tenantId, clientId: clientId, dcrImmutableId: dcrImmutableId, streamName: streamName,
                tokenUrl: tokenUrl))
            guard let secretFile else { return fields }
            guard let field = kind.secretField else {
                throw RampartError.invalidField("--secret-file", "is not a setting of \(kind.rawValue) streams")
            }
            let secret = try readSecret(secretFile)
            switch field {
            case "token": fields.token = secret
            case "secret": fields.secret = secret
            default: fields.clientSecret = secret
            }
            return fields
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
            abstract: "Start sending the audit log to a receiver: syslog over TLS (RFC 5424/5425), Splunk HEC, a signed webhook, "
                + "or Microsoft Sentinel.",
            discussion: "A running server picks the stream up within 15 seconds.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "A name for the stream.") var name: String
        @Option(help: "syslog (default), splunk-hec, webhook or sentinel.") var kind: LogStreamKind = .syslog
        @Option(help: "Syslog: the receiver as host:port, e.g. siem.example.com:6514. The others: its https URL.")
        var endpoint: String
        @OptionGroup var receiver: ReceiverOptions
        @Option(help: "A PEM file of the CA certificates to trust for the receiver (default: the system's).")
        var caFile: String?
        @Option(help: "now (default), beginning, or an RFC 3339 time to backfill from.") var start = "now"

        func run() async throws {
            try await runReportingErrors {
                let settings = try LogStreamSettings(caCertificate: try caFile.map(readCAFile), start: start)
                let (name, kind, fields) = (self.name, self.kind, try receiver.fields(kind: kind, endpoint: endpoint))
                let body = try await tenant.write(withKeys: { tenant, keys in
                    let created = try await tenant.createLogStream(name: name, kind: kind, fields: fields,
                                                                   caCertificate: settings.trust.pem,
                                                                   start: settings.start, keys: keys, by: .system)
                    return LogStreamBody(created.stream, head: try await tenant.auditHead(), generatedSecret: created.secret)
                })
                try tenant.output(body) {
                    "Created log stream " + LogStreamCommand.describe(body)
                        + (body.generatedSecret.map { "\nSigning secret (shown only now): \($0)" } ?? "")
                }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rename a log stream, or change its receiver, format, settings, secret or trusted CA.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption
        @Option(help: "A new name.") var name: String?
        @Option(help: "A new receiver: host:port for syslog, an https URL for the others.") var endpoint: String?
        @OptionGroup var receiver: ReceiverOptions
        @Option(help: "A PEM file of CA certificates to trust instead.") var caFile: String?
        @Flag(help: "Trust the system's root certificates again.") var systemRoots = false

        func run() async throws {
            try await runReportingErrors {
                if caFile != nil && systemRoots {
                    throw ValidationError("Give --ca-file or --system-roots, not both.")
                }
                let settings = try LogStreamSettings(caCertificate: systemRoots ? "" : try caFile.map(readCAFile), start: nil)
                let (stream, name, endpoint, receiver) = (self.stream, self.name, self.endpoint, self.receiver)
                let body = try await tenant.write(withKeys: { tenant, keys in
                    let found = try await tenant.requireLogStream(try await stream.id(in: tenant))
                    let updated = try await tenant.updateLogStream(found.id, name: name,
                                                                   fields: try receiver.fields(kind: found.kind, endpoint: endpoint),
                                                                   caCertificate: settings.trust, status: nil, keys: keys, by: .system)
                    return LogStreamBody(updated, head: try await tenant.auditHead())
                })
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
                let (found, secret, pseudonyms, orgID) = try await tenant.write(withKeys: { tenant, keys in
                    let found = try await tenant.requireLogStream(try await stream.id(in: tenant))
                    return (found, try await tenant.logStreamSecret(found, keys: keys),
                            try await tenant.logStreamPseudonyms(found, keys: keys), tenant.orgID)
                })
                try await LogStreamTestRecord.send(to: found, secret: secret, pseudonyms: pseudonyms, orgID: orgID, actor: .system,
                                                   hostname: LogStreamSender.hostname(publicURL: publicURL))
                try tenant.output(["delivered": true]) { "The receiver at \(found.endpoint) took the test record." }
            }
        }
    }
}

extension LogStreamCommand {
    struct DeadLetterOption: ParsableArguments {
        @Option(help: "The dead letter's id, as `rampart log-stream dead-letters` shows it.") var deadLetter: String
    }

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters",
            abstract: "List the batches a stream gave up on after its attempts, oldest first; replay or discard each.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption

        func run() async throws {
            try await runReportingErrors {
                let stream = self.stream
                let letters = try await tenant.read { tenant in try await tenant.logStreamDeadLetters(try await stream.id(in: tenant)) }
                try tenant.output(["data": letters]) {
                    table([["ID", "EVENTS", "FIRST", "LAST", "GIVEN UP", "ERROR"]] + letters.map { letter in
                        [letter.id, String(letter.events), String(letter.firstSequence), String(letter.lastSequence),
                         letter.createdAt.rfc3339, letter.error]
                    }, empty: "No dead letters.")
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a dead letter's events to the stream's receiver again, in order; the dead letter goes once they are taken.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption
        @OptionGroup var deadLetter: DeadLetterOption
        @Option(help: "The address the server is reached at; its host is the records' HOSTNAME.")
        var publicURL = "http://localhost:8080"

        func run() async throws {
            try await runReportingErrors {
                let (stream, letterID, hostname) = (self.stream, deadLetter.deadLetter,
                                                    LogStreamSender.hostname(publicURL: publicURL))
                let replayed = try await tenant.withDatabase { database, keys, orgID in
                    let id = try await database.read(org: orgID) { try await stream.id(in: $0) }
                    return try await LogStreamDeadLetterReplay.replay(id, letterID, database: database, keys: keys, orgID: orgID,
                                                                      hostname: hostname, by: .system)
                }
                try tenant.output(["replayed": replayed.events]) {
                    "The receiver took the \(replayed.events) events (\(replayed.firstSequence) to \(replayed.lastSequence)) "
                        + "of the dead letter; it is gone."
                }
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop a dead letter without sending it: its events stay in the audit log, but this stream never sends them.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var stream: StreamOption
        @OptionGroup var deadLetter: DeadLetterOption

        func run() async throws {
            try await runReportingErrors {
                let (stream, letterID) = (self.stream, deadLetter.deadLetter)
                let letter = try await tenant.write { tenant in
                    try await tenant.removeLogStreamDeadLetter(try await stream.id(in: tenant), letterID, replayed: false, by: .system)
                }
                try tenant.output(["id": letter.id, "discarded": "true"]) {
                    "Discarded the dead letter of events \(letter.firstSequence) to \(letter.lastSequence)."
                }
            }
        }
    }
}

private func setStatus(_ status: LogStreamStatus, tenant: TenantOptions, stream: LogStreamCommand.StreamOption) async throws {
    try await runReportingErrors {
        let body = try await tenant.write(withKeys: { tenant, keys in
            let updated = try await tenant.updateLogStream(try await stream.id(in: tenant), name: nil, caCertificate: .unchanged,
                                                           status: status, keys: keys, by: .system)
            return LogStreamBody(updated, head: try await tenant.auditHead())
        })
        try tenant.output(body) { (status == .paused ? "Paused " : "Resumed ") + LogStreamCommand.describe(body) }
    }
}

private func readCAFile(_ path: String) throws -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw RampartError.invalidField("--ca-file", "names a file that cannot be read: \(path)")
    }
    return text
}

/// A secret from a file or standard input (`-`), without its final line break: never from the
/// command line, where other users of the machine could read it.
private func readSecret(_ path: String) throws -> String {
    let text = path == "-" ? AnyIterator { readLine(strippingNewline: false) }.joined()
        : try? String(contentsOfFile: path, encoding: .utf8)
    guard let text, !text.isEmpty else {
        throw RampartError.invalidField("--secret-file", "names a file that cannot be read or is empty: \(path)")
    }
    return text.trimmingCharacters(in: .newlines)
}

extension LogStreamKind: ExpressibleByArgument {}
