extension Migration {
    /// Organisations' claims on domains. Any number may claim one domain; the partial unique
    /// index lets one claim at most be verified, across all organisations: the index sees
    /// every row whatever row-level security hides. Verified claims are the directory that
    /// says which organisation manages an email's domain, read before the organisation is
    /// known (home-realm discovery at sign-in): on PostgreSQL a second, read-only policy lets
    /// every transaction see them, while pending claims stay their organisation's alone.
    static let domainClaims = Migration(version: 13, name: "domain_claims", tenantTables: ["domain_claims"]) { flavor in
        [
            """
            CREATE TABLE domain_claims (
                org_id TEXT NOT NULL, id TEXT NOT NULL, domain TEXT NOT NULL, unicode_domain TEXT NOT NULL,
                status TEXT NOT NULL, token TEXT NOT NULL, created_at BIGINT NOT NULL, verified_at BIGINT,
                verified_method TEXT, last_checked_at BIGINT, last_check_method TEXT, last_check_error TEXT,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, domain))
            """,
            "CREATE UNIQUE INDEX domain_claims_verified ON domain_claims (domain) WHERE status = 'verified'",
        ] + (flavor == .postgres ? [
            "CREATE POLICY verified_domains_directory ON domain_claims FOR SELECT USING (status = 'verified')",
        ] : [])
    }
}
