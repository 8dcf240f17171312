import ArgumentParser
import RampartCore
import RampartServer
import RampartStorage

/// Where proofs are looked for, for `serve` and `domain verify` alike.
struct DomainVerificationOptions: ParsableArguments {
    @Option(help: "The DNS server TXT proofs are asked of, IPv4 address[:port] (default: $RAMPART_DNS_SERVER, else the servers of /etc/resolv.conf).")
    var dnsServer: String?
    @Option(help: "Operators and tests only: fetch the well-known proof from this base URL (e.g. http://127.0.0.1:8099) instead of https://<domain>, with the domain as Host (default: $RAMPART_DOMAIN_VERIFICATION_HTTP_BASE).")
    var domainVerificationHttpBase: String?

    func verifier() throws -> DomainVerifier {
        do {
            return try DomainVerifier(DomainVerifier.Settings(
                dnsServer: dnsServer ?? StoreOptions.environment("RAMPART_DNS_SERVER"),
                httpBase: domainVerificationHttpBase ?? StoreOptions.environment("RAMPART_DOMAIN_VERIFICATION_HTTP_BASE")))
        } catch let error as RampartError {
            throw ValidationError(error.message)
        }
    }
}

struct DomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Claim, verify and list the organisation's domains; their users are its managed accounts.",
        subcommands: [List.self, Claim.self, Show.self, Verify.self, Delete.self])

    /// What to publish for a claim, as the API shows it.
    static func describe(_ claim: DomainClaim) -> String {
        var lines = ["\(claim.unicodeDomain) (\(claim.id)): \(claim.status.rawValue)"]
        if let verifiedAt = claim.verifiedAt {
            lines.append("Verified \(verifiedAt.rfc3339) by \(claim.verifiedMethod?.rawValue ?? "?").")
        } else {
            lines.append("Prove it with either:")
            lines.append("  DNS: a TXT record at \(claim.dnsRecordName) with the value \(claim.proof)")
            lines.append("  HTTPS: \(claim.wellKnownURL) containing \(claim.proof)")
            lines.append("then run `rampart domain verify --domain \(claim.domain) --method dns|http`.")
        }
        if let checked = claim.lastCheckedAt, let error = claim.lastCheckError {
            lines.append("Last check \(checked.rfc3339) (\(claim.lastCheckMethod?.rawValue ?? "?")): \(error)")
        }
        return lines.joined(separator: "\n")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the organisation's domain claims.")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let claims = try await tenant.read { try await $0.domainClaims() }
                try tenant.output(["data": claims]) {
                    table(claims.map { claim in
                        [claim.id, claim.status.rawValue, claim.unicodeDomain,
                         claim.verifiedAt.map { "verified \($0.rfc3339)" } ?? (claim.lastCheckError.map { "last check: \($0)" } ?? "not checked")]
                    }, empty: "No domains claimed.")
                }
            }
        }
    }

    struct Claim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Claim a domain; prints the record to publish.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "The domain, e.g. example.com.") var domain: String

        func run() async throws {
            try await runReportingErrors {
                let name = try DomainName(parsing: domain, publicSuffixes: .system)
                let claim = try await tenant.write { try await $0.claimDomain(name, by: .system) }
                try tenant.output(claim) { "Claimed " + DomainCommand.describe(claim) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a claim and what to publish for it.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Claim id or domain.") var domain: String

        func run() async throws {
            try await runReportingErrors {
                let domain = self.domain
                let claim = try await tenant.read { try await $0.findDomain(domain) }
                try tenant.output(claim) { DomainCommand.describe(claim) }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Look for a claim's proof (DNS TXT record or HTTPS well-known file) and verify it when found.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Claim id or domain.") var domain: String
        @Option(help: "dns or http.") var method: String
        @OptionGroup var lookups: DomainVerificationOptions

        func run() async throws {
            try await runReportingErrors {
                guard let method = DomainVerificationMethod(rawValue: method) else {
                    throw RampartError(.invalidParameter, "--method must be dns or http.")
                }
                let domain = self.domain
                let verifier = try lookups.verifier()
                let claim = try await tenant.read { try await $0.findDomain(domain) }
                let result = claim.status == .pending ? await verifier.check(claim, by: method) : .proven
                let (recorded, failure) = try await tenant.write {
                    try await $0.recordDomainCheck(claim.id, method: method, result: result, by: .system)
                }
                if let failure { throw failure }
                try tenant.output(recorded) { DomainCommand.describe(recorded) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a claim; a verified domain is then free for other organisations and its users are no longer managed.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Claim id or domain.") var domain: String

        func run() async throws {
            try await runReportingErrors {
                let domain = self.domain
                let deleted = try await tenant.write { tenant in
                    try await tenant.deleteDomainClaim(try await tenant.findDomain(domain).id, by: .system)
                }
                try tenant.output(deleted) { "Deleted the claim on \(deleted.unicodeDomain) (\(deleted.id))." }
            }
        }
    }
}

extension Tenant {
    func findDomain(_ idOrDomain: String) async throws -> DomainClaim {
        guard let claim = try await findDomainClaim(idOrDomain) else {
            throw RampartError(.notFound, "No domain claim '\(idOrDomain)'; `rampart domain list` shows them.")
        }
        return claim
    }
}
