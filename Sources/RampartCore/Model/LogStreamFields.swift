import Crypto
import Foundation

/// The receiver settings a create or a change gives, by their API names, each nil when not
/// given. `checked` holds the rules for every kind, so the API, the console and the CLI refuse
/// the same things with the same words.
public struct LogStreamFields: Sendable, Equatable, Decodable {
    public var endpoint: String?
    public var format: String?
    /// Failed attempts at one batch before it goes to the dead letters (every kind).
    public var deadLetterAfter: Int64?
    /// `full` or `pseudonymous` (every kind).
    public var personalData: String?
    /// The kind's secret under its API name: `token` (Splunk), `secret` (webhook), `clientSecret` (Sentinel).
    public var token: String?
    public var secret: String?
    public var clientSecret: String?
    /// The settings only some kinds have, as given (unchecked); an empty one clears it.
    public var target: LogStreamTarget

    public init(endpoint: String? = nil, format: String? = nil, deadLetterAfter: Int64? = nil, personalData: String? = nil,
                token: String? = nil, secret: String? = nil, clientSecret: String? = nil, target: LogStreamTarget = LogStreamTarget()) {
        self.endpoint = endpoint; self.format = format; self.deadLetterAfter = deadLetterAfter; self.personalData = personalData
        self.token = token
        self.secret = secret; self.clientSecret = clientSecret; self.target = target
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case endpoint, format, deadLetterAfter, personalData, token, secret, clientSecret }

    /// From a JSON body in which the target's settings stand beside the others.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(endpoint: try c.decodeIfPresent(String.self, forKey: .endpoint),
                  format: try c.decodeIfPresent(String.self, forKey: .format),
                  deadLetterAfter: try c.decodeIfPresent(Int64.self, forKey: .deadLetterAfter),
                  personalData: try c.decodeIfPresent(String.self, forKey: .personalData),
                  token: try c.decodeIfPresent(String.self, forKey: .token),
                  secret: try c.decodeIfPresent(String.self, forKey: .secret),
                  clientSecret: try c.decodeIfPresent(String.self, forKey: .clientSecret),
                  target: try LogStreamTarget(from: decoder))
    }

    /// The API names of all these fields.
    public static let names = Set(CodingKeys.allCases.map(\.rawValue) + LogStreamTarget.CodingKeys.allCases.map(\.rawValue))

    /// The API names of the fields only some kinds take, with their values.
    private var kindSpecific: [(name: String, value: String)] {
        [("token", token), ("secret", secret), ("clientSecret", clientSecret)].compactMap { name, value in value.map { (name, $0) } }
            + target.named
    }

    private static func takes(_ kind: LogStreamKind) -> Set<String> {
        switch kind {
        case .syslog: []
        case .splunkHEC: ["token", "index"]
        case .webhook: ["secret"]
        case .sentinel: ["clientSecret", "tenantId", "clientId", "dcrImmutableId", "streamName", "tokenUrl"]
        }
    }

    /// The settings these fields give `stream` (its kind, and for a change its present settings),
    /// and the new secret when one was given. An empty optional field clears it.
    public func checked(for stream: LogStream) throws -> (LogStream, secret: String?) {
        let kind = stream.kind
        var stream = stream
        for (name, _) in kindSpecific where !Self.takes(kind).contains(name) {
            throw RampartError.invalidField(name, "is not a setting of \(kind.rawValue) streams")
        }
        if let endpoint {
            stream.endpoint = kind.isHTTP ? try Self.httpsURL(endpoint, field: "endpoint") : try Validate.endpoint(endpoint)
        }
        if let format {
            guard let parsed = LogStreamFormat(rawValue: format.trimming(.whitespaces)), kind.formats.contains(parsed) else {
                let formats = kind.formats.map(\.rawValue).joined(separator: ", ")
                throw RampartError.invalidField("format", "must be one of \(formats) for \(kind.rawValue) streams")
            }
            stream.format = parsed
        }
        if let deadLetterAfter {
            guard LogStream.deadLetterAfterRange.contains(deadLetterAfter) else {
                let range = LogStream.deadLetterAfterRange
                throw RampartError.invalidField("deadLetterAfter",
                                                "must be a number of attempts from \(range.lowerBound) to \(range.upperBound)")
            }
            stream.deadLetterAfter = deadLetterAfter
        }
        if let personalData {
            guard let parsed = LogStreamPersonalData(rawValue: personalData.trimming(.whitespaces)) else {
                throw RampartError.invalidField("personalData", "must be full or pseudonymous")
            }
            stream.personalData = parsed
        }
        var settings = stream.target
        if let index = target.index {
            settings.index = try Self.optional(index) { try Self.word($0, field: "index", extra: "_-", max: 80, lowercase: true) }
        }
        if let tenantId = target.tenantId {
            settings.tenantId = try Self.optional(tenantId) { try Self.word($0, field: "tenantId", extra: ".-", max: 100) }
        }
        if let clientId = target.clientId { settings.clientId = try Self.word(clientId, field: "clientId", extra: ".-_", max: 100) }
        if let dcrImmutableId = target.dcrImmutableId {
            let value = dcrImmutableId.trimming(.whitespaces)
            guard value.hasPrefix("dcr-"), value.utf8.count == 36, value.dropFirst(4).allSatisfy(\.isHexDigit) else {
                throw RampartError.invalidField("dcrImmutableId",
                                                "must be a data collection rule's immutable id: dcr- and 32 hexadecimal digits")
            }
            settings.dcrImmutableId = value
        }
        if let streamName = target.streamName {
            let value = try Self.word(streamName, field: "streamName", extra: "_-", max: 100)
            guard value.hasPrefix("Custom-") || value.hasPrefix("Microsoft-") else {
                throw RampartError.invalidField("streamName", "must be the rule's stream, such as Custom-RampartAudit_CL")
            }
            settings.streamName = value
        }
        if let tokenUrl = target.tokenUrl { settings.tokenUrl = try Self.optional(tokenUrl) { try Self.httpsURL($0, field: "tokenUrl") } }
        stream.target = settings

        let secretValue = [token, secret, clientSecret].compactMap { $0 }.first
        if let secretValue, let field = kind.secretField {
            let value = secretValue.trimming(.whitespaces)
            let minimum = kind == .webhook ? 16 : 1
            guard (minimum...512).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw RampartError.invalidField(field, "must be \(minimum) to 512 printable characters without spaces")
            }
            return (stream, value)
        }
        return (stream, nil)
    }

    /// Refuses a new stream that lacks what its kind needs; `hasSecret` says whether one is given or generated.
    public static func requireComplete(_ stream: LogStream, hasSecret: Bool) throws {
        if stream.endpoint.isEmpty {
            throw RampartError.invalidField("endpoint", stream.kind.isHTTP ? "must be an https URL"
                : "must be host:port, for example siem.example.com:6514")
        }
        if let field = stream.kind.secretField, !hasSecret {
            throw RampartError.invalidField(field, "must be given for \(stream.kind.rawValue) streams")
        }
        guard stream.kind == .sentinel else { return }
        let target = stream.target
        let required = [("clientId", target.clientId), ("dcrImmutableId", target.dcrImmutableId), ("streamName", target.streamName)]
        for (name, value) in required where value == nil {
            throw RampartError.invalidField(name, "must be given for sentinel streams")
        }
        if target.tenantId == nil && target.tokenUrl == nil {
            throw RampartError.invalidField("tenantId", "must be given for sentinel streams (or tokenUrl)")
        }
    }

    /// A webhook's signing secret when none is given: `whsec_` and 256 random bits, base64url.
    public static func generatedWebhookSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64URLEncoded
    }

    /// An https URL without a fragment: certificates are always verified, so plain http is never taken.
    static func httpsURL(_ raw: String, field: String) throws -> String {
        let url = try WebURL(parsing: raw.trimming(.whitespaces), field: field)
        guard url.scheme == "https" else { throw RampartError.invalidField(field, "must use https") }
        guard !url.rest.contains("#") else { throw RampartError.invalidField(field, "must not have a fragment (#...)") }
        return url.description
    }

    /// Letters, digits and `extra`, 1 to `max` characters.
    static func word(_ raw: String, field: String, extra: String, max: Int, lowercase: Bool = false) throws -> String {
        let value = raw.trimming(.whitespaces)
        let allowed = (lowercase ? "abcdefghijklmnopqrstuvwxyz" : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") + "0123456789" + extra
        guard (1...max).contains(value.count), value.allSatisfy({ allowed.contains($0) }) else {
            let others = extra.map { "'\($0)'" }.joined(separator: " ")
            let letters = lowercase ? "a-z" : "letters"
            throw RampartError.invalidField(field, "must be 1 to \(max) characters of \(letters), digits and \(others)")
        }
        return value
    }

    /// An empty value clears an optional setting.
    private static func optional(_ raw: String, _ check: (String) throws -> String) throws -> String? {
        raw.trimming(.whitespaces).isEmpty ? nil : try check(raw)
    }
}
