import Hummingbird
import RampartCore
import RampartStorage

/// Products registered as OAuth clients, in the console: the list with the form to register
/// one, each client's page (issuer, discovery address, redirect URIs, scopes), editing it,
/// rotating its secret and deleting it after a confirmation, and rotating the organisation's
/// token signing key. A new secret appears on the one response that made it, never again.
/// The same storage calls as `/api/v1/oauth-clients`.
struct ConsoleOAuthClientsController: ConsolePageController {
    let services: RampartServices

    static let fields = [
        ConsoleFormField(name: "name", label: "Name", apiName: "name", required: true),
        ConsoleFormField(name: "redirect_uris", label: "Redirect URIs (one a line; https, or http on localhost)",
                         apiName: "redirectUris", required: true, multiline: true),
        ConsoleFormField(name: "post_logout_redirect_uris", label: "Post-logout redirect URIs (one a line; optional)",
                         apiName: "postLogoutRedirectUris", multiline: true),
        ConsoleFormField(name: "scopes", label: "Scopes (separated by spaces; openid is always included)", apiName: "scopes"),
        ConsoleFormField(name: "backchannel_logout_uri", label: "Back-channel logout URI (optional; told when a person's session ends)",
                         apiName: "backchannelLogoutUri"),
        ConsoleFormField(name: "jwks", label: "Public JWKS for private_key_jwt (optional, confidential clients: a client with keys "
                         + "signs its token requests with them and has no secret; RSA or EC P-256 public keys only)",
                         apiName: "jwks", multiline: true),
    ]

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("oauth-clients", use: list)
        group.post("oauth-clients", use: create)
        group.get("oauth-clients/{id}", use: show)
        group.get("oauth-clients/{id}/edit", use: editForm)
        group.post("oauth-clients/{id}/edit", use: edit)
        group.get("oauth-clients/{id}/secret", use: confirmRotateSecret)
        group.post("oauth-clients/{id}/secret", use: rotateSecret)
        group.get("oauth-clients/{id}/delete", use: confirmDelete)
        group.post("oauth-clients/{id}/delete", use: delete)
        group.get("oauth-signing-key/rotate", use: confirmRotateSigningKey)
        group.post("oauth-signing-key/rotate", use: rotateSigningKey)
    }

    // MARK: - The list and registering

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let product = request.uri.queryParameters.get("product").flatMap(Identifier.canonical) ?? ""
        return try await listPage(request, context, form: ["scopes": OAuthClient.knownScopes.joined(separator: " "),
                                                           "product_id": product, "type": OAuthClientType.confidential.rawValue])
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, form: [String: String],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (clients, products, organization) = try await read(context, .readDirectory) { tenant in
            (try await tenant.oauthClients(), try await tenant.products(page: PageRequest(limit: 200)).items,
             try await tenant.organization())
        }
        let names = Dictionary(products.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let issuer = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        let productOptions = products.map { ["id": $0.id, "name": $0.name, "selected": form["product_id"] == $0.id] }
        let types = OAuthClientType.allCases.map { ["value": $0.rawValue, "selected": form["type"] == $0.rawValue] }
        return ConsoleRenderer.page("oauth-clients", ConsolePage.values(context, title: "OAuth clients", active: "oauth", extra: [
            "clients": clients.map { Self.values($0, productName: names[$0.productID]) }, "hasClients": !clients.isEmpty,
            "products": productOptions, "hasProducts": !products.isEmpty, "types": types,
            "thirdPartyChecked": form["third_party"] != nil, "issuer": issuer, "discoveryUrl": Self.discovery(issuer),
            "sessionRequiredChecked": form["backchannel_logout_session_required"] != nil,
            "signingAlgorithms": Self.signingAlgorithms(selected: form["id_token_signing_alg"]),
        ].merging(ConsoleFormField.values(Self.fields, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context, requiring: .manageOAuthClients)
        do {
            guard let productID = Identifier.canonical(form["product_id"]) else {
                throw RampartError.invalidField("productId", "choose the product this client signs people into")
            }
            guard let type = OAuthClientType(rawValue: form["type"]) else {
                throw RampartError.invalidField("type", "must be confidential or public")
            }
            let input = try Self.keySettings(form, into: Self.settings(form))
            let (client, secret) = try await write(request, context, .manageOAuthClients) {
                try await $0.createOAuthClient(productID: productID, name: input.name ?? "", type: type, authMethod: input.authMethod,
                                               firstParty: input.firstParty ?? true, redirectURIs: input.redirectURIs ?? [],
                                               postLogoutRedirectURIs: input.postLogoutRedirectURIs ?? [],
                                               scopes: input.scopes, backchannelLogoutURI: input.backchannelLogoutURI,
                                               backchannelLogoutSessionRequired: input.backchannelLogoutSessionRequired,
                                               jwks: input.jwks, idTokenSigningAlg: input.idTokenSigningAlg, by: $1)
            }
            return try await clientPage(request, context, id: client.id, secret: secret, created: true, status: .created)
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    /// What the forms set, as the storage layer takes it: lists typed one a line (redirect
    /// URIs) or separated by spaces (scopes), and the third-party box as the opposite of first party.
    static func settings(_ form: ConsoleForm) -> OAuthClientChanges {
        func lines(_ text: String) -> [String] {
            text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var changes = OAuthClientChanges(name: form["name"], firstParty: form.fields["third_party"] == nil,
                                  redirectURIs: lines(form["redirect_uris"]),
                                  postLogoutRedirectURIs: lines(form["post_logout_redirect_uris"]),
                                  scopes: form["scopes"].split(whereSeparator: \.isWhitespace).map(String.init))
        // An empty field removes the back-channel logout URI, as an emptied field does everywhere in the console.
        changes.backchannelLogoutURI = form["backchannel_logout_uri"].trimmingCharacters(in: .whitespaces)
        changes.backchannelLogoutSessionRequired = form.fields["backchannel_logout_session_required"] != nil
        return changes
    }

    /// The key settings of the forms: keys pasted in make the client `private_key_jwt`;
    /// emptying them on a `private_key_jwt` client turns it back to a secret (rotated next).
    static func keySettings(_ form: ConsoleForm, into changes: OAuthClientChanges, current: OAuthClient? = nil) throws
        -> OAuthClientChanges
    {
        var changes = changes
        let text = form["jwks"].trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty {
            if current?.authMethod == .privateKeyJWT { changes.authMethod = .clientSecretBasic }
        } else {
            guard let value = JSONValue.parse(text) else {
                throw RampartError.invalidField("jwks", "must be a JSON Web Key Set (a JSON object with a \"keys\" array)")
            }
            changes.jwks = try OAuthClientJWKS.parse(value, field: "jwks")
            changes.authMethod = .privateKeyJWT
        }
        // The select offers only known algorithms; anything else was not sent by it.
        let algorithm = form["id_token_signing_alg"]
        if !algorithm.isEmpty {
            guard let known = OAuthTokenSigningAlgorithm(rawValue: algorithm) else {
                throw RampartError.invalidField("idTokenSigningAlg", "must be one of "
                    + OAuthTokenSigningAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))
            }
            changes.idTokenSigningAlg = known
        }
        return changes
    }

    /// The choices of the token signing algorithm select.
    static func signingAlgorithms(selected: String?) -> [[String: Any]] {
        OAuthTokenSigningAlgorithm.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == (selected ?? "ES256")] }
    }

    // MARK: - One client

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await clientPage(request, context, id: try context.id(), secret: nil, created: false)
    }

    /// The client's page; right after it was registered or its secret rotated, with the secret.
    private func clientPage(_ request: Request, _ context: RampartRequestContext, id: String, secret: String?, created: Bool,
                            status: HTTPResponse.Status = .ok) async throws -> Response {
        let (client, product, organization, logout) = try await read(context, .readDirectory) { tenant in
            let client = try await tenant.requireOAuthClient(id)
            return (client, try await tenant.product(client.productID), try await tenant.organization(),
                    try await tenant.oauthBackchannelLogout(of: client.id))
        }
        let issuer = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        return ConsoleRenderer.page("oauth-client", ConsolePage.values(context, title: client.name, active: "oauth", extra: [
            "client": Self.values(client, productName: product?.name), "issuer": issuer, "discoveryUrl": Self.discovery(issuer),
            "tokenUrl": issuer + "/oauth/token", "secret": secret ?? "", "hasSecret": secret != nil, "created": created,
            "backchannelLogoutUri": logout?.uri ?? "", "backchannelLogoutSessionRequired": logout?.sessionRequired ?? false,
        ].merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func editForm(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (client, logout) = try await read(context, .manageOAuthClients) {
            (try await $0.requireOAuthClient(id), try await $0.oauthBackchannelLogout(of: id))
        }
        var typed = ["name": client.name, "redirect_uris": client.redirectURIs.joined(separator: "\n"),
                     "post_logout_redirect_uris": client.postLogoutRedirectURIs.joined(separator: "\n"),
                     "scopes": client.scopes.joined(separator: " ")]
        typed["jwks"] = client.jwks?.json ?? ""
        typed["id_token_signing_alg"] = client.idTokenSigningAlg.rawValue
        if !client.firstParty { typed["third_party"] = "on" }
        typed["backchannel_logout_uri"] = logout?.uri ?? ""
        if logout?.sessionRequired == true { typed["backchannel_logout_session_required"] = "on" }
        return editPage(context, client: client, form: typed)
    }

    private func editPage(_ context: RampartRequestContext, client: OAuthClient, form: [String: String],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) -> Response {
        ConsoleRenderer.page("oauth-client-edit", ConsolePage.values(context, title: "Edit \(client.name)", active: "oauth", extra: [
            "id": client.id, "name": client.name, "thirdPartyChecked": form["third_party"] != nil,
            "sessionRequiredChecked": form["backchannel_logout_session_required"] != nil,
            "signingAlgorithms": Self.signingAlgorithms(selected: form["id_token_signing_alg"]),
        ].merging(ConsoleFormField.values(Self.fields, typed: form, error: error)) { $1 }), status: status)
    }

    @Sendable func edit(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context, requiring: .manageOAuthClients)
        do {
            _ = try await write(request, context, .manageOAuthClients) { tenant, audit in
                let changes = try Self.keySettings(form, into: Self.settings(form), current: try await tenant.requireOAuthClient(id))
                return try await tenant.updateOAuthClient(id, changes, by: audit)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.updated.after("/console/oauth-clients/\(id)"))
        } catch let error as RampartError where isFormError(error) {
            let client = try await read(context, .manageOAuthClients) { try await $0.requireOAuthClient(id) }
            return editPage(context, client: client, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func confirmRotateSecret(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let client = try await read(context, .manageOAuthClients) { try await $0.requireOAuthClient(id) }
        return ConsoleConfirmation(
            question: "Rotate the secret of \(client.name)?",
            consequence: "A new secret is shown once on the next page. The current one keeps working for one more day, "
                + "so every node of the product can move to the new one; the secret before it stops working now.",
            action: "/console/oauth-clients/\(client.id)/secret", button: "Rotate secret", cancel: "/console/oauth-clients/\(client.id)"
        ).page(context, active: "oauth")
    }

    @Sendable func rotateSecret(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context, requiring: .manageOAuthClients)
        let (_, secret) = try await write(request, context, .manageOAuthClients) {
            try await $0.rotateOAuthClientSecret(id, overlapSeconds: OAuthClientRules.defaultSecretOverlapSeconds, by: $1)
        }
        return try await clientPage(request, context, id: id, secret: secret, created: false)
    }

    @Sendable func confirmDelete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let client = try await read(context, .manageOAuthClients) { try await $0.requireOAuthClient(id) }
        return ConsoleConfirmation(
            question: "Delete the OAuth client \(client.name)?",
            consequence: "Its secret stops working and every token and sign-in it was given is revoked: nobody can sign "
                + "into the product through Rampart until it is registered again, with a new client id.",
            action: "/console/oauth-clients/\(client.id)/delete", button: "Delete", cancel: "/console/oauth-clients/\(client.id)"
        ).page(context, active: "oauth")
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context, requiring: .manageOAuthClients)
        try await write(request, context, .manageOAuthClients) { try await $0.deleteOAuthClient(id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.deleted.after("/console/oauth-clients"))
    }

    // MARK: - The signing key

    @Sendable func confirmRotateSigningKey(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try context.requirePrincipal().require(.manageOAuthClients)
        return ConsoleConfirmation(
            question: "Rotate the token signing key?",
            consequence: "A new key signs ID tokens and access tokens from now on. The current key stays in the JWKS for a day, "
                + "so tokens it signed keep verifying until they expire.",
            action: "/console/oauth-signing-key/rotate", button: "Rotate signing key", cancel: "/console/oauth-clients"
        ).page(context, active: "oauth")
    }

    @Sendable func rotateSigningKey(_ request: Request, context: RampartRequestContext) async throws -> Response {
        _ = try await form(request, context, requiring: .manageOAuthClients)
        let keys = services.keys
        let orgID = try await write(request, context, .manageOAuthClients) { tenant, audit in
            _ = try await tenant.rotateOAuthSigningKey(keys: keys, by: audit)
            return tenant.orgID
        }
        try await services.oidcKeyring.load(orgID: orgID)
        return ConsoleRenderer.redirect(ConsoleNotice.signingKeyRotated.after("/console/oauth-clients"))
    }

    // MARK: - Values

    static func discovery(_ issuer: String) -> String { issuer + "/.well-known/openid-configuration" }

    static func values(_ client: OAuthClient, productName: String?) -> [String: Any] {
        ["id": client.id, "name": client.name, "type": client.type.rawValue, "authMethod": client.authMethod.rawValue,
         "confidential": client.type == .confidential, "consent": client.firstParty ? "no" : "yes",
         "thirdParty": !client.firstParty, "productId": client.productID, "productName": productName ?? client.productID,
         "redirectUris": client.redirectURIs, "postLogoutRedirectUris": client.postLogoutRedirectURIs,
         "hasPostLogoutRedirectUris": !client.postLogoutRedirectURIs.isEmpty, "scopes": client.scopes.joined(separator: " "),
         "createdAt": ConsolePage.time(client.createdAt),
         "previousSecretExpiresAt": client.previousSecretExpiresAt.map { ConsolePage.time($0) } ?? "no previous secret",
         "usesSecret": client.type == .confidential && client.authMethod != .privateKeyJWT,
         "idTokenSigningAlg": client.idTokenSigningAlg.rawValue, "keyCount": client.jwks?.keys.count ?? 0]
    }
}
