import Foundation
import Logging
import RampartCore

/// One JSON object per line on stderr: time, level, label, message and metadata
/// (the request id among it, as `request_id`), ready for any log shipper.
public struct JSONLogHandler: LogHandler {
    /// Metadata other than the two per-request keys below.
    private var general: Logger.Metadata = [:]
    /// Every request sets these two, so they are fields of their own: a dictionary here would
    /// be copied (allocated and rehashed) twice per request, once by Hummingbird and once by
    /// the authenticator, for lines that are mostly never written.
    private var requestID: Logger.Metadata.Value?
    private var orgID: Logger.Metadata.Value?
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    /// Hummingbird gives every request an id under this key; `RequestIDMiddleware` replaces it
    /// with the id the response names (the caller's `X-Request-Id` when it is sane). The log
    /// line calls it `request_id`.
    public static let requestIDKey = "hb.request.id"
    public static let orgIDKey = "org_id"

    public var metadata: Logger.Metadata {
        get {
            var all = general
            all[Self.requestIDKey] = requestID
            all[Self.orgIDKey] = orgID
            return all
        }
        set {
            requestID = newValue[Self.requestIDKey]
            orgID = newValue[Self.orgIDKey]
            general = newValue.filter { $0.key != Self.requestIDKey && $0.key != Self.orgIDKey }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get {
            switch key {
            case Self.requestIDKey: requestID
            case Self.orgIDKey: orgID
            default: general[key]
            }
        }
        set {
            switch key {
            case Self.requestIDKey: requestID = newValue
            case Self.orgIDKey: orgID = newValue
            default: general[key] = newValue
            }
        }
    }

    public func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "time": .string(Timestamp.now().rfc3339),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "message": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key == Self.requestIDKey ? "request_id" : key] = .string(value.description)
        }
        write(JSONValue.object(fields).canonical + "\n")
    }
}
