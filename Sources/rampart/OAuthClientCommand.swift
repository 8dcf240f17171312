import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

struct OAuthClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth-client",
        abstract: "Let products sign people in through Rampart: register, change, rotate and remove OAuth clients.",
        subcommands: [List.self, Show.self, Create.self, Update.self, RotateSecret.self, Delete.self, RotateSigningKey.self])

    static func describe(_ body: OAuthClientBody) -> String {
        let c = body.client
        var lines = ["\(c.name) (client id \(c.id)): \(c.type.rawValue), \(c.authMethod.rawValue)\(c.firstParty ? "" : ", third party (asks for consent)")",
                     "  product: \(c.productID)",
                     "  redirect URIs: \(c.redirectURIs.joined(separator: " "))",
                     "  scopes: \(c.scopes.joined(separator: " "))",
                     "  issuer: \(body.issuer)",
                     "  discovery: \(body.issuer)/.well-known/openid-configuration"]
        if !c.postLogoutRedirectURIs.isEmpty { lines.append("  post-logout redirect URIs: \(c.postLogoutRedirectURIs.joined(separator: " "))") }
        if let logout = body.backchannelLogout {
            lines.append("  back-channel logout URI: \(logout.uri)\(logout.sessionRequired ? " (needs sid)" : "")")
        }
        if let until = c.previousSecretExpiresAt { lines.append("  previous secret works until: \(until.rfc3339)") }
        lines.append("  token signing algorithm: \(c.idTokenSigningAlg.rawValue)")
        if let jwks = c.jwks { lines.append("  registered keys: \(jwks.keys.map { $0.kid ?? $0.kty }.joined(separator: " "))") }
        if let secret = body.secret {
            lines += ["  client secret: \(secret)", "This is the only time the secret is shown; Rampart keeps only its hash."]
        }
        return lines.joined(separator: "\n")
    }

    struct ClientOption: ParsableArguments {
        @Option(help: "The client's id or its name.") var client: String

        func id(in tenant: Tenant) async throws -> String {
            if let id = Identifier.canonical(client) { return id }
            guard let found = try await tenant.oauthClients().first(where: { $0.name.lowercased() == client.lowercased() }) else {
                throw RampartError(.notFound, "No OAuth client '\(client)'; `rampart oauth-client list` shows them.")
            }
            return found.id
        }
    }

    /// `--jwks-file` and `--id-token-signing-alg`, for create and update.
    struct KeyOptions: ParsableArguments {
        @Option(name: .customLong("jwks-file"),
                help: "A JSON file with the client's public JWKS (RSA or EC P-256 keys), for --auth-method private_key_jwt.")
        var jwksFile: String?
        @Option(name: .customLong("id-token-signing-alg"), help: "ES256 (default) or RS256: how its ID and access tokens are signed.")
        var idTokenSigningAlg: OAuthTokenSigningAlgorithm?

        func jwks() throws -> OAuthClientJWKS? {
            guard let jwksFile else { return nil }
            guard let data = FileManager.default.contents(atPath: jwksFile), data.count <= 64 * 1024,
                  let value = JSONValue.parse(String(decoding: data, as: UTF8.self)) else {
                throw RampartError.invalidField("jwks", "must be a readable JSON file of at most 64 KiB (\(jwksFile))")
            }
            return try OAuthClientJWKS.parse(value, field: "jwks")
        }
    }

    struct IssuerOption: ParsableArguments {
        @Option(help: "The address the server is reached at, as given to `rampart serve`; the issuer is built from it.")
        var publicURL = "http://localhost:8080"

        func body(_ client: OAuthClient, slug: String, secret: String? = nil) -> OAuthClientBody {
            OAuthClientBody(client, issuer: OIDCIssuer.url(slug: slug, publicURL: publicURL), secret: secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the organisation's OAuth clients.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var issuer: IssuerOption

        func run() async throws {
            try await runReportingErrors {
                let (clients, slug) = try await tenant.read { (try await $0.oauthClients(), try await $0.organization().slug) }
                let bodies = clients.map { issuer.body($0, slug: slug) }
                try tenant.output(["data": bodies]) {
                    table([["CLIENT ID", "TYPE", "CONSENT", "REDIRECT URIS", "NAME"]] + clients.map { c in
                        [c.id, c.type.rawValue, c.firstParty ? "no" : "yes", c.redirectURIs.joined(separator: " "), c.name]
                    }, empty: "No OAuth clients.")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an OAuth client and what its product needs to be configured with.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var client: ClientOption
        @OptionGroup var issuer: IssuerOption

        func run() async throws {
            try await runReportingErrors {
                let client = self.client
                let (found, slug, logout) = try await tenant.read { tenant in
                    let found = try await tenant.requireOAuthClient(try await client.id(in: tenant))
                    return (found, try await tenant.organization().slug, try await tenant.oauthBackchannelLogout(of: found.id))
                }
                let body = issuer.body(found, slug: slug).with(logout)
                try tenant.output(body) { OAuthClientCommand.describe(body) }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a product as an OAuth client; a confidential client's secret is printed once.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "The product (id or name) whose sign-in this is; people need access to it.") var product: String
        @Option(help: "A name for the client (default: the product's).") var name: String?
        @Option(name: .customLong("redirect-uri"), help: "An exact redirect URI (repeat for more).") var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "Where the product may send people after sign-out (repeat).")
        var postLogoutRedirectURIs: [String] = []
        @Option(name: .customLong("scope"), help: "A scope the client may ask for (repeat; default: openid profile email groups offline_access).")
        var scopes: [String] = []
        @Option(help: "confidential (a server holds a secret) or public (a browser or mobile app).") var type: OAuthClientType = .confidential
        @Option(name: [.customLong("token-endpoint-auth-method"), .customLong("auth-method")],
                help: "client_secret_basic (default for confidential), client_secret_post, private_key_jwt (with --jwks-file) or none.")
        var tokenEndpointAuthMethod: OAuthClientAuthMethod?
        @Flag(help: "A third party's application: people are asked to consent.") var thirdParty = false
        @Option(help: "Where Rampart POSTs a logout token when a person's session ends (back-channel logout).")
        var backchannelLogoutUri: String?
        @Flag(help: "The product needs the sid claim in logout tokens.") var backchannelLogoutSessionRequired = false
        @OptionGroup var keys: KeyOptions
        @OptionGroup var issuer: IssuerOption

        func run() async throws {
            try await runReportingErrors {
                let command = self
                let jwks = try keys.jwks()
                let (client, secret, slug, logout) = try await tenant.write { tenant in
                    let product = try await tenant.findProduct(command.product)
                    let (client, secret) = try await tenant.createOAuthClient(
                        productID: product.id, name: command.name ?? product.name, type: command.type,
                        authMethod: command.tokenEndpointAuthMethod, firstParty: !command.thirdParty,
                        redirectURIs: command.redirectURIs, postLogoutRedirectURIs: command.postLogoutRedirectURIs,
                        scopes: command.scopes.isEmpty ? nil : command.scopes,
                        backchannelLogoutURI: command.backchannelLogoutUri,
                        backchannelLogoutSessionRequired: command.backchannelLogoutSessionRequired, jwks: jwks,
                        idTokenSigningAlg: command.keys.idTokenSigningAlg, by: .system)
                    return (client, secret, try await tenant.organization().slug, try await tenant.oauthBackchannelLogout(of: client.id))
                }
                let body = issuer.body(client, slug: slug, secret: secret).with(logout)
                try tenant.output(body) { "Created OAuth client " + OAuthClientCommand.describe(body) }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an OAuth client's name, redirect URIs, scopes or consent; a list given replaces the old one.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var client: ClientOption
        @Option(help: "A new name.") var name: String?
        @Option(name: .customLong("redirect-uri"), help: "The redirect URIs (repeat); replaces the list.") var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "The post-logout redirect URIs (repeat); replaces the list.")
        var postLogoutRedirectURIs: [String] = []
        @Option(name: .customLong("scope"), help: "The allowed scopes (repeat); replaces the list.") var scopes: [String] = []
        @Option(help: "yes: people are asked to consent (a third party's application); no: they are not.") var consent: YesNo?
        @Option(help: "Where Rampart POSTs logout tokens (back-channel logout); an empty value removes it.")
        var backchannelLogoutUri: String?
        @Option(help: "yes: the product needs the sid claim in logout tokens; no: it does not.")
        var backchannelLogoutSessionRequired: YesNo?
        @Option(name: .customLong("auth-method"),
                help: "A confidential client's method: private_key_jwt (with --jwks-file; its secret ends) or a secret method.")
        var authMethod: OAuthClientAuthMethod?
        @OptionGroup var keys: KeyOptions
        @OptionGroup var issuer: IssuerOption

        func run() async throws {
            try await runReportingErrors {
                let command = self
                var changes = OAuthClientChanges(
                    name: name, firstParty: consent.map { $0 == .no }, redirectURIs: redirectURIs.isEmpty ? nil : redirectURIs,
                    postLogoutRedirectURIs: postLogoutRedirectURIs.isEmpty ? nil : postLogoutRedirectURIs,
                    scopes: scopes.isEmpty ? nil : scopes)
                changes.backchannelLogoutURI = backchannelLogoutUri
                changes.backchannelLogoutSessionRequired = backchannelLogoutSessionRequired.map { $0 == .yes }
                changes.authMethod = authMethod
                changes.jwks = try keys.jwks()
                changes.idTokenSigningAlg = keys.idTokenSigningAlg
                let (client, slug, logout) = try await tenant.write { [changes] tenant in
                    let client = try await tenant.updateOAuthClient(try await command.client.id(in: tenant), changes, by: .system)
                    return (client, try await tenant.organization().slug, try await tenant.oauthBackchannelLogout(of: client.id))
                }
                let body = issuer.body(client, slug: slug).with(logout)
                try tenant.output(body) { "Updated OAuth client " + OAuthClientCommand.describe(body) }
            }
        }
    }

    enum YesNo: String, ExpressibleByArgument { case yes, no }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a confidential client a new secret, printed once; the old one keeps working for the overlap.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var client: ClientOption
        @Option(help: "Seconds the previous secret keeps working (0 ends it now, after a leak).") var overlapSeconds = OAuthClientRules.defaultSecretOverlapSeconds
        @OptionGroup var issuer: IssuerOption

        func run() async throws {
            try await runReportingErrors {
                let command = self
                let (client, secret, slug) = try await tenant.write { tenant in
                    let (client, secret) = try await tenant.rotateOAuthClientSecret(
                        try await command.client.id(in: tenant), overlapSeconds: command.overlapSeconds, by: .system)
                    return (client, secret, try await tenant.organization().slug)
                }
                let body = issuer.body(client, slug: slug, secret: secret)
                try tenant.output(body) { "Rotated the secret of OAuth client " + OAuthClientCommand.describe(body) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an OAuth client; every token and grant it holds stops working.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var client: ClientOption

        func run() async throws {
            try await runReportingErrors {
                let client = self.client
                let deleted = try await tenant.write { tenant in
                    let found = try await tenant.requireOAuthClient(try await client.id(in: tenant))
                    try await tenant.deleteOAuthClient(found.id, by: .system)
                    return found
                }
                try tenant.output(["id": deleted.id, "deleted": "true"]) { "Deleted OAuth client \(deleted.name) (\(deleted.id))." }
            }
        }
    }

    struct RotateSigningKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign tokens with a new key from now on; the old key stays published for a day.",
            discussion: "Running servers use the new key within a minute.")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let kid = try await tenant.write(withKeys: { try await $0.rotateOAuthSigningKey(keys: $1, by: .system).kid })
                try tenant.output(["kid": kid]) { "Tokens are now signed with key \(kid)." }
            }
        }
    }
}

extension OAuthClientType: ExpressibleByArgument {}
extension OAuthClientAuthMethod: ExpressibleByArgument {}
extension OAuthTokenSigningAlgorithm: ExpressibleByArgument {}
