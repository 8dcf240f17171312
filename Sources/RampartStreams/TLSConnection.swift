import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import RampartCore

/// A TLS client connection to a log receiver. Certificate verification is always on: the
/// receiver's chain must lead to the system's roots or to the stream's own CA certificates,
/// and its certificate must name the host (or carry the IP address) the stream connects to.
public final class TLSConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    public static func connect(host: String, port: Int, trustedCertificates pem: String?,
                               timeout: TimeAmount = .seconds(5)) async throws -> TLSConnection {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let pem { configuration.trustRoots = .certificates(try trustedCertificates(pem)) }
        let context = try NIOSSLContext(configuration: configuration)
        // SNI and name checks take a host name; for an address NIOSSL checks the certificate's IP entries.
        let serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        let group = MultiThreadedEventLoopGroup.singleton
        let handshake = group.next().makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(handshake: handshake))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            handshake.fail(error)
            throw error
        }
        // Waiting here turns a refused certificate into its own error, not a later failed write.
        try await handshake.futureResult.get()
        return TLSConnection(channel: channel)
    }

    /// PEM text → certificates; a clear error for anything that is not one or more PEM certificates.
    public static func trustedCertificates(_ pem: String) throws -> [NIOSSLCertificate] {
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)), !certificates.isEmpty else {
            throw RampartError.invalidField("caCertificate", "must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    /// False once the receiver closed the connection or it failed: connect again before sending.
    public var isActive: Bool { channel.isActive }

    /// Completes when the bytes are written to the socket (after the TLS handshake, whose
    /// failure fails this write); fails when the connection breaks first.
    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    /// Closes with a TLS close_notify, so the receiver sees a clean end.
    public func close() async {
        try? await channel.close().get()
    }
}

/// Completes `handshake` when TLS is set up, or fails it with the reason (an untrusted
/// certificate, a closed connection). Receivers of log records answer nothing the sender
/// needs: what arrives is dropped, and the end of input (the receiver closing) closes the channel.
private final class HandshakeWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let handshake: EventLoopPromise<Void>

    init(handshake: EventLoopPromise<Void>) { self.handshake = handshake }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { handshake.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        handshake.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}
