import RampartCore

/// Looks for a claim's proof where the method says, and returns the verdict. The lookups run
/// outside any database transaction; the caller records the verdict in one.
public struct DomainVerifier: Sendable {
    /// How the server looks: `--dns-server` and `--domain-verification-http-base`.
    public struct Settings: Sendable {
        public var dnsServer: String?
        public var httpBase: String?
        public init(dnsServer: String? = nil, httpBase: String? = nil) { self.dnsServer = dnsServer; self.httpBase = httpBase }
    }

    let resolver: TXTResolver
    let fetcher: WellKnownFetcher

    /// The system's resolvers and `https://<domain>`.
    public static let system = DomainVerifier(resolver: TXTResolver(), fetcher: WellKnownFetcher())

    init(resolver: TXTResolver, fetcher: WellKnownFetcher) { self.resolver = resolver; self.fetcher = fetcher }

    public init(_ settings: Settings) throws {
        if let base = settings.httpBase, !(base.hasPrefix("http://") || base.hasPrefix("https://")) {
            throw RampartError(.configuration, "--domain-verification-http-base must be an http or https URL.")
        }
        self.init(resolver: TXTResolver(server: try settings.dnsServer.map(TXTResolver.parseServer)),
                  fetcher: WellKnownFetcher(base: settings.httpBase))
    }

    public func check(_ claim: DomainClaim, by method: DomainVerificationMethod) async -> DomainCheckResult {
        switch method {
        case .dns:
            switch (try? await resolver.txt(claim.dnsRecordName)) ?? .unanswered("the DNS lookup could not be started") {
            case .records(let values): return .dns(values, for: claim)
            case .noRecords: return .dns([], for: claim)
            case .unanswered(let why): return .failed("Could not look up \(claim.dnsRecordName): \(why).")
            }
        case .http:
            switch await fetcher.fetch(claim) {
            case .success(let body): return .http(body: body, for: claim)
            case .failure(let failure): return .failed(failure.message + ".")
            }
        }
    }

}
