import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// The Identity providers pages: the list with a form per preset (and what to copy where),
/// and a provider's page with the values to paste into it, its settings, Test connection and
/// its last failed sign-ins.
struct ConsoleIdentityProvidersController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("identity-providers", use: list)
        group.post("identity-providers", use: create)
        group.get("identity-providers/{id}", use: show)
        group.post("identity-providers/{id}", use: update)
        // A link, not a form: the console's `form-action 'self'` would stop the redirect to the provider.
        group.get("identity-providers/{id}/test", use: test)
        group.get("identity-providers/{id}/delete", use: confirmDelete)
        group.post("identity-providers/{id}/delete", use: delete)
    }

    static let fields = [
        ConsoleFormField(name: "name", label: "Name (shown on the Sign in with … button)", apiName: "name", required: true),
        ConsoleFormField(name: "domains", label: "Verified domains routed here (one a line)", apiName: "domains", multiline: true),
        ConsoleFormField(name: "issuer", label: "OpenID Connect: issuer URL", apiName: "issuer"),
        ConsoleFormField(name: "client_id", label: "OpenID Connect: client ID", apiName: "clientId"),
        ConsoleFormField(name: "client_secret", label: "OpenID Connect: client secret (kept sealed, never shown again)",
                         apiName: "clientSecret", type: "password"),
        ConsoleFormField(name: "allowed_tenants", label: "Entra ID: allowed tenant IDs (one a line)", apiName: "allowedTenants",
                         multiline: true),
        ConsoleFormField(name: "hosted_domain", label: "Google Workspace: hosted domain", apiName: "hostedDomain"),
        ConsoleFormField(name: "metadata_xml", label: "SAML: IdP metadata XML (paste it; it fills in the entity ID, URL and certificates)",
                         apiName: "metadataXml", multiline: true),
        ConsoleFormField(name: "metadata_url", label: "SAML: or the IdP metadata URL", apiName: "metadataUrl"),
        ConsoleFormField(name: "idp_entity_id", label: "SAML: IdP entity ID", apiName: "idpEntityId"),
        ConsoleFormField(name: "sso_url", label: "SAML: IdP single sign-on URL (HTTP-Redirect)", apiName: "ssoUrl"),
        ConsoleFormField(name: "certificate", label: "SAML: IdP signing certificate (PEM)", apiName: "signingCertificates",
                         multiline: true),
        ConsoleFormField(name: "certificate_2", label: "SAML: second signing certificate, during a rollover (PEM)",
                         apiName: "signingCertificates", multiline: true),
        ConsoleFormField(name: "mfa_authn_contexts", label: "SAML: AuthnContextClassRef values that mean the IdP did MFA (one a line)",
                         apiName: "mfaAuthnContexts", multiline: true),
    ]

    /// What to copy where, per preset: shown beside the form.
    static func instructions(_ preset: IdentityProviderPreset) -> String {
        switch preset {
        case .okta: "In Okta: Applications → Create App Integration → OIDC, Web Application. Paste the redirect URI shown after saving as the Sign-in redirect URI; copy the Client ID and secret here. The issuer is https://your-okta-domain. Add a Groups claim named groups to map groups."
        case .entra: "In Entra ID: App registrations → New registration, platform Web. Paste the redirect URI shown after saving; copy the Application (client) ID here and create a client secret. Issuer: https://login.microsoftonline.com/<tenant id>/v2.0. Groups arrive as object IDs: match them by external ID."
        case .google: "In Google Cloud: APIs & Services → Credentials → OAuth client ID, Web application. Paste the redirect URI shown after saving as an authorised redirect URI; copy the client ID and secret here. Issuer: https://accounts.google.com; set the hosted domain to your Workspace domain."
        case .saml: "For Okta, Entra ID or any SAML 2.0 IdP: paste the IdP's metadata XML or its metadata URL (Okta: the app's Sign On tab, Identity Provider metadata; Entra ID: Enterprise applications → Single sign-on, App Federation Metadata Url), or type its entity ID, single sign-on URL and signing certificate. After saving, give the IdP the SP entity ID and ACS URL shown (or the SP metadata URL)."
        case .oidc: "Register Rampart at your provider as a confidential web client (authorization code flow) with the redirect URI shown after saving; copy the issuer, client ID and secret here."
        }
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context)
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, form: [String: String] = [:],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let providers = try await read(context, .readOrganization) { try await $0.identityProviders() }
        let chosen = IdentityProviderPreset(rawValue: form["preset"] ?? "") ?? .okta
        return ConsoleRenderer.page("identity-providers", ConsolePage.values(context, title: "Identity providers",
                                                                             active: "idps", extra: [
            "providers": providers.map { ["id": $0.id, "name": $0.name, "preset": $0.preset.displayName,
                                          "enabled": $0.enabled, "domains": $0.domains.joined(separator: ", ")] },
            "hasProviders": !providers.isEmpty,
            "presets": IdentityProviderPreset.allCases.map {
                ["value": $0.rawValue, "label": $0.displayName, "selected": $0 == chosen, "instructions": Self.instructions($0)]
            },
            "canManageIdentityProviders": context.principal?.can(.manageIdentityProviders) ?? false,
        ].merging(ConsoleFormField.values(Self.fields, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context, requiring: .manageIdentityProviders)
        let keys = services.keys
        do {
            var input = try await Self.samlImported(Self.input(form), form)
            input.preset = IdentityProviderPreset(rawValue: form["preset"])
            input.jit = form["jit"] == "on"
            let created = try await write(request, context, .manageIdentityProviders) { [input] in
                try await $0.createIdentityProvider(input, keys: keys, by: $1)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.updated.after("/console/identity-providers/\(created.id)"))
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    /// The text fields as the API's input; empty fields are left as they are.
    static func input(_ form: ConsoleForm) -> IdentityProviderInput {
        func text(_ name: String) -> String? { form[name].isEmpty ? nil : form[name] }
        func lines(_ name: String) -> [String]? {
            let items = form[name].split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return items
        }
        var input = IdentityProviderInput()
        input.name = text("name"); input.issuer = text("issuer"); input.clientId = text("client_id")
        input.clientSecret = text("client_secret"); input.hostedDomain = text("hosted_domain")
        input.idpEntityId = text("idp_entity_id"); input.ssoUrl = text("sso_url")
        input.domains = lines("domains")
        if let tenants = lines("allowed_tenants"), !tenants.isEmpty { input.allowedTenants = tenants }
        let certificates = [text("certificate"), text("certificate_2")].compactMap { $0 }
        if !certificates.isEmpty { input.signingCertificates = certificates }
        if let contexts = lines("mfa_authn_contexts"), !contexts.isEmpty { input.mfaAuthnContexts = contexts }
        return input
    }

    /// Pasted or uploaded metadata (or its URL) replaces the SAML fields typed beside it: on the
    /// edit page those hold the current settings, which the new document is meant to update.
    static func samlImported(_ typed: IdentityProviderInput, _ form: ConsoleForm) async throws -> IdentityProviderInput {
        var input = typed
        let pasted = form["metadata_xml"], url = form["metadata_url"]
        let xml = pasted.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? form["metadata_file"] : pasted
        guard !xml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || !url.isEmpty else { return input }
        input.idpEntityId = nil; input.ssoUrl = nil; input.signingCertificates = nil
        try await SAMLMetadataImport.apply(xml: xml, url: url, to: &input)
        return input
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await detailPage(request, context)
    }

    private func detailPage(_ request: Request, _ context: RampartRequestContext, form: [String: String]? = nil,
                            error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try context.id()
        let (provider, organization, failures, test) = try await read(context, .readOrganization) { tenant in
            let provider = try await tenant.requireIdentityProvider(id)
            return (provider, try await tenant.organization(), try await tenant.recentSSOFailures(providerID: provider.id),
                    try await tenant.lastSSOTestResult(providerID: provider.id))
        }
        let body = IdentityProviderBody(provider, organization, services.configuration.publicURL)
        var copy: [[String: String]] = []
        if let uri = body.redirectUri { copy.append(["label": "Redirect URI", "value": uri, "id": "redirect-uri"]) }
        if let entity = body.spEntityId { copy.append(["label": "SP entity ID", "value": entity, "id": "sp-entity-id"]) }
        if let acs = body.acsUrl { copy.append(["label": "ACS URL (HTTP-POST)", "value": acs, "id": "acs-url"]) }
        if let metadata = body.metadataUrl { copy.append(["label": "SP metadata URL", "value": metadata, "id": "metadata-url"]) }
        copy.append(["label": "Sign-in URL", "value": body.signInUrl, "id": "sign-in-url"])
        let report = test.flatMap { try? JSONDecoder().decode(SSOTestReport.self, from: Data($0.utf8)) }
        let typed = form ?? [
            "name": provider.name, "domains": provider.domains.joined(separator: "\n"),
            "issuer": provider.oidc?.issuer ?? "", "client_id": provider.oidc?.clientId ?? "",
            "allowed_tenants": provider.oidc?.allowedTenants.joined(separator: "\n") ?? "",
            "hosted_domain": provider.oidc?.hostedDomain ?? "", "idp_entity_id": provider.saml?.idpEntityId ?? "",
            "sso_url": provider.saml?.ssoUrl ?? "", "certificate": provider.saml?.signingCertificates.first ?? "",
            "certificate_2": provider.saml.map { $0.signingCertificates.dropFirst().first ?? "" } ?? "",
            "mfa_authn_contexts": provider.saml?.mfaAuthnContexts.joined(separator: "\n") ?? "",
        ]
        return ConsoleRenderer.page("identity-provider", ConsolePage.values(context, title: provider.name,
                                                                            active: "idps", extra: [
            "id": provider.id, "name": provider.name, "preset": provider.preset.displayName,
            "instructions": Self.instructions(provider.preset), "copy": copy,
            "enabled": provider.enabled, "jit": provider.jit, "trustIdpMfa": provider.trustIdpMfa,
            "isSAML": provider.kind == .saml, "requireSignedAssertion": provider.saml?.requireSignedAssertion ?? true,
            "allowIdpInitiated": provider.saml?.allowIdpInitiated ?? false,
            "matchExternal": provider.groupMatch == .externalId,
            "attributes": "email: \(provider.attributes.email), names: \(provider.attributes.givenName) / \(provider.attributes.familyName) / \(provider.attributes.displayName), groups: \(provider.attributes.groups)",
            "failures": failures.map { ["at": ConsolePage.time($0.occurredAt), "reason": $0.reason,
                                        "explanation": $0.detail ?? SSOFailure.Reason(rawValue: $0.reason).map { SSOFailure($0).message } ?? ""] },
            "hasFailures": !failures.isEmpty,
            "hasTest": report != nil, "testOK": report?.ok ?? false, "testMessage": report?.message ?? "",
            "testReason": report?.reason ?? "",
            "testClaims": (report?.received ?? [:]).sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
            "testEmail": report?.email ?? "", "testGroups": report?.groups?.joined(separator: ", ") ?? "",
            "canManageIdentityProviders": context.principal?.can(.manageIdentityProviders) ?? false,
        ].merging(ConsoleFormField.values(Self.fields, typed: typed, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context, requiring: .manageIdentityProviders)
        let keys = services.keys
        do {
            let kind = try await read(context, .manageIdentityProviders) { try await $0.requireIdentityProvider(id).kind }
            var input = Self.input(form)
            if kind == .oidc {
                input.idpEntityId = nil; input.ssoUrl = nil; input.signingCertificates = nil; input.mfaAuthnContexts = nil
            } else {
                input.issuer = nil; input.clientId = nil; input.clientSecret = nil; input.hostedDomain = nil
                input = try await Self.samlImported(input, form)
                // A second certificate field left empty ends a rollover: the list is what the form shows.
                input.signingCertificates = input.signingCertificates ?? []
                input.mfaAuthnContexts = input.mfaAuthnContexts ?? []
                input.requireSignedAssertion = form["require_signed_assertion"] == "on"
                input.allowIdpInitiated = form["allow_idp_initiated"] == "on"
            }
            input.enabled = form["enabled"] == "on"
            input.jit = form["jit"] == "on"
            input.trustIdpMfa = form["trust_idp_mfa"] == "on"
            input.groupMatch = GroupMatch(rawValue: form["group_match"]) ?? .name
            _ = try await write(request, context, .manageIdentityProviders) { [input] in
                try await $0.updateIdentityProvider(id, input, keys: keys, by: $1)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.updated.after("/console/identity-providers/\(id)"))
        } catch let error as RampartError where isFormError(error) {
            return try await detailPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    /// Test connection: a real sign-in with the provider whose result this page then shows.
    @Sendable func test(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (provider, organization) = try await read(context, .manageIdentityProviders) {
            (try await $0.requireIdentityProvider(id), try await $0.organization())
        }
        return ConsoleRenderer.redirect(IdentityProviderBody.testURL(provider, organization, services.configuration.publicURL,
                                                                     keys: services.keys))
    }

    @Sendable func confirmDelete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let provider = try await read(context, .manageIdentityProviders) { try await $0.requireIdentityProvider(id) }
        return ConsoleConfirmation(
            question: "Delete the identity provider \(provider.name)?",
            consequence: "Its people can no longer sign in through it; their accounts stay, and its links to them are removed.",
            action: "/console/identity-providers/\(provider.id)/delete", button: "Delete identity provider",
            cancel: "/console/identity-providers/\(provider.id)"
        ).page(context, active: "idps")
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context, requiring: .manageIdentityProviders)
        _ = try await write(request, context, .manageIdentityProviders) { try await $0.deleteIdentityProvider(id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.deleted.after("/console/identity-providers"))
    }
}
