import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

/// A person's authentication as an admin sees it from the command line, through the same
/// calls and audit events as `/api/v1/users/{id}/…`.
extension UserCommand {
    struct EffectivePolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "effective-policy", abstract: "Show which authentication policy applies to a user and why.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let (found, body) = try await tenant.read { tenant in
                    let found = try await tenant.findUser(user)
                    return (found, try await EffectivePolicyBody.explain(user: found, in: tenant))
                }
                try tenant.output(body) {
                    let policies = body.policies.map { policy in
                        "  \(policy.name) (\(policy.id))" + (policy.groupName.map { " through group \($0)" } ?? "")
                    }
                    return (["\(found.email): \(body.reason)", "Policies:"] + policies + ["Settings:"] + settingLines(body.settings))
                        .joined(separator: "\n")
                }
            }
        }
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's sessions.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let sessions = try await tenant.read { tenant in
                    try await tenant.userSessions(of: try await tenant.findUser(user).id).map(SessionBody.init)
                }
                try tenant.output(["data": sessions]) {
                    let rows = sessions.map {
                        [$0.id, $0.createdAt.rfc3339, $0.lastSeenAt.rfc3339, $0.ip ?? "-", $0.userAgent ?? "-"]
                    }
                    return table(rows.isEmpty ? [] : [["ID", "SIGNED IN", "LAST SEEN", "IP", "DEVICE"]] + rows,
                                 empty: "\(user) has no session.")
                }
            }
        }
    }

    struct EndSessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "end-sessions", abstract: "End one of a user's sessions (--session) or all of them (--all).")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String
        @Option(help: "The id of the session to end, from `rampart user sessions`.") var session: String?
        @Flag(help: "End every session of the user, console sessions included.") var all = false

        func validate() throws {
            guard (session == nil) == all else { throw ValidationError("Name exactly one of --session and --all.") }
        }

        func run() async throws {
            try await runReportingErrors {
                let (user, session) = (self.user, self.session)
                let (email, ended) = try await tenant.write { tenant in
                    let found = try await tenant.findUser(user)
                    guard let session else { return (found.email, try await tenant.endSessions(of: found.id, by: .system)) }
                    guard let id = Identifier.canonical(session) else {
                        throw RampartError(.notFound, "No session '\(session)' of \(found.email); `rampart user sessions` shows them.")
                    }
                    return (found.email, try await tenant.endSessions(of: found.id, only: id, by: .system))
                }
                try tenant.output(["ended": ended]) {
                    ended == 0 ? "\(email) had no session; nothing changed." : "Ended \(ended) session\(ended == 1 ? "" : "s") of \(email)."
                }
            }
        }
    }

    struct Factors: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's MFA factors and how many recovery codes they have left.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let summary = try await tenant.read { tenant in try await tenant.factorSummary(of: try await tenant.findUser(user).id) }
                try tenant.output(summary) {
                    let rows = summary.data.map { [$0.id, $0.kind, $0.state, $0.createdAt.rfc3339, $0.lastUsedAt?.rfc3339 ?? "-", $0.label] }
                    return table(rows.isEmpty ? [] : [["ID", "KIND", "STATE", "CREATED", "LAST USED", "LABEL"]] + rows,
                                 empty: "\(user) has no MFA factor.")
                        + "\nRecovery codes left: \(summary.unusedRecoveryCodes)"
                }
            }
        }
    }

    struct ResetMFA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-mfa", abstract: "Remove a user's MFA factors and recovery codes; they enrol again at their next sign-in.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String

        struct Output: Encodable {
            let factorsRemoved: Int
            let recoveryCodesRemoved: Int
        }

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let (email, removed) = try await tenant.write { tenant in
                    let found = try await tenant.findUser(user)
                    return (found.email, try await tenant.resetMFA(of: found.id, by: .system))
                }
                try tenant.output(Output(factorsRemoved: removed.factors, recoveryCodesRemoved: removed.recoveryCodes)) {
                    removed.factors + removed.recoveryCodes == 0 ? "\(email) had no MFA factor or recovery code; nothing changed."
                        : "Removed \(removed.factors) factor(s) and \(removed.recoveryCodes) recovery code(s) of \(email)."
                }
            }
        }
    }

    struct ForcePasswordReset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "force-password-reset",
            abstract: "End a user's password and sessions and print a one-time reset link (shown once).")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String
        @Option(help: "The URL people reach Rampart at, for the link; defaults to the one `rampart serve` last ran with on this data directory.")
        var publicURL: String?

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let (base, origin) = tenant.store.publicURL(publicURL)
                let (email, reset) = try await tenant.write { tenant in
                    let found = try await tenant.findUser(user)
                    return (found.email, try await tenant.forcePasswordReset(of: found.id, publicURL: base, by: .system))
                }
                try tenant.output(reset) {
                    """
                    \(email) must choose a new password; \(reset.sessionsEnded) session(s) ended.
                      reset link:  \(reset.url)
                                   (shown once; one use, valid until \(reset.expiresAt.rfc3339); address \(origin))
                    """
                }
            }
        }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a one-time link with which a user without a password sets one (an earlier unused link stops working).")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String
        @Option(help: "Days the link works (1–30).") var days = 7
        @Flag(help: "Also queue the link as mail to the user; a server running with --sendmail-command sends it.")
        var send = false
        @Option(help: "The URL people reach Rampart at, for the link; defaults to the one `rampart serve` last ran with on this data directory.")
        var publicURL: String?

        func run() async throws {
            try await runReportingErrors {
                let (user, days, send) = (self.user, self.days, self.send)
                let (base, origin) = tenant.store.publicURL(publicURL)
                let (email, invitation) = try await tenant.write(withKeys: { tenant, keys in
                    let found = try await tenant.findUser(user)
                    return (found.email, try await tenant.inviteUser(found.id, days: days, send: send, publicURL: base,
                                                                     canSend: true, keys: keys, by: .system))
                })
                try tenant.output(invitation) {
                    """
                    \(email) is invited\(invitation.reissued ? " (the earlier invitation no longer works)" : "")\(invitation.mailed ? "; the link is queued as mail" : "").
                      setup link:  \(invitation.url)
                                   (shown once; one use, valid until \(invitation.expiresAt.rfc3339); address \(origin))
                    """
                }
            }
        }
    }

    struct ImportHash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-hash",
            abstract: "Set a user's password from a bcrypt or PBKDF2-SHA256/512 hash made by another system.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String
        @Option(help: "The hash; `-` reads it from standard input, which keeps it out of the shell's history.") var hash: String

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let hash = self.hash == "-" ? (readLine(strippingNewline: true) ?? "") : self.hash
                let (email, scheme) = try await tenant.write { tenant in
                    let found = try await tenant.findUser(user)
                    return (found.email, try await tenant.importPasswordHash(hash, for: found.id, by: .system))
                }
                try tenant.output(["scheme": scheme]) { "Imported a \(scheme) hash as the password of \(email)." }
            }
        }
    }

    struct ImportHashes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-hashes",
            abstract: "Import password hashes for many users from a JSON Lines or CSV file of email and hash.",
            discussion: """
                JSON Lines: one {"email": "...", "hash": "..."} per line. CSV: email,hash per line, an optional \
                header line `email,hash`. Each line is imported in a transaction of its own; a refused line \
                changes nothing and is reported with its reason. Exits 2 when any line was refused.
                """)
        @OptionGroup var tenant: TenantOptions
        @Option(help: "The file to import.") var file: String
        @Option(help: "jsonl or csv; by default taken from the file's extension.") var format: HashFileFormat?

        struct Refusal: Encodable {
            let line: Int
            let reason: String
        }

        struct Output: Encodable {
            let imported: Int
            let refused: [Refusal]
        }

        func run() async throws {
            try await runReportingErrors {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw RampartError(.notFound, "Cannot read the file \(file).")
                }
                guard let format = format ?? HashFileFormat(path: file) else {
                    throw RampartError(.invalidField, "Cannot tell the format of \(file) from its name; pass --format jsonl or --format csv.")
                }
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                    .enumerated().map { (number: $0.offset + 1, text: $0.element.trimmingCharacters(in: .whitespacesAndNewlines)) }
                    .filter { !$0.text.isEmpty }
                let progress = ProgressLine(subject: "Importing hashes", unit: "lines")
                let output = try await tenant.store.withStore { database in
                    let organization = try await resolveOrganization(tenant.org, in: database)
                    var imported = 0
                    var refused: [Refusal] = []
                    for (index, line) in lines.enumerated() {
                        progress.update(Int64(index), of: Int64(lines.count))
                        if index == 0, format == .csv, line.text.lowercased().hasPrefix("email,") { continue }
                        do {
                            let entry = try format.parse(line.text)
                            try await database.write(org: organization.id) { tenant in
                                let user = try await tenant.findUser(entry.email)
                                try await tenant.importPasswordHash(entry.hash, for: user.id, by: .system)
                            }
                            imported += 1
                        } catch let error as RampartError {
                            refused.append(Refusal(line: line.number, reason: error.message))
                        }
                    }
                    return Output(imported: imported, refused: refused)
                }
                try tenant.output(output) {
                    (["Imported \(output.imported) hash(es); refused \(output.refused.count) line(s)."]
                        + output.refused.map { "  line \($0.line): \($0.reason)" }).joined(separator: "\n")
                }
                if !output.refused.isEmpty { throw ExitCode(2) }
            }
        }
    }
}

enum HashFileFormat: String, ExpressibleByArgument, Sendable {
    case jsonl
    case csv

    init?(path: String) {
        switch (path as NSString).pathExtension.lowercased() {
        case "jsonl", "ndjson": self = .jsonl
        case "csv": self = .csv
        default: return nil
        }
    }

    struct Entry: Decodable {
        let email: String
        let hash: String
    }

    /// One line's email and hash, or a refusal that says what is wrong with the line.
    func parse(_ line: String) throws -> Entry {
        switch self {
        case .jsonl:
            guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)) else {
                throw RampartError(.invalidField, "Not a JSON object with the strings \"email\" and \"hash\".")
            }
            return entry
        case .csv:
            let fields = line.split(separator: ",", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw RampartError(.invalidField, "Not two fields, email and hash, separated by a comma.")
            }
            return Entry(email: fields[0], hash: fields[1])
        }
    }
}
