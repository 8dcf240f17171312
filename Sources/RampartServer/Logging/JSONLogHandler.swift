import Foundation
import Logging
import RampartCore

/// One JSON object per line on stderr: time, level, label, message and metadata
/// (the request id among it, as `request_id`), ready for any log shipper.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    /// Hummingbird gives every request an id under this key; `RequestIDMiddleware` puts the
    /// caller's `X-Request-Id` there instead when it has a sane one. Keeping one key saves
    /// a metadata copy per request; the log line calls it `request_id`.
    static let requestIDKey = "hb.request.id"

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var fields: [String: JSONValue] = [
            "time": .string(Timestamp.now().rfc3339),
            "level": .string(level.rawValue),
            "logger": .string(label),
            "message": .string(message.description),
        ]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) {
            fields[key == Self.requestIDKey ? "request_id" : key] = .string(value.description)
        }
        write(JSONValue.object(fields).canonical + "\n")
    }
}
