import Foundation

/// The public URL `rampart serve` last ran with, kept in `<data-dir>/public-url` so that the
/// links `rampart org create` prints (on the same host, with the same data directory) point
/// at the server people actually reach, not at a default.
public enum PublicURLRecord {
    public static func path(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("public-url")
    }

    static func save(_ url: String, dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try Data((url + "\n").utf8).write(to: URL(fileURLWithPath: path(dataDirectory: dataDirectory)), options: .atomic)
    }

    public static func load(dataDirectory: String) -> String? {
        guard let text = try? String(contentsOfFile: path(dataDirectory: dataDirectory), encoding: .utf8) else { return nil }
        let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return url.isEmpty ? nil : url
    }
}
