import RampartCore

/// Full-text search of the audit log: a scan of the events the filters keep, newest first,
/// opened and matched in memory (see `AuditSearchText` for why there is no index).
extension Tenant {
    /// A page of the log: searched when there are words (with how far the search reached),
    /// listed through the filters' indexes otherwise.
    public func auditEvents(_ query: AuditQuery, search: AuditSearch?) async throws
        -> (page: Page<AuditEvent>, progress: AuditSearch.Progress?)
    {
        guard let search else { return (try await auditEvents(query), nil) }
        let found = try await searchAuditEvents(query, search)
        return (found.page, found.progress)
    }

    /// Up to `query.limit` matching events, examining at most `search.examineLimit` events.
    /// The filters narrow the scan through their indexes; the page's cursor is the sequence
    /// number of the last event examined, so the next request goes on where this one stopped,
    /// whether it stopped because the page was full or because the bound was reached.
    public func searchAuditEvents(_ query: AuditQuery, _ search: AuditSearch) async throws
        -> (page: Page<AuditEvent>, progress: AuditSearch.Progress)
    {
        var found: [AuditEvent] = []
        var examined = 0
        var before = query.beforeSequence
        var oldest: AuditEvent?
        var complete = false
        // Small first reads answer common words quickly; later ones grow to cut round trips.
        var batchSize = max(query.limit * 2, 200)
        scan: while examined < search.examineLimit {
            let wanted = min(batchSize, search.examineLimit - examined)
            let batch = try await filteredEvents(query, before: before, limit: wanted)
            for event in batch {
                examined += 1
                oldest = event
                if search.text.matches(event) {
                    found.append(event)
                    if found.count == query.limit { break scan }
                }
            }
            guard batch.count == wanted, let last = batch.last else {
                complete = true
                break
            }
            before = last.sequence
            batchSize = min(batchSize * 2, 4000)
        }
        let progress = AuditSearch.Progress(examined: examined, searchedBackTo: oldest?.occurredAt, complete: complete)
        return (Page(items: found, nextCursor: complete ? nil : oldest.map { String($0.sequence) }), progress)
    }
}
