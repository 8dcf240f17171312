import Hummingbird
import RampartCore
import RampartStorage

/// Reads `Authorization: Bearer rmp_…` into the request's credential. Only its form is
/// checked here; the token itself is looked up inside the transaction that serves the
/// request (`APIController`), which saves a database round trip per request and means a
/// token revoked a moment ago is refused by the very next request.
struct APITokenAuthenticator: RouterMiddleware {
    typealias Context = RampartRequestContext

    static let unauthorized = RampartError(.unauthorized,
                                           "Send a valid admin API token as 'Authorization: Bearer <token>'.")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers.soleValue(.authorization),
              let credential = Self.bearerCredential(header),
              let secret = SecretToken(parsing: credential, as: .apiToken)
        else { throw Self.unauthorized }
        var context = context
        context.credential = secret
        context.logger[metadataKey: JSONLogHandler.orgIDKey] = .string(secret.orgID)
        return try await next(request, context)
    }

    /// The credential of `Bearer <credential>`: the scheme in any case (RFC 9110, section
    /// 11.1), spaces and tabs around the credential dropped. Read as bytes: the header is
    /// ASCII when it is valid at all.
    static func bearerCredential(_ header: String) -> String? {
        let bytes = header.utf8
        let scheme = "bearer ".utf8
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ byte, expected in asciiLowercased(byte) == expected })
        else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let rest = bytes.dropFirst(scheme.count)
        guard let first = rest.firstIndex(where: { !isBlank($0) }), let last = rest.lastIndex(where: { !isBlank($0) })
        else { return nil }
        return String(Substring(bytes[first...last]))
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}

extension Tenant {
    /// The principal an API token stands for, if it is usable now. Unknown, expired and
    /// revoked tokens all answer the same 401, so none can be told apart.
    func principal(for secret: SecretToken, at now: Timestamp) async throws -> (Principal, APIToken) {
        guard let token = try await authenticateAPIToken(secret, at: now) else { throw APITokenAuthenticator.unauthorized }
        let principal = Principal(orgID: orgID, roles: [token.role],
                                  actor: AuditActor(type: .apiToken, id: token.id, name: token.name))
        return (principal, token)
    }
}
