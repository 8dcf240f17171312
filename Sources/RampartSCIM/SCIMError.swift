import RampartCore

/// An error in the SCIM error schema (RFC 7644 §3.12). `detail` is written for the person
/// configuring the identity provider and never carries personal data or secrets.
public struct SCIMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `scimType` values of RFC 7644 table 9, plus none for errors that have no type.
    public enum Kind: String, Sendable, Equatable {
        case invalidFilter, tooMany, uniqueness, mutability, invalidSyntax, invalidPath, noTarget, invalidValue,
             invalidVers, sensitive
    }

    public static let schema = "urn:ietf:params:scim:api:messages:2.0:Error"

    public let status: Int
    public let kind: Kind?
    public let detail: String

    public init(status: Int, _ kind: Kind?, _ detail: String) {
        self.status = status; self.kind = kind; self.detail = detail
    }

    public var description: String { "\(status) \(kind?.rawValue ?? "-"): \(detail)" }

    public static func invalidFilter(_ detail: String) -> SCIMError { SCIMError(status: 400, .invalidFilter, detail) }
    public static func invalidPath(_ detail: String) -> SCIMError { SCIMError(status: 400, .invalidPath, detail) }
    public static func invalidSyntax(_ detail: String) -> SCIMError { SCIMError(status: 400, .invalidSyntax, detail) }
    public static func invalidValue(_ detail: String) -> SCIMError { SCIMError(status: 400, .invalidValue, detail) }
    public static func mutability(_ detail: String) -> SCIMError { SCIMError(status: 400, .mutability, detail) }
    public static func noTarget(_ detail: String) -> SCIMError { SCIMError(status: 400, .noTarget, detail) }
    public static func tooMany(_ detail: String) -> SCIMError { SCIMError(status: 400, .tooMany, detail) }
    public static func uniqueness(_ detail: String) -> SCIMError { SCIMError(status: 409, .uniqueness, detail) }
    public static func notFound(_ detail: String) -> SCIMError { SCIMError(status: 404, nil, detail) }

    /// The response body.
    public var json: JSONValue {
        var body: [String: JSONValue] = [
            "schemas": .array([.string(Self.schema)]), "status": .string(String(status)), "detail": .string(detail),
        ]
        if let kind { body["scimType"] = .string(kind.rawValue) }
        return .object(body)
    }
}
