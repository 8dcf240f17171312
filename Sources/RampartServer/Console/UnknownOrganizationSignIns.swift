import Logging
import Metrics

/// Sign-in attempts naming an organisation that does not exist belong to no organisation's
/// audit log, so they are counted in `/metrics` and logged as a structured warning with the
/// source address: a password spray across guessed organisation names shows up there. The
/// name typed is not logged (it may be a mistyped password or an email).
enum UnknownOrganizationSignIns {
    static let counter = Counter(label: "rampart_signin_unknown_organization_failures")

    static func record(sourceIP: String?, logger: Logger) {
        counter.increment()
        logger.warning("sign-in for an unknown organisation", metadata: [
            "event": "signin.unknown_organization",
            "source_ip": .string(sourceIP ?? "unknown"),
        ])
    }
}
