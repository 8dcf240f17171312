import Foundation
import RampartCore

/// Where the store lives: an SQLite file (one node) or a PostgreSQL database (many nodes).
public enum DatabaseConfiguration: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String)

    /// `--database` wins over `--data-dir`; both come from the same flags on every command.
    public static func from(dataDirectory: String, databaseURL: String?) throws -> DatabaseConfiguration {
        if let url = databaseURL, !url.isEmpty {
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw RampartError(.configuration,
                                   "--database must be a postgres:// URL; leave it out to use SQLite in --data-dir.")
            }
            return .postgres(url: url)
        }
        return .sqlite(path: URL(fileURLWithPath: dataDirectory).appendingPathComponent("rampart.sqlite").path)
    }

    public var flavor: SQLFlavor {
        switch self {
        case .sqlite: return .sqlite
        case .postgres: return .postgres
        }
    }
}

public enum SQLFlavor: String, Sendable {
    case sqlite
    case postgres
}
