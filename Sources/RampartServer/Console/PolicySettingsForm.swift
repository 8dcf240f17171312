import Foundation
import RampartAuthn
import RampartCore

/// An authentication policy's settings as the console's form shows and submits them: times in
/// minutes, lists one entry per line, break-glass accounts by email. A checkbox that is not
/// ticked is not submitted, so an absent one means "off".
struct PolicySettingsForm: Sendable {
    /// Problems with single fields, by field name, shown next to the field.
    var fieldErrors: [String: String] = [:]
    /// The submitted text of every field, so a refused form comes back as it was typed.
    var values: [String: String]

    static let checkboxes = ["password_sign_in", "mfa_required", "sso_required", "api_tokens_allowed"]

    /// The form showing `settings`; break-glass ids are shown as the emails in `emails`.
    init(_ settings: AuthenticationPolicySettings, emails: [String: String]) {
        values = [
            "mfa_grace_days": String(settings.mfaEnrolmentGraceDays),
            "break_glass": settings.breakGlassUserIDs.map { emails[$0] ?? $0 }.joined(separator: "\n"),
            "session_lifetime_minutes": String(settings.sessionLifetimeSeconds / 60),
            "idle_timeout_minutes": String(settings.idleTimeoutSeconds / 60),
            "ip_allowlist": settings.ipAllowlist?.map(\.description).joined(separator: "\n") ?? "",
            "api_token_max_days": settings.apiTokenMaxLifetimeDays.map(String.init) ?? "",
            "password_min_length": String(settings.password.minimumLength),
            "password_min_length_single_factor": String(settings.password.minimumLengthSingleFactor),
            "password_max_length": String(settings.password.maximumLength),
        ]
        let ticked = [settings.passwordSignInAllowed, settings.mfaRequired, settings.ssoRequired, settings.apiTokensAllowed]
        for (name, on) in zip(Self.checkboxes, ticked) where on { values[name] = "on" }
    }

    init(submitted form: ConsoleForm) {
        values = form.fields.filter { $0.key != "csrf" }
    }

    /// The settings the form states, or nil with `fieldErrors` filled. `userID` finds a
    /// break-glass account by email.
    mutating func settings(userID: (String) -> String?) -> AuthenticationPolicySettings? {
        fieldErrors = [:]
        let grace = number("mfa_grace_days")
        let lifetime = number("session_lifetime_minutes")
        let idle = number("idle_timeout_minutes")
        let maxDays = values["api_token_max_days", default: ""].trimmingCharacters(in: .whitespaces).isEmpty
            ? .some(nil) : number("api_token_max_days").map(Optional.some)
        let minimum = number("password_min_length")
        let singleFactor = number("password_min_length_single_factor")
        let maximum = number("password_max_length")
        var breakGlass = [String]()
        for email in lines("break_glass") {
            guard let id = userID(email.lowercased()) else {
                fieldErrors["break_glass"] = "\(email.prefix(100)) is not a user of this organisation."
                break
            }
            breakGlass.append(id)
        }
        var allowlist = [IPNetwork]()
        for entry in lines("ip_allowlist") {
            guard let network = try? IPNetwork(parsing: entry) else {
                fieldErrors["ip_allowlist"] = "\(entry.prefix(100)) is not an IPv4 or IPv6 address or CIDR block such as 192.0.2.0/24."
                break
            }
            allowlist.append(network)
        }
        guard fieldErrors.isEmpty, let grace, let lifetime, let idle, let maxDays, let minimum, let singleFactor,
              let maximum else { return nil }
        return AuthenticationPolicySettings(
            passwordSignInAllowed: ticked("password_sign_in"), mfaRequired: ticked("mfa_required"),
            mfaEnrolmentGraceDays: grace, ssoRequired: ticked("sso_required"), breakGlassUserIDs: breakGlass,
            sessionLifetimeSeconds: lifetime * 60, idleTimeoutSeconds: idle * 60,
            // An empty box allows any address; the API's empty list (no address at all) has no use in a form.
            ipAllowlist: allowlist.isEmpty ? nil : allowlist, apiTokensAllowed: ticked("api_tokens_allowed"),
            apiTokenMaxLifetimeDays: maxDays,
            password: PasswordPolicy(minimumLength: minimum, minimumLengthSingleFactor: singleFactor, maximumLength: maximum))
    }

    /// Template values: `form_<name>` for each value, `<name>_checked`, `error_<name>`.
    var templateValues: [String: Any] {
        var out: [String: Any] = [:]
        for (name, value) in values { out["form_\(name)"] = value }
        for name in Self.checkboxes { out["\(name)_checked"] = ticked(name) }
        for (name, message) in fieldErrors { out["error_\(name)"] = message }
        return out
    }

    private func ticked(_ name: String) -> Bool { values[name] == "on" }

    private func lines(_ name: String) -> [String] {
        values[name, default: ""].split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private mutating func number(_ name: String) -> Int? {
        let text = values[name, default: ""].trimmingCharacters(in: .whitespaces)
        guard let value = Int(text), value >= 0 else {
            fieldErrors[name] = text.isEmpty ? "Enter a number." : "Enter a whole number, 0 or more."
            return nil
        }
        return value
    }
}
