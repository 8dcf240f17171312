import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import RampartCore
import RampartStorage

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at `/o/{slug}/oauth/logout`:
/// a product sends the person here to end their Rampart session too. With an `id_token_hint`
/// naming the signed-in person the session ends at once; without one, the person confirms,
/// so that another site cannot sign people out with a link. The way back is only ever one of
/// the client's registered post-logout redirect URIs, compared exactly.
struct LogoutController: Sendable {
    let services: RampartServices
    let keyring: OIDCKeyring
    private var secure: Bool { services.configuration.secureCookies }

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/oauth/logout", use: logout)
        router.post("/o/:slug/oauth/logout", use: confirm)
    }

    /// The claims of an ID token presented as a hint: it must be this organisation's, and may
    /// have expired (a product keeps the ID token for as long as the person stays signed in).
    struct Hint: JWTPayload {
        let iss: String
        let sub: String
        let aud: String
        let orgID: String

        enum CodingKeys: String, CodingKey { case iss, sub, aud, orgID = "org_id" }

        func verify(using _: some JWTAlgorithm) throws {}
    }

    @Sendable func logout(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await handle(request, context, parameters: try AuthorizeController.parameters(request.uri.query ?? ""), confirmed: false)
    }

    @Sendable func confirm(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (_, parameters) = try await ConfirmedRequest.read(request, services: services, ended: "Your session had already ended.")
        return try await handle(request, context, parameters: parameters, confirmed: true)
    }

    private func handle(_ request: Request, _ context: RampartRequestContext, parameters: [String: String],
                        confirmed: Bool) async throws -> Response {
        guard let organization = try await services.organization(at: context) else {
            return AuthorizeController.errorPage("Unknown organization", "No organization signs in at this address.", status: .notFound)
        }
        let issuer = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        var hint: Hint?
        if let token = parameters["id_token_hint"] {
            hint = try await keyring.verify(token, orgID: organization.id, type: "jwt", as: Hint.self)
            guard let checked = hint, checked.iss == issuer, checked.orgID == organization.id else {
                return AuthorizeController.errorPage("Cannot sign out here", "The application sent an ID token that is not this organization's.", status: .badRequest)
            }
        }
        let clientID = parameters["client_id"] ?? hint?.aud
        if let hint, let given = parameters["client_id"], given != hint.aud {
            return AuthorizeController.errorPage("Cannot sign out here", "client_id and the ID token name different applications.", status: .badRequest)
        }
        let client = try await clientID.asyncFlatMap { id in
            try await services.database.read(org: organization.id) { try await $0.oauthClient(id) }
        }
        var returnTo: String?
        if let uri = parameters["post_logout_redirect_uri"] {
            guard let client, client.postLogoutRedirectURIs.contains(uri) else {
                return AuthorizeController.errorPage("Cannot sign out here", "This application sent an address to return to that it has not registered, so you were not sent on.", status: .badRequest)
            }
            returnTo = parameters["state"].map { AuthorizationRequest.append([("state", $0)], to: uri) } ?? uri
        }
        let resolved = try await SessionResolver(services: services).resolve(request)
        guard let (secret, signedIn) = resolved, secret.orgID == organization.id else {
            if AuthorizeController.arrivedFromAnotherSite(request) { return AuthorizeController.bounce(request) }
            return signedOut(organization, returnTo: returnTo)
        }
        let named = hint.map { $0.sub == signedIn.user.id } ?? false
        guard named || confirmed else {
            return ConsoleRenderer.page("logout", [
                "title": "Sign out?", "organizationName": organization.name, "slug": organization.slug,
                "csrf": signedIn.csrfToken, "request": ConfirmedRequest.encode(parameters), "clientName": client?.name ?? "",
                "hasClient": client != nil,
            ])
        }
        let audit = SignInClient(request, context).audit(signedIn.user, email: signedIn.user.email)
        try await services.database.write(org: organization.id) { tenant in
            try await tenant.signOutUserSession(secret)
            try await tenant.appendAudit([audit.record(.signout, [.user(signedIn.user)], details: AuditDetails([
                "initiatedBy": .string(client.map { "oauth_client:\($0.id)" } ?? "unknown_application"),
            ]))])
        }
        var response = signedOut(organization, returnTo: returnTo, confirmed: confirmed)
        response.headers.append(HTTPField(name: .setCookie, value: ConsoleCookie.clear(ConsoleCookie.session, secure: secure)))
        return response
    }

    /// Back to the product when it named a registered address; else a page that says so.
    private func signedOut(_ organization: Organization, returnTo: String?, confirmed: Bool = false) -> Response {
        if let returnTo {
            // After the confirmation form a redirect to the product would break form-action 'self'.
            return confirmed ? SignInContinuation.onward(to: returnTo) : ConsoleRenderer.redirect(returnTo)
        }
        return ConsoleRenderer.page("error", ["title": "Signed out", "status": 200,
                                              "message": "You are signed out of \(organization.name)."])
    }
}
