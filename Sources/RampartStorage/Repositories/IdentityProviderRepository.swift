import Foundation
import RampartCore
import SQLKit

/// The organisation's identity providers. Settings are JSON in one column; the OIDC client
/// secret is sealed with the organisation's key in its own column and only read by the sign-in.
extension Tenant {
    public func identityProviders() async throws -> [IdentityProvider] {
        try await rows("SELECT \(Self.providerColumns) FROM identity_providers WHERE org_id = ?1 ORDER BY name, id", [orgID],
                       Self.decodeProvider)
    }

    public func identityProvider(_ id: String) async throws -> IdentityProvider? {
        guard let id = Identifier.canonical(id) else { return nil }
        return try await row("SELECT \(Self.providerColumns) FROM identity_providers WHERE org_id = ?1 AND id = ?2", [orgID, id],
                             Self.decodeProvider)
    }

    public func requireIdentityProvider(_ id: String) async throws -> IdentityProvider {
        guard let provider = try await identityProvider(id) else { throw RampartError.notFound("Identity provider") }
        return provider
    }

    /// The enabled provider that home-realm discovery sends an email's domain to, if any:
    /// only while the organisation still holds the domain verified.
    public func identityProvider(forEmail email: String) async throws -> IdentityProvider? {
        guard let domain = DomainName.ofEmail(email), try await isManaged(email: email) else { return nil }
        return try await identityProviders().first { $0.enabled && $0.domains.contains(domain) }
    }

    /// Whether "SSO required" can be enforced: only once there is somewhere else to sign in.
    public func hasEnabledIdentityProvider() async throws -> Bool {
        try await row("SELECT id FROM identity_providers WHERE org_id = ?1 AND enabled = 1", [orgID], { try $0.text(0) }) != nil
    }

    public func createIdentityProvider(_ input: IdentityProviderInput, keys: KeyService, by context: AuditContext) async throws
        -> IdentityProvider
    {
        let now = clock()
        let provider = try input.created(id: Identifier.make(), at: now)
        try await checkRouting(provider)
        let sealed = try await sealedSecret(input.clientSecret, providerID: provider.id, keys: keys)
        try await sql.raw("""
            INSERT INTO identity_providers (org_id, id, kind, preset, name, domains, enabled, jit, group_match, attributes,
                trust_idp_mfa, settings, client_secret, created_at, updated_at)
            VALUES (\(bind: orgID), \(bind: provider.id), \(bind: provider.kind.rawValue), \(bind: provider.preset.rawValue),
                \(bind: provider.name), \(bind: Self.json(provider.domains)), \(bind: provider.enabled ? 1 : 0),
                \(bind: provider.jit ? 1 : 0), \(bind: provider.groupMatch.rawValue), \(bind: Self.json(provider.attributes)),
                \(bind: provider.trustIdpMfa ? 1 : 0), \(bind: Self.settingsJSON(provider)), \(bind: sealed),
                \(bind: now.microseconds), \(bind: now.microseconds))
            """).run()
        // The SP key pair exists from the start, so the SP metadata can be handed to the IdP at once.
        if provider.kind == .saml { _ = try await ensureSAMLServiceProviderKey(providerID: provider.id, keys: keys) }
        try await appendAudit([context.record(.identityProviderCreated, [.identityProvider(provider)],
                                              details: Self.auditDetails(provider), at: now)])
        return provider
    }

    public func updateIdentityProvider(_ id: String, _ input: IdentityProviderInput, keys: KeyService,
                                       by context: AuditContext) async throws -> IdentityProvider {
        let before = try await requireIdentityProvider(id)
        var provider = before
        try input.apply(to: &provider)
        try await checkRouting(provider)
        let now = clock()
        provider.updatedAt = now
        try await sql.raw("""
            UPDATE identity_providers SET name = \(bind: provider.name), domains = \(bind: Self.json(provider.domains)),
                enabled = \(bind: provider.enabled ? 1 : 0), jit = \(bind: provider.jit ? 1 : 0),
                group_match = \(bind: provider.groupMatch.rawValue), attributes = \(bind: Self.json(provider.attributes)),
                trust_idp_mfa = \(bind: provider.trustIdpMfa ? 1 : 0), settings = \(bind: Self.settingsJSON(provider)),
                updated_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: provider.id)
            """).run()
        if input.clientSecret != nil {
            let sealed = try await sealedSecret(input.clientSecret, providerID: provider.id, keys: keys)
            try await sql.raw("""
                UPDATE identity_providers SET client_secret = \(bind: sealed)
                WHERE org_id = \(bind: orgID) AND id = \(bind: provider.id)
                """).run()
        }
        var details = AuditDetails()
        let (old, new) = (Self.auditDetails(before), Self.auditDetails(provider))
        for key in Set(old.fields.keys).union(new.fields.keys).sorted() where old[key] != new[key] {
            details.change(key, from: old[key] ?? .null, to: new[key] ?? .null)
        }
        if input.clientSecret != nil { details["clientSecretChanged"] = .bool(true) }
        try await appendAudit([context.record(.identityProviderUpdated, [.identityProvider(provider)], details: details, at: now)])
        return provider
    }

    /// Deleting a provider ends its links and pending sign-ins; the accounts it created stay.
    public func deleteIdentityProvider(_ id: String, by context: AuditContext) async throws -> IdentityProvider {
        let provider = try await requireIdentityProvider(id)
        for table in ["external_identities", "sso_signin_attempts", "sso_assertion_ids", "saml_sp_keys"] {
            try await sql.raw(SQLQueryString("DELETE FROM \(ident: table) WHERE org_id = ") + "\(bind: orgID)"
                + " AND provider_id = " + "\(bind: provider.id)").run()
        }
        try await sql.raw("DELETE FROM identity_providers WHERE org_id = \(bind: orgID) AND id = \(bind: provider.id)").run()
        try await appendAudit([context.record(.identityProviderDeleted, [.identityProvider(provider)])])
        return provider
    }

    /// The OIDC client secret in clear, for the token request only.
    public func identityProviderClientSecret(_ id: String, keys: KeyService) async throws -> String? {
        guard let sealed = try await row("SELECT client_secret FROM identity_providers WHERE org_id = ?1 AND id = ?2",
                                         [orgID, id], { try $0.optionalText(0) }) ?? nil else { return nil }
        let clear = try await keys.open(sealed, in: self, table: "identity_providers", row: id, column: "client_secret")
        return String(decoding: clear, as: UTF8.self)
    }

    /// A provider may only route domains this organisation verified, and one domain goes to one provider.
    private func checkRouting(_ provider: IdentityProvider) async throws {
        guard !provider.domains.isEmpty else { return }
        let verified = Set(try await domainClaims().filter { $0.status == .verified }.flatMap { [$0.domain, $0.unicodeDomain] })
        if let unverified = provider.domains.first(where: { !verified.contains($0) }) {
            throw RampartError(.invalidField, "Field 'domains' names \(unverified), which is not a verified domain of this organisation; verify it first (/api/v1/domains).",
                               field: "domains")
        }
        for other in try await identityProviders() where other.id != provider.id {
            if let shared = provider.domains.first(where: other.domains.contains) {
                throw RampartError(.conflict, "The domain \(shared) already routes to the identity provider '\(other.name)'; a domain routes to one provider.",
                                   field: "domains")
            }
        }
    }

    private func sealedSecret(_ secret: String?, providerID: String, keys: KeyService) async throws -> String? {
        guard let secret, !secret.isEmpty else { return nil }
        return try await keys.seal(Data(secret.utf8), in: self, table: "identity_providers", row: providerID, column: "client_secret")
    }

    /// What the audit log keeps of a provider's settings: no secret, no certificate body (its fingerprint).
    static func auditDetails(_ p: IdentityProvider) -> AuditDetails {
        var details = AuditDetails([
            "name": .string(p.name), "preset": .string(p.preset.rawValue), "enabled": .bool(p.enabled), "jit": .bool(p.jit),
            "domains": .array(p.domains.map { .string($0) }), "groupMatch": .string(p.groupMatch.rawValue),
            "trustIdpMfa": .bool(p.trustIdpMfa),
        ])
        if let oidc = p.oidc {
            details["issuer"] = .string(oidc.issuer)
            details["clientId"] = .string(oidc.clientId)
        }
        if let saml = p.saml {
            details["idpEntityId"] = .string(saml.idpEntityId)
            details["ssoUrl"] = .string(saml.ssoUrl)
            details["signingCertificates"] = .array(saml.signingCertificates.map { .string(CertificateFingerprint.sha256($0) ?? "?") })
            details["requireSignedAssertion"] = .bool(saml.requireSignedAssertion)
            details["allowIdpInitiated"] = .bool(saml.allowIdpInitiated)
            details["mfaAuthnContexts"] = .array(saml.mfaAuthnContexts.map { .string($0) })
        }
        return details
    }

    private struct StoredSettings: Codable {
        var oidc: OIDCProviderSettings?
        var saml: SAMLProviderSettings?
    }

    private static func settingsJSON(_ p: IdentityProvider) -> String { json(StoredSettings(oidc: p.oidc, saml: p.saml)) }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    static let providerColumns = """
        id, kind, preset, name, domains, enabled, jit, group_match, attributes, trust_idp_mfa, settings, created_at, updated_at, \
        CASE WHEN client_secret IS NULL THEN 0 ELSE 1 END
        """

    static func decodeProvider(_ row: any ColumnReader) throws -> IdentityProvider {
        let decoder = JSONDecoder()
        let preset = IdentityProviderPreset(rawValue: try row.text(2)) ?? .oidc
        var settings = try decoder.decode(StoredSettings.self, from: Data(try row.text(10).utf8))
        settings.oidc?.hasClientSecret = try row.integer(13) != 0
        return IdentityProvider(
            id: try row.text(0), kind: IdentityProviderKind(rawValue: try row.text(1)) ?? preset.kind, preset: preset,
            name: try row.text(3), domains: try decoder.decode([String].self, from: Data(try row.text(4).utf8)),
            enabled: try row.integer(5) != 0, jit: try row.integer(6) != 0,
            groupMatch: GroupMatch(rawValue: try row.text(7)) ?? .name,
            attributes: try decoder.decode(AttributeMapping.self, from: Data(try row.text(8).utf8)),
            trustIdpMfa: try row.integer(9) != 0, oidc: settings.oidc, saml: settings.saml,
            createdAt: try row.timestamp(11), updatedAt: try row.timestamp(12))
    }
}
