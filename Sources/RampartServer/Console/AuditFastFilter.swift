import Foundation
import RampartCore

/// The audit page's one-click views: plain links with query strings (the console runs no
/// script), each a whole view of its own rather than a change to the one on screen.
struct AuditFastFilter {
    let id: String
    let label: String
    let filters: [String: String]

    /// The common questions: who failed to sign in, what admins changed, what products reported.
    static func all(now: Timestamp) -> [AuditFastFilter] {
        [AuditFastFilter(id: "signin-failures", label: "Sign-in failures", filters: ["action": "auth.signin_failed"]),
         AuditFastFilter(id: "sso-failures", label: "Single sign-on failures", filters: ["action": "sso.signin_failed"]),
         AuditFastFilter(id: "user-changes", label: "User changes", filters: ["action": "user."]),
         AuditFastFilter(id: "role-changes", label: "Role changes", filters: ["action": "role."]),
         AuditFastFilter(id: "policy-changes", label: "Policy changes", filters: ["action": "auth_policy."]),
         AuditFastFilter(id: "product-events", label: "Product events", filters: ["action": "product."]),
         AuditFastFilter(id: "last-24h", label: "Last 24 hours",
                         filters: ["since": String(now.adding(seconds: -86_400).rfc3339.prefix(19)) + "Z"])]
    }

    /// The links, the one whose action the page shows marked current.
    static func links(_ shown: [String: String], now: Timestamp = .now()) -> [[String: Any]] {
        all(now: now).map { filter in
            ["id": filter.id, "label": filter.label,
             "href": "/console/audit?" + ConsoleAuditController.queryString(filter.filters).dropFirst(),
             "current": filter.filters["action"].map { $0 == shown["action"] } ?? false]
        }
    }
}
