import Crypto
import RampartCore

/// The signature of a webhook batch: `Rampart-Signature: t=<unix seconds>,v1=<hex>`, where the
/// hex is HMAC-SHA256, keyed with the stream's secret (its UTF-8 bytes), of the decimal
/// timestamp, a `.` and the body exactly as sent. A receiver recomputes it, compares in
/// constant time, and refuses a timestamp more than `tolerance` seconds from its clock, so a
/// captured request cannot be replayed later (docs/events.md).
public struct WebhookSignature: Sendable, Equatable {
    public static let headerName = "Rampart-Signature"
    public static let tolerance = 300

    public let timestamp: Int64
    public let mac: [UInt8]

    public init(secret: String, timestamp: Int64, body: [UInt8]) {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        hmac.update(data: Array("\(timestamp).".utf8))
        hmac.update(data: body)
        self.timestamp = timestamp
        self.mac = Array(hmac.finalize())
    }

    public var header: String { "t=\(timestamp),v1=\(mac.hexString)" }
}
