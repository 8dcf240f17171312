import CResolv
import NIOPosix
import RampartCore

/// What a TXT lookup came to. `noRecords` covers both a name that does not exist and one
/// without TXT records: for a proof they mean the same, that it is not published.
enum TXTLookup: Sendable, Equatable {
    case records([String])
    case noRecords
    case unanswered(String)
}

/// TXT lookups through glibc's resolver (libresolv), at the name servers of /etc/resolv.conf
/// or at one given server (`--dns-server`): the resolver injected into domain verification.
struct TXTResolver: Sendable {
    /// An IPv4 address and port; nil asks the system's resolvers.
    var server: (address: String, port: Int)?
    var timeoutSeconds: Int32 = 3
    var attempts: Int32 = 2

    /// `host[:port]` (IPv4, port 53 by default), as `--dns-server` takes it.
    static func parseServer(_ text: String) throws -> (address: String, port: Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let port = parts.count == 2 ? Int(parts[1]) : 53
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let port, (1...65535).contains(port), octets.count == 4,
              octets.allSatisfy({ UInt8($0) != nil })
        else {
            throw RampartError(.configuration, "--dns-server must be an IPv4 address with an optional port, such as 127.0.0.1:5353.")
        }
        return (String(parts[0]), port)
    }

    /// The query blocks in the C library, so it runs on NIO's blocking-work pool.
    func txt(_ name: String) async throws -> TXTLookup {
        let (server, timeout, attempts) = (self.server, timeoutSeconds, attempts)
        return try await NIOThreadPool.singleton.runIfActive {
            var buffer = [CChar](repeating: 0, count: 16 * 1024)
            var written = 0
            let status = buffer.withUnsafeMutableBufferPointer { out in
                if let server {
                    rampart_txt_query(name, server.address, Int32(server.port), timeout, attempts, out.baseAddress, out.count,
                                      &written)
                } else {
                    rampart_txt_query(name, nil, 0, timeout, attempts, out.baseAddress, out.count, &written)
                }
            }
            let answered = server.map { "the DNS server \($0.address):\($0.port)" } ?? "the system's DNS servers"
            switch status {
            case Int32(RAMPART_TXT_OK.rawValue):
                let bytes = buffer.prefix(written).map { UInt8(bitPattern: $0) }
                let values = bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast()
                    .map { String(decoding: $0, as: UTF8.self) }
                return values.isEmpty ? .noRecords : .records(Array(values))
            case Int32(RAMPART_TXT_NXDOMAIN.rawValue), Int32(RAMPART_TXT_NODATA.rawValue):
                return .noRecords
            case Int32(RAMPART_TXT_TRY_AGAIN.rawValue):
                return .unanswered("\(answered) did not answer for \(name) in time; try again shortly")
            case Int32(RAMPART_TXT_SETUP.rawValue):
                return .unanswered("the DNS resolver could not be set up; check --dns-server and /etc/resolv.conf")
            default:
                return .unanswered("\(answered) refused or could not answer the query for \(name)")
            }
        }
    }
}
