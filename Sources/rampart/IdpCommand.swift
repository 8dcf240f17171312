import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

/// `rampart idp …`: the organisation's identity providers, as `/api/v1/identity-providers`.
struct IdpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idp", abstract: "Add, change and list the organisation's identity providers (SSO).",
        subcommands: [List.self, Create.self, Show.self, Update.self, Delete.self])

    /// The settings every command that writes a provider takes; each left out stays as it is.
    struct Settings: ParsableArguments {
        @Option(help: "Display name, e.g. \"Okta\".") var name: String?
        @Option(name: .customLong("domain"), help: "A verified domain whose people sign in here (repeat; replaces the list).")
        var domains: [String] = []
        @Option(help: "true or false: whether people can sign in with it.") var enabled: Bool?
        @Option(help: "true or false: create accounts at first sign-in (just-in-time provisioning).") var jit: Bool?
        @Option(help: "How the groups claim finds groups: name or external_id.") var groupMatch: String?
        @Option(name: .customLong("attribute"), help: "key=claim, key one of email, givenName, familyName, displayName, groups (repeat).")
        var attributes: [String] = []
        @Option(help: "true or false: accept the provider's MFA for MFA-required policies.") var trustIdpMfa: Bool?
        @Option(help: "OIDC: the issuer URL.") var issuer: String?
        @Option(help: "OIDC: the client id Rampart has at the provider.") var clientId: String?
        @Flag(help: "OIDC: read the client secret from standard input (one line).") var clientSecretStdin = false
        @Option(name: .customLong("scope"), help: "OIDC: a scope to request (repeat; replaces the list).") var scopes: [String] = []
        @Option(name: .customLong("allowed-tenant"), help: "Entra: a tenant id allowed to sign in (repeat).") var allowedTenants: [String] = []
        @Option(help: "Google: the Workspace domain every sign-in must carry.") var hostedDomain: String?
        @Option(help: "SAML: the IdP's entity id.") var idpEntityId: String?
        @Option(help: "SAML: the IdP's single sign-on URL.") var ssoUrl: String?
        @Option(name: .customLong("certificate-file"), help: "SAML: a PEM file with the IdP's signing certificate (repeat, two at most).")
        var certificateFiles: [String] = []
        @Option(help: "SAML: true or false: require a signed assertion (default true).") var requireSignedAssertion: Bool?
        @Option(help: "SAML: true or false: accept IdP-initiated sign-in (default false).") var allowIdpInitiated: Bool?
        @Option(help: "SAML: a file with the IdP's metadata XML; sets the entity id, SSO URL and certificates (options given beside it win).")
        var metadataFile: String?
        @Option(help: "SAML: the address of the IdP's metadata document, read the same way.") var metadataUrl: String?
        @Option(name: .customLong("mfa-authn-context"),
                help: "SAML: an AuthnContextClassRef that means the IdP did MFA (repeat; replaces the list).")
        var mfaAuthnContexts: [String] = []
        @Option(help: "The address the server is reached at, as given to `rampart serve`; the URLs shown are built from it.")
        var publicURL = "http://localhost:8080"

        func input(preset: IdentityProviderPreset? = nil) async throws -> IdentityProviderInput {
            var input = IdentityProviderInput()
            input.preset = preset; input.name = name; input.enabled = enabled; input.jit = jit; input.trustIdpMfa = trustIdpMfa
            if !domains.isEmpty { input.domains = domains }
            if let groupMatch {
                guard let match = GroupMatch(rawValue: groupMatch) else {
                    throw RampartError(.invalidParameter, "--group-match must be name or external_id.")
                }
                input.groupMatch = match
            }
            if !attributes.isEmpty {
                var mapping: [String: String] = [:]
                for pair in attributes {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw RampartError(.invalidParameter, "--attribute takes key=claim, e.g. groups=roles.") }
                    mapping[parts[0]] = parts[1]
                }
                input.attributes = mapping
            }
            input.issuer = issuer; input.clientId = clientId; input.hostedDomain = hostedDomain
            if clientSecretStdin { input.clientSecret = readLine(strippingNewline: true) ?? "" }
            if !scopes.isEmpty { input.scopes = scopes }
            if !allowedTenants.isEmpty { input.allowedTenants = allowedTenants }
            input.idpEntityId = idpEntityId; input.ssoUrl = ssoUrl
            input.requireSignedAssertion = requireSignedAssertion; input.allowIdpInitiated = allowIdpInitiated
            if !certificateFiles.isEmpty {
                input.signingCertificates = try certificateFiles.map { path in
                    guard let data = FileManager.default.contents(atPath: path), data.count <= 16 * 1024 else {
                        throw RampartError.invalidField("signingCertificates", "must be a readable PEM file of at most 16 KiB (\(path))")
                    }
                    return String(decoding: data, as: UTF8.self)
                }
            }
            if !mfaAuthnContexts.isEmpty { input.mfaAuthnContexts = mfaAuthnContexts }
            var metadataXML: String?
            if let metadataFile {
                guard let data = FileManager.default.contents(atPath: metadataFile), data.count <= SAMLMetadataImport.bodyLimit else {
                    throw RampartError.invalidField("metadataXml", "must be a readable XML file of at most 1 MiB (\(metadataFile))")
                }
                metadataXML = String(decoding: data, as: UTF8.self)
            }
            try await SAMLMetadataImport.apply(xml: metadataXML, url: metadataUrl, to: &input)
            return input
        }
    }

    static func describe(_ body: IdentityProviderBody) -> String {
        var lines = ["\(body.name) (\(body.id)): \(body.preset.rawValue), \(body.enabled ? "enabled" : "disabled"), JIT \(body.jit ? "on" : "off")",
                     "Domains: \(body.domains.isEmpty ? "none (no home-realm discovery)" : body.domains.joined(separator: ", "))"]
        if let redirectUri = body.redirectUri { lines.append("Redirect URI (paste into the provider): \(redirectUri)") }
        if let acs = body.acsUrl, let entity = body.spEntityId {
            lines.append("SP entity id: \(entity)")
            lines.append("ACS URL: \(acs)")
            if let metadata = body.metadataUrl { lines.append("SP metadata URL: \(metadata)") }
        }
        lines.append("Sign-in URL: \(body.signInUrl)")
        for failure in body.recentFailures ?? [] { lines.append("Failed \(failure.occurredAt.rfc3339): \(failure.reason)") }
        return lines.joined(separator: "\n")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the organisation's identity providers.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "The address the server is reached at.") var publicURL = "http://localhost:8080"

        func run() async throws {
            try await runReportingErrors {
                let (providers, organization) = try await tenant.read { (try await $0.identityProviders(), try await $0.organization()) }
                let bodies = providers.map { IdentityProviderBody($0, organization, publicURL) }
                try tenant.output(["data": bodies]) {
                    table(providers.map { [$0.id, $0.preset.rawValue, $0.enabled ? "enabled" : "disabled", $0.domains.joined(separator: " "), $0.name] },
                          empty: "No identity providers.")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an identity provider; prints what to paste into it.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "okta, entra, google, saml or oidc.") var preset: String
        @OptionGroup var settings: Settings

        func run() async throws {
            try await runReportingErrors {
                guard let preset = IdentityProviderPreset(rawValue: preset) else {
                    throw RampartError(.invalidParameter, "--preset must be okta, entra, google, saml or oidc.")
                }
                let input = try await settings.input(preset: preset)
                let (provider, organization) = try await tenant.write(withKeys: { tenant, keys in
                    (try await tenant.createIdentityProvider(input, keys: keys, by: .system), try await tenant.organization())
                })
                let body = IdentityProviderBody(provider, organization, settings.publicURL)
                try tenant.output(body) { "Added " + IdpCommand.describe(body) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a provider, what to paste into it, and its last failed sign-ins.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Identity provider id.") var id: String
        @Option(help: "The address the server is reached at.") var publicURL = "http://localhost:8080"

        func run() async throws {
            try await runReportingErrors {
                let id = self.id
                let (provider, organization, failures) = try await tenant.read { tenant in
                    let provider = try await tenant.requireIdentityProvider(id)
                    return (provider, try await tenant.organization(), try await tenant.recentSSOFailures(providerID: provider.id))
                }
                var body = IdentityProviderBody(provider, organization, publicURL)
                body.recentFailures = failures
                try tenant.output(body) { IdpCommand.describe(body) }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a provider's settings; those not given stay as they are.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Identity provider id.") var id: String
        @OptionGroup var settings: Settings

        func run() async throws {
            try await runReportingErrors {
                let (id, input) = (self.id, try await settings.input())
                let (provider, organization) = try await tenant.write(withKeys: { tenant, keys in
                    (try await tenant.updateIdentityProvider(id, input, keys: keys, by: .system), try await tenant.organization())
                })
                let body = IdentityProviderBody(provider, organization, settings.publicURL)
                try tenant.output(body) { "Updated " + IdpCommand.describe(body) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a provider; its links to accounts go, the accounts stay.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Identity provider id.") var id: String

        func run() async throws {
            try await runReportingErrors {
                let id = self.id
                let deleted = try await tenant.write { try await $0.deleteIdentityProvider(id, by: .system) }
                try tenant.output(["id": deleted.id, "name": deleted.name]) { "Deleted the identity provider \(deleted.name) (\(deleted.id))." }
            }
        }
    }
}
