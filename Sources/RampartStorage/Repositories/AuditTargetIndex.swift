import SQLKit

/// Where `audit_event_targets` keeps the events that name a target: keyed by organisation,
/// then by *block* (the sequence number shifted right by `blockShift`, so 16,384 events a
/// block), then target and sequence number.
///
/// The block comes before the target so that the rows one batch adds land together. Keyed by
/// target first, a batch naming a thousand different targets changed a thousand leaf pages of
/// the index, and every commit writes each page it changed whole, to the WAL and then again at
/// the checkpoint: at 256,000 events a batch of 1,000 wrote 1,176 pages, and the number grew
/// with the log. By block first it stays under about 330 (docs/design.md, "The target index is
/// keyed by block first"). The price is paid by `?target=`, which seeks each block it reads:
/// `filteredEvents` walks the log newest first in widening windows.
enum AuditTargetIndex {
    static let blockShift: Int64 = 14

    static func block(of sequence: Int64) -> Int64 { sequence >> blockShift }

    /// `block IN (…)` for the blocks in `range`: one seek per block on both backends, where a
    /// range on the block would read every row of every block in it. The numbers are computed
    /// here, never input, and an IN list of literals is planned as seeks by SQLite and
    /// PostgreSQL alike.
    static func blockList(_ range: ClosedRange<Int64>) -> SQLQueryString {
        SQLQueryString("block IN (" + range.map(String.init).joined(separator: ",") + ")")
    }

    /// A subquery: the sequence numbers in `range` of the events that name `target`, read with
    /// one seek per block the range spans.
    static func sequences(org: String, target: String, in range: Range<Int64>) -> SQLQueryString {
        SQLQueryString("SELECT seq FROM audit_event_targets WHERE org_id = ") + "\(bind: org)" + " AND "
            + blockList(block(of: range.lowerBound)...block(of: range.upperBound - 1)) + " AND target_id = " + "\(bind: target)"
            + " AND seq >= " + "\(bind: range.lowerBound)" + " AND seq < " + "\(bind: range.upperBound)"
    }

    /// Ranges of sequence numbers from just below `end` down to 1, each four times wider than
    /// the one before, from 1,024 up to 2^24 events (1,024 blocks): a target named often
    /// fills a page from the first, a rare one is read in a handful of queries however long
    /// the log.
    static func windows(below end: Int64) -> [Range<Int64>] {
        var windows: [Range<Int64>] = []
        var high = end, width: Int64 = 1_024
        while high > 1 {
            let low = max(1, high - width)
            windows.append(low..<high)
            high = low
            width = min(width * 4, 1 << 24)
        }
        return windows
    }
}
