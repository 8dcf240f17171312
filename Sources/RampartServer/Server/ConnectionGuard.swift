import HTTPTypes
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// Limits on connections, so that clients which open many connections, or send a request
/// slowly, cannot take the file descriptors and the server with them (a slow-loris attack).
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections open at once, from everyone.
    public var maximumConnections: Int
    /// Connections open at once from one client address.
    public var maximumConnectionsPerAddress: Int
    /// Seconds from a connection's start, or the end of its last request, to a complete request head.
    public var headerTimeout: Double
    /// Seconds from a request's head to the end of its body.
    public var bodyTimeout: Double
    /// Seconds a kept-alive connection may wait for its next request.
    public var idleTimeout: Double

    /// Hundreds of browsers behind one office address fit under the per-address cap; one
    /// client holding half-sent requests is cut off after 10 seconds and at 512 connections.
    public static let standard = ConnectionLimits(maximumConnections: 10_000, maximumConnectionsPerAddress: 512,
                                                  headerTimeout: 10, bodyTimeout: 30, idleTimeout: 60)

    public init(maximumConnections: Int, maximumConnectionsPerAddress: Int, headerTimeout: Double, bodyTimeout: Double,
                idleTimeout: Double) {
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }

    /// Problems that keep the limits from being used; empty when they are valid.
    public var problems: [String] {
        var out: [String] = []
        if maximumConnections < 1 { out.append("--max-connections must be at least 1") }
        if maximumConnectionsPerAddress < 1 || maximumConnectionsPerAddress > maximumConnections {
            out.append("--max-connections-per-address must be between 1 and --max-connections")
        }
        for (flag, value) in [("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout)]
            where !(value > 0 && value <= 3600) {
            out.append("\(flag) must be more than 0 and at most 3600 seconds")
        }
        return out
    }
}

/// Counts the open connections, overall and by client address, for every `ConnectionGuard`.
final class ConnectionCounter: Sendable {
    private struct State {
        var total = 0
        var byAddress: [String: Int] = [:]
    }

    let limits: ConnectionLimits
    private let state = NIOLockedValueBox(State())
    private let lastWarning = NIOLockedValueBox(NIODeadline.distantPast)
    static let refused = Counter(label: "rampart_connections_refused_total")
    static let timedOut = Counter(label: "rampart_connections_timed_out_total")

    init(limits: ConnectionLimits) { self.limits = limits }

    /// Counts a new connection, or says why it is over a limit.
    func admit(_ address: String) -> String? {
        state.withLockedValue { state in
            if state.total >= limits.maximumConnections { return "connections" }
            if state.byAddress[address, default: 0] >= limits.maximumConnectionsPerAddress { return "connections_per_address" }
            state.total += 1
            state.byAddress[address, default: 0] += 1
            return nil
        }
    }

    func release(_ address: String) {
        state.withLockedValue { state in
            state.total -= 1
            let left = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = left > 0 ? left : nil
        }
    }

    var open: Int { state.withLockedValue { $0.total } }

    /// A structured warning at most every 10 seconds, so an attack cannot flood the log.
    func warn(_ logger: Logger, _ message: Logger.Message, reason: String, address: String) {
        let now = NIODeadline.now()
        let due = lastWarning.withLockedValue { last in
            guard now - last >= .seconds(10) else { return false }
            last = now
            return true
        }
        guard due else { return }
        logger.warning(message, metadata: ["event": "connection.limited", "reason": .string(reason),
                                           "source_ip": .string(address), "open_connections": .stringConvertible(open)])
    }
}

/// One connection's guard, after the HTTP decoder: refuses a connection over a limit with
/// 503, answers 408 to a request whose head or body does not arrive in time, and closes a
/// kept-alive connection that waits longer than the idle timeout for its next request.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let counter: ConnectionCounter
    private let logger: Logger
    private var address = "unknown"
    private var admitted = false
    private var deadline: Scheduled<Void>?

    init(counter: ConnectionCounter, logger: Logger) {
        self.counter = counter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if let reason = counter.admit(address) {
            ConnectionCounter.refused.increment()
            counter.warn(logger, "connection refused: over a limit", reason: reason, address: address)
            respond(context, .serviceUnavailable, extra: [.retryAfter: "5"])
            return
        }
        admitted = true
        arm(context, seconds: counter.limits.headerTimeout, reason: "header_timeout")
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        if admitted { counter.release(address); admitted = false }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, seconds: counter.limits.bodyTimeout, reason: "body_timeout")
        case .end: deadline?.cancel(); deadline = nil
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A kept-alive connection may wait for its next request up to the idle timeout.
        if case .end = unwrapOutboundIn(data) { arm(context, seconds: counter.limits.idleTimeout, reason: "idle") }
        context.write(data, promise: promise)
    }

    /// After `seconds`, a request still being read gets 408; an idle connection is closed.
    private func arm(_ context: ChannelHandlerContext, seconds: Double, reason: String) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [self] in
            guard reason != "idle" else { context.close(promise: nil); return }
            ConnectionCounter.timedOut.increment()
            counter.warn(logger, "connection closed: request too slow", reason: reason, address: address)
            respond(context, .requestTimeout)
        }
    }

    /// Writes a bodiless answer and closes the connection.
    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponse.Status, extra: HTTPFields = [:]) {
        var fields = extra
        fields[.connection] = "close"
        fields[.contentLength] = "0"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
