import Atomics
import HTTPTypes
import Hummingbird
import Logging
import RampartCore

/// Gives every request an id: the caller's `X-Request-Id` when it is sane, else a fresh one.
/// It is on every log line of the request, in its audit events and in the response.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = RampartRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let id = request.headers.soleValue(.xRequestID).flatMap { Self.isSane($0) ? $0 : nil } ?? RequestIDs.next()
        context.logger[metadataKey: JSONLogHandler.requestIDKey] = .string(id)
        context.requestID = id
        var response = try await next(request, context)
        response.headers[.xRequestID] = context.requestID
        return response
    }

    /// 1 to 128 ASCII letters, digits and `-_.:`: safe in a log line and a response header.
    static func isSane(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: ":"): true
            default: false
            }
        }
    }
}

/// Fresh request ids: a random half per process and a counter, 32 hex digits, as Hummingbird
/// makes its own. Hummingbird's id is formatted anew every time it is read (about 2 µs of a
/// request's CPU, with several allocations); this one is formatted once, by the hex writer
/// Rampart's digests use.
private enum RequestIDs {
    private static let processHalf = UInt64.random(in: .min ... .max)
    private static let counter = ManagedAtomic<UInt64>(UInt64.random(in: .min ... .max))

    static func next() -> String {
        let count = counter.loadThenWrappingIncrement(ordering: .relaxed)
        return withUnsafeBytes(of: (processHalf.bigEndian, count.bigEndian)) { $0.hexString }
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
