import SQLKit

/// How the audit log's indexes by target and by actor are keyed: by organisation, then by
/// *block* (the sequence number shifted right by `shift`, so 16,384 events a block), then
/// target or actor, then sequence number. `audit_event_targets` stores the block as a column;
/// `audit_events_by_actor` indexes the expression `(seq >> 14)`, which every query here
/// spells the same way so that both backends match it to the index.
///
/// The block comes before the target or actor so that the rows one batch adds land together.
/// Keyed by target first, a batch naming a thousand different targets changed a thousand leaf
/// pages of the index, and every commit writes each page it changed whole, to the WAL and then
/// again at the checkpoint: at 256,000 events a batch of 1,000 wrote 1,176 pages, and the
/// number grew with the log (docs/design.md, "The target and actor indexes are keyed by block
/// first"). The price is paid by `?target=` and `?actor=`, which seek each block they read:
/// `filteredEvents` walks the log newest first in widening windows.
enum AuditBlocks {
    static let shift: Int64 = 14

    static func block(of sequence: Int64) -> Int64 { sequence >> shift }

    /// `column IN (…)` for the blocks `range` spans: one seek per block on both backends, where
    /// a range on the block would read every row of every block in it. The numbers are
    /// computed here, never input, and an IN list of literals is planned as seeks by SQLite
    /// and PostgreSQL alike.
    static func blocks(_ column: String, spanning range: Range<Int64>) -> SQLQueryString {
        let blocks = block(of: range.lowerBound)...block(of: range.upperBound - 1)
        return SQLQueryString(column + " IN (" + blocks.map(String.init).joined(separator: ",") + ")")
    }

    /// A subquery: the sequence numbers in `range` of the events that name `target`, from its
    /// rows in `audit_event_targets` and from its ranges in `audit_target_ranges`, each range
    /// cut to `range` before the log's key is read for the events in it.
    static func sequences(org: String, target: String, in range: Range<Int64>) -> SQLQueryString {
        let (low, high) = (range.lowerBound, range.upperBound - 1)
        return SQLQueryString("SELECT seq FROM audit_event_targets WHERE org_id = ") + "\(bind: org)" + " AND "
            + blocks("block", spanning: range) + " AND target_id = " + "\(bind: target)" + within(range)
            + " UNION ALL SELECT e2.seq FROM audit_target_ranges r JOIN audit_events e2 ON e2.org_id = r.org_id"
            + " AND e2.seq >= CASE WHEN r.first_seq > " + "\(bind: low)" + " THEN r.first_seq ELSE " + "\(bind: low)" + " END"
            + " AND e2.seq <= CASE WHEN r.last_seq < " + "\(bind: high)" + " THEN r.last_seq ELSE " + "\(bind: high)" + " END"
            + " WHERE r.org_id = " + "\(bind: org)" + " AND " + blocks("r.block", spanning: range)
            + " AND r.target_id = " + "\(bind: target)" + " AND r.first_seq <= " + "\(bind: high)"
            + " AND r.last_seq >= " + "\(bind: low)"
    }

    /// The events `first` through `last` as ranges that do not cross a block, oldest first.
    static func ranges(from first: Int64, through last: Int64) -> [(block: Int64, first: Int64, last: Int64)] {
        var ranges: [(block: Int64, first: Int64, last: Int64)] = []
        var start = first
        while start <= last {
            let block = block(of: start), end = min(last, ((block + 1) << shift) - 1)
            ranges.append((block, start, end))
            start = end + 1
        }
        return ranges
    }

    /// A subquery: the sequence numbers in `range` of the events whose actor is `actor`, read
    /// from `audit_events_by_actor` alone. As a subquery, not conditions on the outer query:
    /// given both, SQLite scanned the range's events by sequence number instead.
    static func sequences(org: String, actor: String, in range: Range<Int64>) -> SQLQueryString {
        SQLQueryString("SELECT seq FROM audit_events WHERE org_id = ") + "\(bind: org)" + " AND "
            + blocks("(seq >> 14)", spanning: range) + " AND actor_id = " + "\(bind: actor)" + within(range)
    }

    private static func within(_ range: Range<Int64>) -> SQLQueryString {
        SQLQueryString(" AND seq >= ") + "\(bind: range.lowerBound)" + " AND seq < " + "\(bind: range.upperBound)"
    }

    /// Ranges of sequence numbers from just below `end` down to 1, each four times wider than
    /// the one before, from 1,024 up to 2^24 events (1,024 blocks): a target or actor named
    /// often fills a page from the first, a rare one is read in a handful of queries however
    /// long the log.
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
