/// The one error type of Rampart's domain.
///
/// `code` is stable and safe to show to a client; `message` is written for the person who
/// has to act on it and never carries secrets or personal data. Where the error was raised
/// is kept for logs only.
public struct RampartError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidJSON = Code(rawValue: "invalid_json")
        public static let unknownField = Code(rawValue: "unknown_field")
        public static let invalidField = Code(rawValue: "invalid_field")
        public static let invalidParameter = Code(rawValue: "invalid_parameter")
        /// The HTTP framing itself is broken (chunk sizes, lengths): the client's error.
        public static let malformedRequest = Code(rawValue: "malformed_request")
        public static let unauthorized = Code(rawValue: "unauthorized")
        public static let forbidden = Code(rawValue: "forbidden")
        public static let notFound = Code(rawValue: "not_found")
        public static let methodNotAllowed = Code(rawValue: "method_not_allowed")
        public static let conflict = Code(rawValue: "conflict")
        /// A policy change would leave no org-admin able to sign in; saved only with an override.
        public static let adminLockout = Code(rawValue: "admin_lockout")
        /// The person was already erased from the audit log: there is nothing left to destroy.
        public static let alreadyErased = Code(rawValue: "already_erased")
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        public static let unsupportedMediaType = Code(rawValue: "unsupported_media_type")
        public static let databaseUnavailable = Code(rawValue: "database_unavailable")
        /// A receiver Rampart sends to (a SIEM) could not be reached or refused what was sent.
        public static let receiverUnreachable = Code(rawValue: "receiver_unreachable")
        /// A domain's proof was looked for and not found (the message says where and what was there).
        public static let domainNotVerified = Code(rawValue: "domain_not_verified")
        public static let configuration = Code(rawValue: "configuration")
        public static let integrity = Code(rawValue: "integrity")
        public static let internalError = Code(rawValue: "internal")
    }

    public let code: Code
    public let message: String
    /// The request field the error is about, by its API name (`email`, `displayName`), when
    /// there is one: forms show the message beside that field.
    public let field: String?
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, field: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.field = field
        self.file = file
        self.line = line
    }

    public var description: String { "\(code): \(message)" }

    public static func notFound(_ what: String, file: String = #fileID, line: Int = #line) -> RampartError {
        RampartError(.notFound, "\(what) not found.", file: file, line: line)
    }

    public static func invalidField(_ field: String, _ problem: String, file: String = #fileID, line: Int = #line) -> RampartError {
        RampartError(.invalidField, "Field '\(field)' \(problem).", field: field, file: file, line: line)
    }
}
