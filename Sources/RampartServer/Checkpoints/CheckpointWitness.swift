import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import RampartCore

/// Where signed checkpoints go outside the database (`serve --audit-witness`): a file that
/// gets one JSON line each, or an HTTPS endpoint that gets each as a JSON POST. Either way,
/// someone who can rewrite the database cannot rewrite what the witness already holds.
public enum CheckpointWitness: Sendable, Equatable {
    case file(path: String)
    case webhook(url: String)

    /// A URL (https, or http on this machine, as every URL Rampart sends to) is a webhook;
    /// anything else is a file path.
    public static func parse(_ text: String) throws -> CheckpointWitness {
        guard text.contains("://") else {
            guard !text.isEmpty else { throw RampartError(.configuration, "--audit-witness needs a file path or an https URL.") }
            return .file(path: text)
        }
        do {
            return .webhook(url: try WebURL(parsing: text, field: "auditWitness").description)
        } catch {
            throw RampartError(.configuration, "--audit-witness is a file path or a URL, and as a URL it \(error.message).")
        }
    }

    /// Hands one checkpoint over; throws when the witness did not take it (it is handed again later).
    func record(_ checkpoint: AuditCheckpoint, client: HTTPClient) async throws {
        let line = try JSONEncoder().encode(checkpoint)
        switch self {
        case .file(let path):
            try Self.append(line + Data("\n".utf8), to: path)
        case .webhook(let url):
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: line))
            let response = try await client.execute(request, timeout: .seconds(10))
            guard (200..<300).contains(response.status.code) else {
                throw RampartError(.receiverUnreachable, "The audit witness answered \(response.status.code).")
            }
        }
    }

    /// Appends and syncs, so a checkpoint counted as witnessed is on disk.
    private static func append(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RampartError(.receiverUnreachable, "Cannot open the audit witness file \(path).") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            throw RampartError(.receiverUnreachable, "Cannot write the audit witness file \(path).")
        }
    }
}
