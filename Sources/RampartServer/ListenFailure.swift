import Foundation
import NIOCore
import RampartCore

extension RampartError {
    /// A port another process holds makes binding fail with EADDRINUSE deep inside NIO; the
    /// person starting the server needs the address and how to choose another, not an errno.
    public static func listenFailure(_ error: any Error, host: String, port: Int) -> RampartError? {
        guard let failure = error as? IOError, failure.errnoCode == EADDRINUSE else { return nil }
        return RampartError(.configuration,
                            "Cannot listen on \(host):\(port): the address is already in use. "
                                + "Choose another port with --port or the RAMPART_PORT environment variable.")
    }
}
