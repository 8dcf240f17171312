import Foundation
import Logging
import NIOConcurrencyHelpers
import RampartCore
import RampartStorage
import ServiceLifecycle

/// Wakes the deliverer for an organisation whose change queued mail (nil: every organisation).
public final class MailWakeups: Sendable {
    let stream: AsyncStream<String?>
    private let continuation: AsyncStream<String?>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1024)) }

    func wake(_ orgID: String?) { continuation.yield(orgID) }
}

/// Hands queued mail to the mail system. A change that queues mail wakes it for its
/// organisation; every `sweepInterval` it also looks through every organisation, for retries
/// and for mail queued before a restart or by another node.
final class MailDeliverer: Service, Sendable {
    let services: RampartServices
    let transport: SendmailTransport
    static let sweepInterval: Duration = .seconds(15)

    init(services: RampartServices, settings: MailSettings) {
        self.services = services
        self.transport = SendmailTransport(settings: settings)
    }

    func run() async throws {
        let wakeups = services.mailWakeups
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.sweepInterval)
                    wakeups.wake(nil)
                }
            }
            group.addTask { [self] in
                await sweep(nil)
                for await orgID in wakeups.stream.cancelOnGracefulShutdown() { await sweep(orgID) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// One organisation's due mail, or every organisation's.
    private func sweep(_ orgID: String?) async {
        do {
            var orgs = orgID.map { [$0] } ?? []
            if orgID == nil { orgs = try await services.organizations.all().map(\.id) }
            for org in orgs { try await deliver(org) }
        } catch {
            services.logger.warning("mail delivery sweep failed", metadata: ["error": .string("\(error)")])
        }
    }

    private func deliver(_ orgID: String) async throws {
        let keys = services.keys
        let due = try await services.database.read(org: orgID) { try await $0.dueMail(keys: keys) }
        for mail in due {
            let transport = self.transport
            let outcome: String? = await Task.detached {
                do { try transport.send(mail); return nil } catch { return "\(error)" }
            }.value
            try await services.database.write(org: orgID) { tenant in
                if let outcome {
                    try await tenant.mailFailed(mail.id, attempts: mail.attempts, error: outcome)
                } else {
                    try await tenant.mailSent(mail.id)
                }
            }
            if let outcome {
                services.logger.warning("mail not delivered; it stays queued and is tried again", metadata: [
                    "event": "mail.failed", "org_id": .string(orgID), "attempts": .stringConvertible(mail.attempts + 1),
                    "error": .string(String(outcome.prefix(300))),
                ])
            }
        }
    }
}
