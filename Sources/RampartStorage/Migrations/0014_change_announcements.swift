extension Migration {
    /// On PostgreSQL, a change to a table whose rows a node answers from memory
    /// (`RecallCache`) is announced to every node at commit, so each forgets what it recalled.
    /// The announcement is a trigger, not application code, so every writer is covered: the
    /// server, another node, the CLI, or an operator's SQL. SQLite needs none: its readers see
    /// any commit through `PRAGMA data_version`.
    static let changeAnnouncements = Migration(version: 14, name: "change_announcements", tenantTables: []) { flavor in
        guard flavor == .postgres else { return [] }
        return ["""
            CREATE FUNCTION rampart_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('\(RecallCache.channel)', '');
                RETURN NULL;
            END $$
            """] + RecallCache.announcingTables.map { table in
            """
            CREATE TRIGGER \(table)_announce_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(table)
            FOR EACH STATEMENT EXECUTE FUNCTION rampart_announce_change()
            """
        }
    }
}
