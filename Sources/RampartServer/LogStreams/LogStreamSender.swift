import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import RampartCore
import RampartStorage
import RampartStreams
import ServiceLifecycle

/// Sends each active log stream the audit events after its cursor, in order, in batches, and
/// moves the cursor only once a batch is written (at-least-once: after a failure or a restart
/// the batch is sent again, each record carrying its event id and sequence number).
///
/// Every `pollInterval` it looks at the organisations known to have streams; every
/// `discoveryInterval` it finds them again (streams made by the CLI or another node). A
/// stream is sent by whichever node holds its lease in the database, so two nodes never
/// send the same stream. Each stream drains in a task of its own: a receiver that hangs
/// delays only its own stream, for at most `sendTimeout`. What a stream's kind sends and how is
/// its transport's (`LogStreamTransport`); the cursor, lease, batches and retries are the same
/// for every kind.
public final class LogStreamSender: Service, Sendable {
    let services: RampartServices
    /// This process, as the holder of stream leases.
    let owner = Identifier.make()
    let transportContext: LogStreamTransportContext
    static let pollInterval: Duration = .seconds(1)
    static let discoveryInterval: Duration = .seconds(15)
    static let leaseSeconds = 30.0
    static let sendTimeout: Duration = .seconds(10)
    static let batchSize = 500

    private struct State {
        var draining: Set<String> = []
        var transports: [String: (settings: String, transport: any LogStreamTransport)] = [:]
    }
    private let state = NIOLockedValueBox(State())

    init(services: RampartServices) {
        self.services = services
        // Redirects are not followed: a batch and its credentials go to the configured URL or nowhere.
        let http = HTTPClient(eventLoopGroupProvider: .singleton,
                              configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                      timeout: .init(connect: .seconds(5))))
        self.transportContext = LogStreamTransportContext(
            hostname: Self.hostname(publicURL: services.configuration.publicURL), http: http)
    }

    /// The syslog HOSTNAME of Rampart's records: the host of its public URL.
    public static func hostname(publicURL: String) -> String {
        URLComponents(string: publicURL)?.host ?? ""
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            var discovered = ContinuousClock.now - Self.discoveryInterval
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                if ContinuousClock.now - discovered >= Self.discoveryInterval {
                    await discover()
                    discovered = .now
                }
                let (due, active) = await dueStreams()
                await closeTransports(except: active)
                for (orgID, streamID) in due where claimDrain(streamID) {
                    group.addTask { await self.drain(orgID, streamID) }
                }
                try? await Task.sleep(for: Self.pollInterval)
            }
        }
        for (_, entry) in state.withLockedValue({ $0.transports }) { await entry.transport.close() }
        try? await transportContext.http.shutdown()
    }

    private func discover() async {
        do {
            var found: Set<String> = []
            for organization in try await services.organizations.all()
            where try await !services.database.read(org: organization.id, { try await $0.logStreams() }).isEmpty {
                found.insert(organization.id)
            }
            services.logStreamWatch.replace(found)
        } catch {
            // Info, not warning: a database that is down is reported by /readyz and its own service.
            services.logger.info("log stream discovery failed", metadata: ["error": .string("\(error)")])
        }
    }

    /// The streams to send now (organisation, stream), and the ids of every active stream.
    private func dueStreams() async -> (due: [(String, String)], active: Set<String>) {
        let now = Timestamp.now()
        var due: [(String, String)] = []
        var active: Set<String> = []
        for orgID in services.logStreamWatch.organizations {
            guard let streams = try? await services.database.read(org: orgID, { try await $0.logStreams() }) else { continue }
            for stream in streams where stream.status == .active {
                active.insert(stream.id)
                if stream.nextAttemptAt.map({ $0 <= now }) ?? true { due.append((orgID, stream.id)) }
            }
        }
        return (due, active)
    }

    /// A paused or deleted stream keeps no connection open.
    private func closeTransports(except active: Set<String>) async {
        let idle = state.withLockedValue { state in
            let ids = state.transports.keys.filter { !active.contains($0) && !state.draining.contains($0) }
            return ids.compactMap { state.transports.removeValue(forKey: $0)?.transport }
        }
        for transport in idle { await transport.close() }
    }

    private func claimDrain(_ streamID: String) -> Bool {
        state.withLockedValue { $0.draining.insert(streamID).inserted }
    }

    /// Sends batches until the stream has caught up with the log or a batch fails.
    private func drain(_ orgID: String, _ streamID: String) async {
        defer { _ = state.withLockedValue { $0.draining.remove(streamID) } }
        let database = services.database
        let (owner, keys) = (self.owner, services.keys)
        while !Task.isCancelled {
            do {
                let until = Timestamp.now().adding(seconds: Self.leaseSeconds)
                guard let (stream, secret, pseudonyms) = try await database.write(org: orgID, {
                    tenant -> (LogStream, String?, ActorPseudonyms?)? in
                    guard let stream = try await tenant.leaseLogStream(streamID, owner: owner, until: until) else { return nil }
                    return (stream, try await tenant.logStreamSecret(stream, keys: keys),
                            try await tenant.logStreamPseudonyms(stream, keys: keys))
                }) else { return }
                let (events, checkpoints) = try await database.read(org: orgID) { tenant in
                    let events = try await tenant.auditEvents(after: stream.cursor, limit: Self.batchSize)
                    return (events, try await tenant.auditCheckpoints(after: stream.checkpointCursor,
                                                                      through: events.last?.sequence ?? stream.cursor))
                }
                guard !events.isEmpty || !checkpoints.isEmpty else { return }
                do {
                    try await self.transport(for: stream, secret: secret, pseudonyms: pseudonyms)
                        .send(CheckpointRecord.merge(events, checkpoints), orgID: orgID)
                } catch {
                    await forget(streamID)
                    let reason = Self.describe(error)
                    let attempts = stream.failures + 1
                    // A batch of checkpoints alone waits for the receiver: they are no one's dead letter.
                    if attempts >= stream.deadLetterAfter, !events.isEmpty {
                        try await deadLetter(stream, events, error: reason, attempts: attempts, orgID: orgID)
                        continue
                    }
                    let wait = (error as? LogStreamDeliveryError)?.retryAfter ?? Self.backoff(failures: stream.failures)
                    try await database.write(org: orgID) {
                        try await $0.logStreamFailed(streamID, owner: owner, error: reason, retryAt: Timestamp.now().adding(seconds: wait))
                    }
                    services.logger.warning("log stream not delivered; it keeps its cursor and tries again", metadata: [
                        "event": "log_stream.failed", "org_id": .string(orgID), "stream_id": .string(streamID),
                        "retry_in_seconds": .stringConvertible(Int(wait)), "error": .string(reason),
                    ])
                    return
                }
                try await database.write(org: orgID) {
                    try await $0.logStreamDelivered(streamID, owner: owner, cursor: events.last?.sequence ?? stream.cursor,
                                                    checkpointCursor: checkpoints.last?.sequence ?? stream.checkpointCursor)
                }
                if events.count < Self.batchSize { return }
            } catch {
                services.logger.warning("log stream sweep failed", metadata: ["stream_id": .string(streamID), "error": .string("\(error)")])
                return
            }
        }
    }

    /// Gives up on a batch: its events go to the stream's dead letters and the stream goes on
    /// with the next batch at once (an admin replays or discards the dead letter).
    private func deadLetter(_ stream: LogStream, _ events: [AuditEvent], error: String, attempts: Int64, orgID: String) async throws {
        guard let first = events.first, let last = events.last else { return }
        let owner = self.owner
        let letter = try await services.database.write(org: orgID) {
            try await $0.deadLetterLogStreamBatch(stream.id, owner: owner, first: first.sequence, last: last.sequence,
                                                  events: Int64(events.count), error: error, attempts: attempts)
        }
        guard let letter else { return }
        services.logger.error("log stream gave up on a batch after its attempts; it is kept as a dead letter to replay", metadata: [
            "event": "log_stream.dead_lettered", "org_id": .string(orgID), "stream_id": .string(stream.id),
            "dead_letter_id": .string(letter.id), "first_sequence": .stringConvertible(first.sequence),
            "last_sequence": .stringConvertible(last.sequence), "attempts": .stringConvertible(attempts), "error": .string(error),
        ])
    }

    /// The stream's transport, or a new one when there is none or the stream's settings changed.
    private func transport(for stream: LogStream, secret: String?, pseudonyms: ActorPseudonyms?) async throws -> any LogStreamTransport {
        let settings = stream.transportSettings(secret: secret)
        if let open = state.withLockedValue({ $0.transports[stream.id] }), open.settings == settings { return open.transport }
        let transport = try stream.transport(secret: secret, pseudonyms: pseudonyms, context: transportContext)
        let replaced = state.withLockedValue { state in
            defer { state.transports[stream.id] = (settings, transport) }
            return state.transports[stream.id]?.transport
        }
        await replaced?.close()
        return transport
    }

    private func forget(_ streamID: String) async {
        if let entry = state.withLockedValue({ $0.transports.removeValue(forKey: streamID) }) { await entry.transport.close() }
    }

    /// Seconds before the next attempt: doubling from 1 up to 60, with jitter so that streams
    /// to one receiver that failed together do not retry together.
    static func backoff(failures: Int64) -> Double {
        let base = min(60.0, pow(2.0, Double(min(failures, 6))))
        return base * Double.random(in: 0.5...1.0)
    }

    /// What went wrong, for the stream's health and the log: short, and without the library's
    /// source paths or any secret.
    static func describe(_ error: any Error) -> String {
        if let error = error as? RampartError { return error.message }
        if let error = error as? LogStreamDeliveryError { return error.description }
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS handshake failed: the receiver's certificate is not trusted (CERTIFICATE_VERIFY_FAILED); "
                + "add its CA certificate to the stream"
        }
        if text.contains("handshakeFailed") { return "TLS handshake failed" }
        if let error = error as? NIOConnectionError {
            return "could not connect: " + (error.connectionErrors.first.map { "\($0.error)" } ?? "the host name did not resolve")
        }
        if let error = error as? IOError { return "connection failed: \(error.description)" }
        if error is ChannelError { return "connection closed: \(text)" }
        if let timeout = error as? TimeLimitExceeded { return timeout.description }
        return String(text.prefix(300))
    }
}

/// The organisations a background service looks at every poll (those known to have log
/// streams, or export jobs waiting). One changed through this process is watched at once;
/// others are found by the service's periodic discovery, which reads every organisation.
final class OrganizationWatch: Sendable {
    private let watched = NIOLockedValueBox<Set<String>>([])

    func watch(_ orgID: String) { _ = watched.withLockedValue { $0.insert(orgID) } }
    func unwatch(_ orgID: String) { _ = watched.withLockedValue { $0.remove(orgID) } }
    func replace(_ found: Set<String>) { watched.withLockedValue { $0 = found } }
    var organizations: Set<String> { watched.withLockedValue { $0 } }
}
