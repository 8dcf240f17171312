extension Migration {
    /// The SAML service provider's key pair for each SAML identity provider: the certificate its
    /// metadata publishes (for signing and for encrypting assertions to Rampart) in clear, the
    /// private key sealed with the organisation's data key (bound to its row and column). One per
    /// provider, so that removing a provider retires its key and no two providers share one.
    static let samlServiceProviderKeys = Migration(
        version: 17, name: "saml_service_provider_keys", tenantTables: ["saml_sp_keys"]
    ) { _ in
        [
            """
            CREATE TABLE saml_sp_keys (
                org_id TEXT NOT NULL, provider_id TEXT NOT NULL, certificate TEXT NOT NULL, private_key TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, provider_id))
            """,
        ]
    }
}
