import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// Log streams in the console: each stream's health (how far behind the log, last success,
/// last error, next attempt), a form to add one, and per stream a test record, pause and
/// resume, and deletion after a confirmation. The same storage calls as `/api/v1/log-streams`.
struct ConsoleLogStreamsController: ConsolePageController {
    let services: RampartServices

    /// The form of a new stream of `kind`: the fields every kind has, and the kind's own.
    static func fields(for kind: LogStreamKind) -> [ConsoleFormField] {
        let endpoint = kind.isHTTP
            ? ConsoleFormField(name: "endpoint", label: kind == .sentinel ? "Data collection endpoint (https URL)"
                : kind == .splunkHEC ? "HEC URL (https; /services/collector/event when no path is given)" : "Receiver URL (https)",
                               apiName: "endpoint", type: "url", required: true)
            : ConsoleFormField(name: "endpoint", label: "Receiver (host:port)", apiName: "endpoint", required: true)
        var fields = [ConsoleFormField(name: "name", label: "Name", apiName: "name", required: true), endpoint]
        switch kind {
        case .syslog: break
        case .splunkHEC:
            fields += [ConsoleFormField(name: "token", label: "HEC token", apiName: "token", type: "password", required: true),
                       ConsoleFormField(name: "index", label: "Index (leave empty for the token's default)", apiName: "index")]
        case .webhook:
            fields += [ConsoleFormField(name: "secret", label: "Signing secret (leave empty to have one generated, shown once)",
                                        apiName: "secret", type: "password")]
        case .sentinel:
            fields += [ConsoleFormField(name: "tenant_id", label: "Entra ID tenant", apiName: "tenantId"),
                       ConsoleFormField(name: "client_id", label: "Application (client) id", apiName: "clientId", required: true),
                       ConsoleFormField(name: "client_secret", label: "Client secret", apiName: "clientSecret", type: "password",
                                        required: true),
                       ConsoleFormField(name: "dcr_immutable_id", label: "Data collection rule immutable id (dcr-…)",
                                        apiName: "dcrImmutableId", required: true),
                       ConsoleFormField(name: "stream_name", label: "Stream (Custom-…)", apiName: "streamName", required: true),
                       ConsoleFormField(name: "token_url", label: "Token URL (leave empty for Entra ID's, from the tenant)",
                                        apiName: "tokenUrl", type: "url")]
        }
        return fields + [
            ConsoleFormField(name: "format", label: "Format (\(kind.formats.map(\.rawValue).joined(separator: ", ")))",
                             apiName: "format"),
            ConsoleFormField(name: "start", label: "Send from (now, beginning, or a time such as 2026-12-01T00:00:00Z)",
                             apiName: "start"),
            ConsoleFormField(name: "personal_data", label: "People in events: full (default) or pseudonymous",
                             apiName: "personalData"),
            ConsoleFormField(name: "dead_letter_after",
                             label: "Attempts at a batch before it becomes a dead letter (default \(LogStream.defaultDeadLetterAfter))",
                             apiName: "deadLetterAfter", type: "number"),
            ConsoleFormField(name: "ca_certificate", label: "CA certificates to trust (PEM; leave empty for the system's)",
                             apiName: "caCertificate", multiline: true),
        ]
    }

    /// The receiver settings a form gives; an empty field gives nothing.
    static func receiverFields(_ form: ConsoleForm) -> LogStreamFields {
        func given(_ name: String) -> String? { form[name].trimmingCharacters(in: .whitespaces).isEmpty ? nil : form[name] }
        let target = LogStreamTarget(index: given("index"), tenantId: given("tenant_id"), clientId: given("client_id"),
                                     dcrImmutableId: given("dcr_immutable_id"), streamName: given("stream_name"),
                                     tokenUrl: given("token_url"))
        // A number that does not read as one is 0, which the checks refuse with the field's message.
        let deadLetterAfter = given("dead_letter_after").map { Int64($0.trimmingCharacters(in: .whitespaces)) ?? 0 }
        return LogStreamFields(endpoint: form["endpoint"], format: given("format"), deadLetterAfter: deadLetterAfter,
                               personalData: given("personal_data"),
                               token: given("token"), secret: given("secret"),
                               clientSecret: given("client_secret"), target: target)
    }

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("log-streams", use: list)
        group.post("log-streams", use: create)
        group.get("log-streams/{id}", use: show)
        group.post("log-streams/{id}/test", use: test)
        group.post("log-streams/{id}/status", use: setStatus)
        group.get("log-streams/{id}/delete", use: confirmDelete)
        group.post("log-streams/{id}/delete", use: delete)
        group.post("log-streams/{id}/dead-letters/{deadLetterId}/replay", use: replay)
        group.get("log-streams/{id}/dead-letters/{deadLetterId}/discard", use: confirmDiscard)
        group.post("log-streams/{id}/dead-letters/{deadLetterId}/discard", use: discard)
    }

    /// The list, and the form for the kind the query names (`?kind=webhook`; syslog by default).
    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let kind = request.uri.queryParameters.get("kind").flatMap(LogStreamKind.init(rawValue:)) ?? .syslog
        return try await listPage(request, context, kind: kind, form: ["start": "now"])
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, kind: LogStreamKind, form: [String: String],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (streams, head) = try await read(context, .readAuditLog) { (try await $0.logStreams(), try await $0.auditHead()) }
        // A secret typed into a refused form is not sent back into the page.
        let fields = Self.fields(for: kind)
        let secrets = Set(fields.filter { $0.type == "password" }.map(\.name))
        let typed = form.filter { !secrets.contains($0.key) }
        let kinds = LogStreamKind.allCases.map { ["kind": $0.rawValue, "label": Self.label($0), "chosen": $0 == kind] }
        return ConsoleRenderer.page("log-streams", ConsolePage.values(context, title: "Log streams", active: "streams", extra: [
            "streams": streams.map { Self.values(LogStreamBody($0, head: head)) }, "hasStreams": !streams.isEmpty,
            "canManageStreams": context.principal?.can(.manageLogStreams) ?? false,
            "kinds": kinds, "kind": kind.rawValue, "kindLabel": Self.label(kind),
        ].merging(ConsoleFormField.values(fields, typed: typed, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        let kind = LogStreamKind(rawValue: form["kind"]) ?? .syslog
        do {
            let start = form["start"].trimmingCharacters(in: .whitespaces)
            let settings = try LogStreamSettings(caCertificate: form["ca_certificate"], start: start.isEmpty ? nil : start)
            let keys = services.keys
            let created = try await write(request, context, .manageLogStreams) {
                try await $0.createLogStream(name: form["name"], kind: kind, fields: Self.receiverFields(form),
                                             caCertificate: settings.trust.pem, start: settings.start, keys: keys, by: $1)
            }
            services.logStreamWatch.watch(try context.requirePrincipal().orgID)
            // A secret Rampart generated is shown on this one page and never again.
            if let secret = created.secret {
                return try await streamPage(request, context, id: created.stream.id, test: nil, generatedSecret: secret,
                                            status: .created)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.logStreamCreated.after("/console/log-streams/\(created.stream.id)"))
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, kind: kind, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await streamPage(request, context, id: try context.id(), test: nil)
    }

    /// The stream's page; after a test, with what the receiver did with the test record.
    private func streamPage(_ request: Request, _ context: RampartRequestContext, id: String, test: (passed: Bool, message: String)?,
                            generatedSecret: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (body, letters) = try await read(context, .readAuditLog) { tenant in
            (LogStreamBody(try await tenant.requireLogStream(id), head: try await tenant.auditHead()),
             try await tenant.logStreamDeadLetters(id))
        }
        return ConsoleRenderer.page("log-stream", ConsolePage.values(context, title: body.stream.name, active: "streams", extra: [
            "stream": Self.values(body), "canManageStreams": context.principal?.can(.manageLogStreams) ?? false,
            "deadLetters": letters.map { ["id": $0.id, "streamId": $0.streamID, "events": $0.events, "firstSequence": $0.firstSequence,
                                          "lastSequence": $0.lastSequence, "error": $0.error, "attempts": $0.attempts,
                                          "createdAt": ConsolePage.time($0.createdAt)] as [String: Any] },
            "hasDeadLetters": !letters.isEmpty,
            "hasTest": test != nil, "testPassed": test?.passed ?? false, "testMessage": test?.message ?? "",
            "generatedSecret": generatedSecret ?? "", "hasGeneratedSecret": generatedSecret != nil,
        ].merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func test(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        let keys = services.keys
        let (stream, secret, pseudonyms, actor) = try await write(request, context, .manageLogStreams) { tenant, audit in
            let stream = try await tenant.requireLogStream(id)
            return (stream, try await tenant.logStreamSecret(stream, keys: keys), try await tenant.logStreamPseudonyms(stream, keys: keys),
                    audit.actor)
        }
        do {
            try await LogStreamTestRecord.send(to: stream, secret: secret, pseudonyms: pseudonyms, orgID: try context.requirePrincipal().orgID, actor: actor,
                                               hostname: LogStreamSender.hostname(publicURL: services.configuration.publicURL))
            return try await streamPage(request, context, id: id, test: (true, "The receiver took the test record."))
        } catch let error as RampartError where error.code == .receiverUnreachable {
            return try await streamPage(request, context, id: id, test: (false, error.message), status: .badGateway)
        }
    }

    @Sendable func setStatus(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        guard let status = LogStreamStatus(rawValue: form["status"]) else {
            throw RampartError.invalidField("status", "must be active or paused")
        }
        let keys = services.keys
        _ = try await write(request, context, .manageLogStreams) {
            try await $0.updateLogStream(id, name: nil, caCertificate: .unchanged, status: status, keys: keys, by: $1)
        }
        services.logStreamWatch.watch(try context.requirePrincipal().orgID)
        return ConsoleRenderer.redirect(ConsoleNotice.updated.after("/console/log-streams/\(id)"))
    }

    @Sendable func confirmDelete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let stream = try await read(context, .manageLogStreams) { try await $0.requireLogStream(id) }
        return ConsoleConfirmation(
            question: "Delete the log stream \(stream.name)?",
            consequence: "Nothing more is sent to \(stream.endpoint), and its place in the log is forgotten: a new stream "
                + "starts from now, the beginning or a time you choose.",
            action: "/console/log-streams/\(stream.id)/delete", button: "Delete", cancel: "/console/log-streams/\(stream.id)"
        ).page(context, active: "streams")
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        try await write(request, context, .manageLogStreams) { try await $0.deleteLogStream(id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.deleted.after("/console/log-streams"))
    }

    /// Sends the dead letter's events again; the page says why when the receiver still refuses them.
    @Sendable func replay(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (id, letterID) = (try context.id(), try context.id("deadLetterId"))
        _ = try await form(request, context)
        let audit = try await write(request, context, .manageLogStreams) { tenant, audit in
            _ = try await tenant.requireLogStreamDeadLetter(id, letterID)
            return audit
        }
        do {
            _ = try await LogStreamDeadLetterReplay.replay(
                id, letterID, database: services.database, keys: services.keys, orgID: try context.requirePrincipal().orgID,
                hostname: LogStreamSender.hostname(publicURL: services.configuration.publicURL), by: audit)
            return ConsoleRenderer.redirect(ConsoleNotice.deadLetterReplayed.after("/console/log-streams/\(id)"))
        } catch let error as RampartError where error.code == .receiverUnreachable {
            return try await streamPage(request, context, id: id, test: (false, error.message), status: .badGateway)
        }
    }

    @Sendable func confirmDiscard(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (id, letterID) = (try context.id(), try context.id("deadLetterId"))
        let letter = try await read(context, .manageLogStreams) { try await $0.requireLogStreamDeadLetter(id, letterID) }
        return ConsoleConfirmation(
            question: "Discard the dead letter of events \(letter.firstSequence) to \(letter.lastSequence)?",
            consequence: "Its \(letter.events) events stay in the audit log, but this stream will not send them: the receiver "
                + "never gets them unless a new stream sends them from an earlier time.",
            action: "/console/log-streams/\(id)/dead-letters/\(letter.id)/discard", button: "Discard",
            cancel: "/console/log-streams/\(id)"
        ).page(context, active: "streams")
    }

    @Sendable func discard(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (id, letterID) = (try context.id(), try context.id("deadLetterId"))
        _ = try await form(request, context)
        _ = try await write(request, context, .manageLogStreams) {
            try await $0.removeLogStreamDeadLetter(id, letterID, replayed: false, by: $1)
        }
        return ConsoleRenderer.redirect(ConsoleNotice.deadLetterDiscarded.after("/console/log-streams/\(id)"))
    }

    static func label(_ kind: LogStreamKind) -> String {
        switch kind {
        case .syslog: "Syslog over TLS"
        case .splunkHEC: "Splunk HEC"
        case .webhook: "Webhook"
        case .sentinel: "Microsoft Sentinel"
        }
    }

    static func values(_ body: LogStreamBody) -> [String: Any] {
        let s = body.stream
        let failing = s.failures > 0
        let target = s.target
        let rows: [(String, String?)] = [("Format", s.format.rawValue), ("People in events", s.personalData.rawValue), ("Index", target.index), ("Tenant", target.tenantId),
                                         ("Client id", target.clientId), ("Data collection rule", target.dcrImmutableId),
                                         ("Stream", target.streamName), ("Token URL", target.tokenUrl),
                                         ("Secret", s.kind.secretField.map { _ in s.hasSecret ? "sealed" : "none" })]
        let settings = rows.compactMap { label, value in value.map { ["label": label, "value": $0] } }
        return ["id": s.id, "name": s.name, "kind": s.kind.rawValue, "kindLabel": label(s.kind), "endpoint": s.endpoint,
                "status": s.status.rawValue, "settings": settings,
                "paused": s.status == .paused, "failing": failing, "state": s.status == .paused ? "paused" : failing ? "failing" : "sending",
                "trust": s.caCertificate == nil ? "the system's root certificates" : "its own CA certificates",
                "cursor": s.cursor, "head": body.headSequence, "lag": body.lag,
                "lastSuccessAt": ConsolePage.time(s.lastSuccessAt), "lastError": s.lastError ?? "", "hasLastError": s.lastError != nil,
                "lastErrorAt": ConsolePage.time(s.lastErrorAt), "failures": s.failures,
                "nextAttemptAt": ConsolePage.time(s.nextAttemptAt), "createdAt": ConsolePage.time(s.createdAt),
                "deadLetterAfter": s.deadLetterAfter, "deadLetterCount": s.deadLetters]
    }
}
