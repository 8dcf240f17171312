import Foundation
import Logging
import RampartCore

/// One JSON object per line on stderr: time, level, label, message and metadata
/// (the request id among it), ready for any log shipper.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

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
            fields[key] = .string(value.description)
        }
        let line = JSONValue.object(fields).canonical + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
