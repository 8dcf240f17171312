import Hummingbird
import RampartCore
import RampartStorage
import RampartStreams

/// Log streams: where the organisation's audit log is sent (`/log-streams`), with each
/// stream's health and a test record on demand.
struct LogStreamsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/log-streams", list),
            APIRoute(.post, "/log-streams", create),
            APIRoute(.get, "/log-streams/{id}", show),
            APIRoute(.patch, "/log-streams/{id}", update),
            APIRoute(.delete, "/log-streams/{id}", delete),
            APIRoute(.post, "/log-streams/{id}/test", test),
            APIRoute(.get, "/log-streams/{id}/dead-letters", deadLetters),
            APIRoute(.post, "/log-streams/{id}/dead-letters/{deadLetterId}/replay", replay),
            APIRoute(.delete, "/log-streams/{id}/dead-letters/{deadLetterId}", discard),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        let kind: LogStreamKind
        let caCertificate: String?
        let start: String?
        let receiver: LogStreamFields
        static let fields: Set<String> = LogStreamFields.names.union(["name", "kind", "caCertificate", "start"])
        static let required: Set<String> = ["name", "kind", "endpoint"]

        enum CodingKeys: CodingKey { case name, kind, caCertificate, start }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            kind = try c.decode(LogStreamKind.self, forKey: .kind)
            caCertificate = try c.decodeIfPresent(String.self, forKey: .caCertificate)
            start = try c.decodeIfPresent(String.self, forKey: .start)
            receiver = try LogStreamFields(from: decoder)
        }
    }

    struct UpdateRequest: StrictBody {
        let name: String?
        let caCertificate: String?
        let status: LogStreamStatus?
        let receiver: LogStreamFields
        static let fields: Set<String> = LogStreamFields.names.union(["name", "caCertificate", "status"])

        enum CodingKeys: CodingKey { case name, caCertificate, status }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name)
            caCertificate = try c.decodeIfPresent(String.self, forKey: .caCertificate)
            status = try c.decodeIfPresent(LogStreamStatus.self, forKey: .status)
            receiver = try LogStreamFields(from: decoder)
        }
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (streams, head) = try await read(context, .readAuditLog) { (try await $0.logStreams(), try await $0.auditHead()) }
        return try JSON.response(ListBody(data: streams.map { LogStreamBody($0, head: head) }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let settings = try LogStreamSettings(caCertificate: body.caCertificate, start: body.start)
        let keys = services.keys
        let (created, head) = try await write(request, context, .manageLogStreams) { tenant, audit in
            let created = try await tenant.createLogStream(name: body.name, kind: body.kind, fields: body.receiver,
                                                           caCertificate: settings.trust.pem, start: settings.start,
                                                           keys: keys, by: audit)
            return (created, try await tenant.auditHead())
        }
        let stream = created.stream
        services.logStreamWatch.watch(try context.requireCredential().orgID)
        var response = try JSON.response(LogStreamBody(stream, head: head, generatedSecret: created.secret), status: .created)
        response.headers[.location] = "/api/v1/log-streams/\(stream.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (stream, head) = try await read(context, .readAuditLog) { (try await $0.requireLogStream(id), try await $0.auditHead()) }
        return try JSON.response(LogStreamBody(stream, head: head))
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(UpdateRequest.self, from: request)
        let settings = try LogStreamSettings(caCertificate: body.caCertificate, start: nil)
        let keys = services.keys
        let (stream, head) = try await write(request, context, .manageLogStreams) { tenant, audit in
            let stream = try await tenant.updateLogStream(id, name: body.name, fields: body.receiver,
                                                          caCertificate: settings.trust, status: body.status, keys: keys, by: audit)
            return (stream, try await tenant.auditHead())
        }
        services.logStreamWatch.watch(try context.requireCredential().orgID)
        return try JSON.response(LogStreamBody(stream, head: head))
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .manageLogStreams) { try await $0.deleteLogStream(id, by: $1) }
        return JSON.noContent()
    }

    /// Sends one record outside the log to the receiver now; 502 with the reason when it is not taken.
    @Sendable func test(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let keys = services.keys
        let (stream, secret, pseudonyms, actor) = try await write(request, context, .manageLogStreams) { tenant, audit in
            let stream = try await tenant.requireLogStream(id)
            return (stream, try await tenant.logStreamSecret(stream, keys: keys), try await tenant.logStreamPseudonyms(stream, keys: keys),
                    audit.actor)
        }
        try await LogStreamTestRecord.send(to: stream, secret: secret, pseudonyms: pseudonyms, orgID: try context.requireCredential().orgID, actor: actor,
                                           hostname: LogStreamSender.hostname(publicURL: services.configuration.publicURL))
        return try JSON.response(["delivered": true])
    }
}

extension LogStreamsController {
    /// The batches the stream gave up on, oldest first.
    @Sendable func deadLetters(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let letters = try await read(context, .readAuditLog) { try await $0.logStreamDeadLetters(id) }
        return try JSON.response(ListBody(data: letters))
    }

    /// Sends the dead letter's events to the receiver now; 502 with the reason (and the dead
    /// letter kept) when it does not take them.
    @Sendable func replay(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (id, letterID) = (try context.id(), try context.id("deadLetterId"))
        let audit = try await write(request, context, .manageLogStreams) { tenant, audit in
            _ = try await tenant.requireLogStreamDeadLetter(id, letterID)
            return audit
        }
        let replayed = try await LogStreamDeadLetterReplay.replay(
            id, letterID, database: services.database, keys: services.keys, orgID: try context.requireCredential().orgID,
            hostname: LogStreamSender.hostname(publicURL: services.configuration.publicURL), by: audit)
        return try JSON.response(["replayed": replayed.events])
    }

    @Sendable func discard(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (id, letterID) = (try context.id(), try context.id("deadLetterId"))
        _ = try await write(request, context, .manageLogStreams) {
            try await $0.removeLogStreamDeadLetter(id, letterID, replayed: false, by: $1)
        }
        return JSON.noContent()
    }
}

/// The settings of a stream as a client sends them: an empty `caCertificate` means the
/// system's roots again; PEM text is checked to hold certificates before it is stored.
public struct LogStreamSettings: Sendable {
    public let trust: LogStreamTrust
    public let start: LogStreamStart

    public init(caCertificate raw: String?, start: String?) throws {
        switch raw {
        case nil: trust = .unchanged
        case let pem? where pem.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty: trust = .systemRoots
        case let pem?:
            _ = try TLSConnection.trustedCertificates(pem)
            trust = .pem(pem)
        }
        self.start = try start.map { try LogStreamStart(parsing: $0) } ?? .now
    }
}

/// A stream as the API shows it: its settings, its cursor and how far behind the log it is.
/// Its secret never: only `hasSecret`, and once, at creation, a secret Rampart generated.
public struct LogStreamBody: Encodable, Sendable {
    public let stream: LogStream
    public let headSequence: Int64
    public let generatedSecret: String?

    public init(_ stream: LogStream, head: ChainHead, generatedSecret: String? = nil) {
        self.stream = stream; self.headSequence = head.sequence; self.generatedSecret = generatedSecret
    }

    public var lag: Int64 { max(0, headSequence - stream.cursor) }

    struct Key: CodingKey {
        let stringValue: String
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(stream.id, forKey: Key("id"))
        try c.encode(stream.name, forKey: Key("name"))
        try c.encode(stream.kind, forKey: Key("kind"))
        try c.encode(stream.endpoint, forKey: Key("endpoint"))
        try c.encode(stream.format, forKey: Key("format"))
        if stream.kind.secretField != nil { try c.encode(stream.hasSecret, forKey: Key("hasSecret")) }
        if let generatedSecret { try c.encode(generatedSecret, forKey: Key("secret")) }
        // Only the settings the stream has: a syslog stream shows no Sentinel settings, not even as null.
        for (name, value) in stream.target.named { try c.encode(value, forKey: Key(name)) }
        try c.encode(stream.caCertificate, forKey: Key("caCertificate"))
        try c.encode(stream.status, forKey: Key("status"))
        try c.encode(stream.createdAt, forKey: Key("createdAt"))
        try c.encode(stream.cursor, forKey: Key("cursor"))
        try c.encode(headSequence, forKey: Key("headSequence"))
        try c.encode(lag, forKey: Key("lag"))
        try c.encode(stream.lastSuccessAt, forKey: Key("lastSuccessAt"))
        try c.encode(stream.lastError, forKey: Key("lastError"))
        try c.encode(stream.lastErrorAt, forKey: Key("lastErrorAt"))
        try c.encode(stream.failures, forKey: Key("failures"))
        try c.encode(stream.nextAttemptAt, forKey: Key("nextAttemptAt"))
        try c.encode(stream.personalData, forKey: Key("personalData"))
        try c.encode(stream.deadLetterAfter, forKey: Key("deadLetterAfter"))
        try c.encode(stream.deadLetters, forKey: Key("deadLetters"))
    }
}
