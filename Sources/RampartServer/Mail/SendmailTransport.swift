import Foundation
import RampartCore
import RampartStorage

/// How Rampart sends mail: a sendmail-compatible program (Debian's `msmtp`, Postfix's or
/// Exim's `sendmail`) that reads an RFC 5322 message on standard input. It is started
/// directly, never through a shell, with the recipient as its last argument.
public struct MailSettings: Sendable, Equatable {
    /// The program and its own arguments, e.g. `["/usr/bin/msmtp", "--host=smtp.example.com"]`.
    public var command: [String]
    /// The `From:` address of every message.
    public var from: String

    public init(command: [String], from: String) {
        self.command = command
        self.from = from
    }

    /// `--sendmail-command` split on spaces (no quoting: a path with spaces needs a wrapper script).
    public static func parse(command: String, from: String) throws -> MailSettings {
        let words = command.split(separator: " ").map(String.init)
        guard let program = words.first, program.hasPrefix("/") else {
            throw RampartError(.configuration, "--sendmail-command must start with the program's absolute path, e.g. /usr/bin/msmtp.")
        }
        guard FileManager.default.isExecutableFile(atPath: program) else {
            throw RampartError(.configuration, "--sendmail-command: \(program) is not an executable file.")
        }
        guard (try? Validate.email(from, field: "mail-from")) != nil else {
            throw RampartError(.configuration, "--mail-from must be an email address, e.g. rampart@example.com.")
        }
        return MailSettings(command: words, from: from)
    }
}

struct SendmailTransport: Sendable {
    let settings: MailSettings
    static let timeout: TimeInterval = 30

    /// The whole message, headers and body; every value in it was validated when stored
    /// (addresses, names without control characters), so no header can be injected.
    func message(_ mail: OutgoingMail) -> String {
        let date = Self.dateFormatter.string(from: Date())
        return [
            "From: \(settings.from)", "To: \(mail.recipient)", "Subject: \(mail.subject)", "Date: \(date)",
            "Message-ID: <\(mail.id)@rampart>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit", "Auto-Submitted: auto-generated", "", mail.body,
        ].joined(separator: "\r\n")
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }()

    /// Hands one message to the program; throws with what it said when it exits non-zero.
    func send(_ mail: OutgoingMail) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: settings.command[0])
        process.arguments = Array(settings.command.dropFirst()) + ["-i", "--", mail.recipient]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(message(mail).utf8))
        try input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(Self.timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            throw RampartError(.databaseUnavailable, "the sendmail command did not finish within \(Int(Self.timeout)) s")
        }
        guard process.terminationStatus == 0 else {
            let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile().prefix(300), as: UTF8.self)
            throw RampartError(.databaseUnavailable, "the sendmail command exited \(process.terminationStatus): \(said)")
        }
    }
}
