import Hummingbird
import NIOCore
import RampartCore
import RampartStorage

/// Per-request state: the request id, the client's address, and, once authenticated, the principal.
public struct RampartRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Asked of the channel only by the requests that record it (changes, sign-ins): the
    /// channel takes a lock to answer.
    public var remoteAddress: SocketAddress? { channel.remoteAddress }
    private let channel: any Channel
    public var requestID: String = ""
    /// Set by `APIRouter` for the admin API's routes.
    var pathParameters = PathParameters()
    /// Set by the API authenticator: the presented token, checked later inside the request's transaction.
    public var credential: SecretToken?
    /// Set for console requests from a signed-in person.
    public var principal: Principal?
    public var consoleSession: ConsoleSession?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    func requireCredential() throws -> SecretToken {
        guard let credential else { throw APITokenAuthenticator.unauthorized }
        return credential
    }

    /// Console handlers behind the session middleware can rely on a principal.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw RampartError(.unauthorized, "Authentication required.") }
        return principal
    }
}

/// Who is calling, resolved in one place from whichever credential they presented.
/// The organisation comes from the credential and from nowhere else.
public struct Principal: Sendable {
    public let orgID: String
    public let roles: Set<Role>
    public let actor: AuditActor

    public func can(_ permission: Permission) -> Bool { roles.contains { $0.allows(permission) } }

    public func require(_ permission: Permission) throws {
        guard can(permission) else {
            throw RampartError(.forbidden, "Your role does not allow this; ask an org-admin.")
        }
    }

    /// The audit context of a change made by this principal in this request.
    func auditContext(_ context: RampartRequestContext, request: Request) -> AuditContext {
        var actor = self.actor
        actor.ip = context.remoteAddress?.ipAddress
        actor.userAgent = request.headers[.userAgent].map { String($0.prefix(256)) }
        return AuditContext(actor: actor, requestID: context.requestID)
    }
}
