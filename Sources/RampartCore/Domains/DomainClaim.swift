import Foundation

public enum DomainClaimStatus: String, Codable, Sendable, CaseIterable {
    /// Claimed, not yet proven. Several organisations may hold pending claims on one domain.
    case pending
    /// Proven by this organisation, which alone may then hold it: its users' accounts are managed.
    case verified
}

/// How an organisation proves that it controls a domain.
public enum DomainVerificationMethod: String, Codable, Sendable, CaseIterable {
    /// A TXT record at `_rampart-challenge.<domain>` holding `rampart-domain-verification=<token>`.
    case dns
    /// `https://<domain>/.well-known/rampart-domain-verification.txt` whose body holds the same line.
    case http
}

/// One organisation's claim on a domain, and what it must publish to prove it.
public struct DomainClaim: Sendable, Equatable {
    public static let dnsLabel = "_rampart-challenge"
    public static let wellKnownPath = "/.well-known/rampart-domain-verification.txt"
    public static let proofPrefix = "rampart-domain-verification="

    public var id: String
    public var domain: String
    public var unicodeDomain: String
    public var status: DomainClaimStatus
    /// Random and not secret: it is published in DNS or on the web server for anyone to read.
    public var token: String
    public var createdAt: Timestamp
    public var verifiedAt: Timestamp?
    public var verifiedMethod: DomainVerificationMethod?
    public var lastCheckedAt: Timestamp?
    public var lastCheckMethod: DomainVerificationMethod?
    /// Why the last check failed, in the words the admin sees; nil after a success.
    public var lastCheckError: String?

    public init(id: String, domain: String, unicodeDomain: String, status: DomainClaimStatus, token: String,
                createdAt: Timestamp, verifiedAt: Timestamp? = nil, verifiedMethod: DomainVerificationMethod? = nil,
                lastCheckedAt: Timestamp? = nil, lastCheckMethod: DomainVerificationMethod? = nil,
                lastCheckError: String? = nil) {
        self.id = id; self.domain = domain; self.unicodeDomain = unicodeDomain; self.status = status; self.token = token
        self.createdAt = createdAt; self.verifiedAt = verifiedAt; self.verifiedMethod = verifiedMethod
        self.lastCheckedAt = lastCheckedAt; self.lastCheckMethod = lastCheckMethod; self.lastCheckError = lastCheckError
    }

    /// The line both methods publish.
    public var proof: String { Self.proofPrefix + token }
    public var dnsRecordName: String { "\(Self.dnsLabel).\(domain)" }
    public var wellKnownURL: String { "https://\(domain)\(Self.wellKnownPath)" }

    /// A verification token: 128 random bits as 32 lowercase hex digits, safe in DNS and in a URL.
    public static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }
}

extension DomainClaim: Encodable {
    enum CodingKeys: String, CodingKey {
        case id, domain, unicodeDomain, status, createdAt, verifiedAt, verifiedMethod, lastCheck, dns, http
    }
    enum CheckKeys: String, CodingKey { case at, method, error }
    enum DNSKeys: String, CodingKey { case recordType, name, value }
    enum HTTPKeys: String, CodingKey { case url, content }

    /// Shows exactly what to publish: the TXT record, and the file with its content.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(domain, forKey: .domain)
        try c.encode(unicodeDomain, forKey: .unicodeDomain)
        try c.encode(status, forKey: .status)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(verifiedAt, forKey: .verifiedAt)
        try c.encode(verifiedMethod, forKey: .verifiedMethod)
        if let lastCheckedAt {
            var check = c.nestedContainer(keyedBy: CheckKeys.self, forKey: .lastCheck)
            try check.encode(lastCheckedAt, forKey: .at)
            try check.encode(lastCheckMethod, forKey: .method)
            try check.encode(lastCheckError, forKey: .error)
        } else {
            try c.encodeNil(forKey: .lastCheck)
        }
        var dns = c.nestedContainer(keyedBy: DNSKeys.self, forKey: .dns)
        try dns.encode("TXT", forKey: .recordType)
        try dns.encode(dnsRecordName, forKey: .name)
        try dns.encode(proof, forKey: .value)
        var http = c.nestedContainer(keyedBy: HTTPKeys.self, forKey: .http)
        try http.encode(wellKnownURL, forKey: .url)
        try http.encode(proof, forKey: .content)
    }
}

/// What one verification attempt found: data, returned rather than thrown, so that a failed
/// check is recorded (and audited) like a successful one.
public enum DomainCheckResult: Sendable, Equatable {
    case proven
    case failed(String)

    /// The verdict on the TXT values found at the claim's record name.
    public static func dns(_ values: [String], for claim: DomainClaim) -> DomainCheckResult {
        if values.isEmpty { return .failed("No TXT record at \(claim.dnsRecordName); publish \(claim.proof) there.") }
        if values.contains(where: { Self.holds($0, claim.proof) }) { return .proven }
        let ours = values.filter { $0.hasPrefix(DomainClaim.proofPrefix) }.count
        return .failed("""
            Found \(values.count) TXT record\(values.count == 1 ? "" : "s") at \(claim.dnsRecordName) \
            (\(ours) starting with \(DomainClaim.proofPrefix)) but none holds this domain's token; \
            publish \(claim.proof) there.
            """)
    }

    /// The verdict on the body of the well-known file: one of its lines (trimmed) is the proof.
    public static func http(body: String, for claim: DomainClaim) -> DomainCheckResult {
        let lines = body.split(whereSeparator: \.isNewline).map { $0.trimming(.whitespaces) }
        if lines.contains(where: { Self.holds($0, claim.proof) }) { return .proven }
        return .failed("\(claim.wellKnownURL) was fetched but does not hold this domain's token; its content must be \(claim.proof)")
    }

    /// Byte for byte, in constant time: the token is not secret, but it costs nothing.
    private static func holds(_ found: String, _ proof: String) -> Bool {
        let a = Array(found.utf8), b = Array(proof.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
