import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RampartCore
import RampartSCIM
import RampartStorage

/// What every SCIM controller shares: `application/scim+json` in and out, SCIM errors for
/// everything that goes wrong, the bearer SCIM token that names the organisation, the rate
/// limit, and the provisioning log entry of each request.
enum SCIMHTTP {
    static let contentType = "application/scim+json; charset=utf-8"
    static let maximumBody = 1024 * 1024
    static let prefix = "/scim/v2"

    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok, etag: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        if let etag { headers[.eTag] = etag }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.canonical)))
    }

    static func error(_ error: SCIMError) -> Response {
        var response = response(error.json, status: HTTPResponse.Status(code: error.status))
        response.headers[.cacheControl] = "no-store"
        if error.status == 401 { response.headers[.wwwAuthenticate] = "Bearer realm=\"rampart-scim\"" }
        return response
    }

    /// The body as JSON, after checking its media type and size.
    static func body(_ request: Request) async throws(SCIMError) -> JSONValue {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimming(.whitespaces).lowercased()
        guard type == "application/scim+json" || type == "application/json" else {
            throw SCIMError(status: 415, nil, "Send the body as application/scim+json.")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maximumBody) } catch {
            if MalformedFraming.matches(error) { throw .invalidSyntax(MalformedFraming.message) }
            throw SCIMError(status: 413, nil, "The body is larger than 1 MiB.")
        }
        let decoded = buffer.withUnsafeReadableBytes { raw in
            try? JSONValue.decode(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
        }
        guard let value = decoded else {
            throw .invalidSyntax("The body is not valid JSON.")
        }
        return value
    }

    /// A weak validator of a resource's representation: any change to what a client can read changes it.
    static func etag(_ resource: JSONValue) -> String {
        guard case .object(var o) = resource else { return "W/\"0\"" }
        o.removeValue(forKey: "meta")
        return "W/\"" + SecretToken.hash(JSONValue.object(o).canonical).prefix(20) + "\""
    }

    /// RFC 7232 conditional requests: `If-Match` guards changes, `If-None-Match` saves a GET.
    static func checkIfMatch(_ request: Request, _ current: String) throws(SCIMError) {
        guard let header = request.headers[.ifMatch] else { return }
        let tags = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard tags.contains("*") || tags.contains(current) else {
            throw SCIMError(status: 412, nil, "The resource has changed since the version given in If-Match.")
        }
    }

    static func notModified(_ request: Request, _ current: String) -> Bool {
        guard let header = request.headers[.ifNoneMatch] else { return false }
        return header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains { $0 == "*" || $0 == current }
    }

    /// `location` base for resources: the public URL the administrator configured.
    static func base(_ services: RampartServices) -> String {
        PublicLink.to(prefix, at: services.configuration.publicURL)
    }

    /// Maps domain errors to SCIM's: conflicts are `uniqueness`, bad fields `invalidValue`.
    static func scimError(_ error: any Error) -> SCIMError {
        switch error {
        case let error as SCIMError: return error
        case let error as RampartError:
            switch error.code {
            case .conflict:
                return error.message.contains("org-admin") ? SCIMError(status: 409, nil, error.message) : .uniqueness(error.message)
            case .notFound: return .notFound(error.message)
            case .invalidField, .invalidParameter, .invalidJSON, .unknownField: return .invalidValue(error.message)
            case .unauthorized: return SCIMError(status: 401, nil, "Send a valid SCIM token as 'Authorization: Bearer <token>'.")
            case .databaseUnavailable: return SCIMError(status: 503, nil, "The database does not answer; try again shortly.")
            default: return SCIMError(status: 500, nil, "Something went wrong on our side; the request id identifies it.")
            }
        default:
            return SCIMError(status: 500, nil, "Something went wrong on our side; the request id identifies it.")
        }
    }
}

/// A SCIM request once its token is known: the tenant work runs in one transaction with the
/// token checked inside it, and the outcome lands in the provisioning log.
struct SCIMCall: Sendable {
    let services: RampartServices
    let limiter: TokenBucketLimiter

    static let unauthorized = SCIMError(status: 401, nil, "Send a valid SCIM token as 'Authorization: Bearer <token>'.")

    func secret(_ request: Request) throws(SCIMError) -> SecretToken {
        guard let header = request.headers.soleValue(.authorization),
              let credential = APITokenAuthenticator.bearerCredential(header),
              let secret = SecretToken(parsing: credential, as: .scimToken)
        else { throw Self.unauthorized }
        return secret
    }

    /// Runs `body` for an authenticated request and answers SCIM errors for every failure.
    /// `resourceType` and `resourceID` describe the request in the provisioning log.
    func handle(_ request: Request, _ context: RampartRequestContext, resourceType: String, resourceID: String?,
                write: Bool,
                _ body: @escaping @Sendable (Tenant, AuditContext) async throws -> (Response, String?)) async -> Response {
        let secret: SecretToken
        do { secret = try self.secret(request) } catch { return SCIMHTTP.error(error) }
        let tokenBox = TokenBox()
        var response: Response
        var createdID: String?
        var failure: SCIMError?
        do {
            let run: @Sendable (Tenant) async throws -> (Response, String?) = { tenant in
                guard let token = try await tenant.authenticateSCIMToken(secret) else { throw Self.unauthorized }
                tokenBox.token = token
                if let wait = limiter.admit(token.id) { throw RateLimited(seconds: wait) }
                var actor = token.actor
                actor.ip = context.remoteAddress?.ipAddress
                actor.userAgent = request.headers[.userAgent].map { String($0.prefix(256)) }
                let (response, created) = try await body(tenant, AuditContext(actor: actor, requestID: context.requestID))
                if write {
                    // A change is logged in its own transaction: one commit per provisioning request.
                    try await tenant.recordSCIMRequest(entry(request, response.status.code, nil, token, resourceType,
                                                             resourceID ?? created))
                    tokenBox.logged = true
                }
                return (response, created)
            }
            (response, createdID) = write ? try await services.database.write(org: secret.orgID, run)
                                          : try await services.database.read(org: secret.orgID, run)
        } catch let limited as RateLimited {
            let error = SCIMError(status: 429, nil, "Too many requests with this SCIM token; retry later.")
            failure = error
            response = SCIMHTTP.error(error)
            response.headers[.retryAfter] = String(limited.seconds)
        } catch {
            let mapped = SCIMHTTP.scimError(error)
            if mapped.status == 500 {
                context.logger.error("scim request failed", metadata: ["type": .string(String(reflecting: type(of: error)))])
            }
            failure = mapped
            response = SCIMHTTP.error(mapped)
        }
        guard let token = tokenBox.token else { return response }
        let now = Timestamp.now()
        let markUsed = services.tokenUsage.shouldRecord(token.id, lastUsed: token.lastUsedAt, now: now)
        // Successful reads are not logged: they are most of an identity provider's traffic (a lookup
        // before every create), and the log is for what changed and what failed.
        let needsEntry = !tokenBox.logged && (write || failure != nil)
        guard needsEntry || markUsed else { return response }
        let logEntry = !needsEntry ? nil : entry(request, response.status.code, failure, token, resourceType,
                                                     resourceID ?? createdID)
        try? await services.database.write(org: secret.orgID) { tenant in
            if let logEntry { try await tenant.recordSCIMRequest(logEntry) }
            if markUsed { try await tenant.markSCIMTokenUsed(token.id, at: now) }
        }
        return response
    }

    private func entry(_ request: Request, _ status: Int, _ failure: SCIMError?, _ token: SCIMToken,
                       _ resourceType: String, _ resourceID: String?) -> SCIMRequestEntry {
        SCIMRequestEntry(occurredAt: .now(), tokenID: token.id, method: request.method.rawValue, path: request.uri.path,
                         resourceType: resourceType, resourceID: resourceID, status: status,
                         scimType: failure?.kind?.rawValue, detail: failure?.detail)
    }
}

struct RateLimited: Error { let seconds: Int }

/// The token a transaction accepted, handed out of it for the provisioning log.
private final class TokenBox: @unchecked Sendable {
    var token: SCIMToken?
    /// Whether the request's log entry was written inside its own transaction.
    var logged = false
}
