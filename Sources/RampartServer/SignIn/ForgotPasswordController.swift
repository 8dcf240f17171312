import HTTPTypes
import Hummingbird
import RampartCore
import RampartStorage

/// Self-service password reset (`/o/{slug}/forgot`): a person types their email and, if it
/// belongs to an active account, a one-time reset link (thirty minutes, one use) is mailed to
/// it. The answer is the same page whether or not the account exists; the mail is queued in
/// the transaction that creates the link and sent by `MailDeliverer`.
struct ForgotPasswordController: Sendable {
    let services: RampartServices
    /// Requests from one address: enough for a person who mistyped, too few to mail-bomb.
    let perAddress = TokenBucketLimiter(.init(requestsPerSecond: 1.0 / 60, burst: 5))
    /// One link per account and minute: asking again quickly resends nothing.
    static let perAccountInterval: Double = 60

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/forgot", use: show)
        router.post("/o/:slug/forgot", use: request)
    }

    private var secure: Bool { services.configuration.secureCookies }

    private func organization(_ context: RampartRequestContext) async throws -> Organization {
        guard let organization = try await services.organization(at: context) else { throw RampartError.notFound("Organization") }
        return organization
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let organization = try await organization(context)
        let email: String = request.uri.queryParameters.get("email").map { String($0) } ?? ""
        return page(organization, email: email, sent: false)
    }

    private func page(_ organization: Organization, email: String, sent: Bool, error: String? = nil,
                      status: HTTPResponse.Status = .ok) -> Response {
        let csrf = SignInFormToken(keys: services.keys).issue()
        var response = ConsoleRenderer.page("forgot", [
            "title": "Reset your password", "name": organization.name, "slug": organization.slug, "csrf": csrf,
            "email": email, "sent": sent, "available": services.configuration.mail != nil,
            "error": error ?? "", "hasError": error != nil,
        ], status: status)
        response.headers.append(HTTPField(name: .setCookie, value: ConsoleCookie.make(ConsoleCookie.signinCSRF, csrf, secure: secure)))
        return response
    }

    @Sendable func request(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let organization = try await organization(context)
        let form = try await ConsoleForm.read(request, expectedCSRF: ConsoleCookie.value(ConsoleCookie.signinCSRF, in: request) ?? "")
        guard SignInFormToken(keys: services.keys).verify(form["csrf"]) else { throw ConsoleForm.expired }
        let email = form["email"].trimmingCharacters(in: .whitespaces).lowercased()
        guard let mail = services.configuration.mail else { return page(organization, email: email, sent: false) }
        guard email.contains("@"), email.count <= 320 else {
            return page(organization, email: email, sent: false, error: "Type the email address you sign in with.",
                        status: .badRequest)
        }
        let client = SignInClient(request, context)
        if perAddress.admit(client.addressKey) != nil {
            return page(organization, email: email, sent: false,
                        error: "Too many reset requests from your address; try again in a few minutes.", status: .tooManyRequests)
        }
        let link = PublicLink.to("/o/\(organization.slug)/reset?token=", at: services.configuration.publicURL)
        let keys = services.keys
        let queued = try await services.database.write(org: organization.id) { tenant -> Bool in
            guard let user = try await tenant.user(email: email), user.status == .active,
                  try await !tenant.hasRecentPasswordResetToken(for: user.id, within: Self.perAccountInterval)
            else { return false }
            let secret = try await tenant.createPasswordResetToken(for: user.id)
            try await tenant.queueMail(to: user.email, subject: "Reset your password for \(organization.name)",
                                       body: Self.body(user: user, organization: organization, link: link + secret, from: mail),
                                       keys: keys)
            try await tenant.appendAudit([client.audit(user, email: email).record(
                .passwordResetRequested, [.user(user)], details: AuditDetails(["delivery": .string("mail")]))])
            return true
        }
        if queued { services.mailWakeups.wake(organization.id) }
        return page(organization, email: email, sent: true)
    }

    static func body(user: User, organization: Organization, link: String, from: MailSettings) -> String {
        """
        Hello \(user.displayName),

        Someone, hopefully you, asked to reset the password of \(user.email) at \(organization.name).
        Open this link within 30 minutes to choose a new one; it works once:

        \(link)

        Choosing a new password signs you out everywhere else. If you did not ask for this, ignore
        this message: your password stays as it is.
        """
    }
}
