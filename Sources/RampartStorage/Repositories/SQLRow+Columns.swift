import RampartCore
import SQLKit

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func timestamp(_ column: String) throws -> Timestamp { Timestamp(microseconds: try int(column)) }
    func optionalTimestamp(_ column: String) throws -> Timestamp? {
        try decode(column: column, as: Int64?.self).map { Timestamp(microseconds: $0) }
    }
}

/// A page of results and the opaque cursor that continues it.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?
    public init(items: [Item], nextCursor: String?) { self.items = items; self.nextCursor = nextCursor }
}

/// Keyset pagination over time-ordered ids: the cursor is the last id seen.
public struct PageRequest: Sendable {
    public var after: String?
    public var limit: Int
    public init(after: String? = nil, limit: Int = 50) { self.after = after; self.limit = limit }

    /// The page sizes a caller may ask for, in the API and the CLI.
    public static let limits = 1...200

    func page<Item>(_ rows: [Item], id: (Item) -> String) -> Page<Item> {
        if rows.count > limit {
            let kept = Array(rows.prefix(limit))
            return Page(items: kept, nextCursor: kept.last.map(id))
        }
        return Page(items: rows, nextCursor: nil)
    }
}
