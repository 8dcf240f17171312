import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// Log streams in the console: each stream's health (how far behind the log, last success,
/// last error, next attempt), a form to add one, and per stream a test record, pause and
/// resume, and deletion after a confirmation. The same storage calls as `/api/v1/log-streams`.
struct ConsoleLogStreamsController: ConsolePageController {
    let services: RampartServices

    static let fields = [ConsoleFormField(name: "name", label: "Name", apiName: "name", required: true),
                         ConsoleFormField(name: "endpoint", label: "Receiver (host:port)", apiName: "endpoint", required: true),
                         ConsoleFormField(name: "start", label: "Send from (now, beginning, or a time such as 2026-12-01T00:00:00Z)",
                                          apiName: "start"),
                         ConsoleFormField(name: "ca_certificate", label: "CA certificates to trust (PEM; leave empty for the system's)",
                                          apiName: "caCertificate", multiline: true)]

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("log-streams", use: list)
        group.post("log-streams", use: create)
        group.get("log-streams/{id}", use: show)
        group.post("log-streams/{id}/test", use: test)
        group.post("log-streams/{id}/status", use: setStatus)
        group.get("log-streams/{id}/delete", use: confirmDelete)
        group.post("log-streams/{id}/delete", use: delete)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context, form: ["start": "now"])
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, form: [String: String],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (streams, head) = try await read(context, .readAuditLog) { (try await $0.logStreams(), try await $0.auditHead()) }
        return ConsoleRenderer.page("log-streams", ConsolePage.values(context, title: "Log streams", active: "streams", extra: [
            "streams": streams.map { Self.values(LogStreamBody($0, head: head)) }, "hasStreams": !streams.isEmpty,
            "canManageStreams": context.principal?.can(.manageLogStreams) ?? false,
        ].merging(ConsoleFormField.values(Self.fields, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        do {
            let start = form["start"].trimmingCharacters(in: .whitespaces)
            let settings = try LogStreamSettings(caCertificate: form["ca_certificate"], start: start.isEmpty ? nil : start)
            let stream = try await write(request, context, .manageLogStreams) {
                try await $0.createLogStream(name: form["name"], kind: .syslog, endpoint: form["endpoint"],
                                             caCertificate: settings.trust.pem, start: settings.start, by: $1)
            }
            services.logStreamWatch.watch(try context.requirePrincipal().orgID)
            return ConsoleRenderer.redirect(ConsoleNotice.logStreamCreated.after("/console/log-streams/\(stream.id)"))
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await streamPage(request, context, test: nil)
    }

    /// The stream's page; after a test, with what the receiver did with the test record.
    private func streamPage(_ request: Request, _ context: RampartRequestContext, test: (passed: Bool, message: String)?,
                            status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try context.id()
        let body = try await read(context, .readAuditLog) { LogStreamBody(try await $0.requireLogStream(id), head: try await $0.auditHead()) }
        return ConsoleRenderer.page("log-stream", ConsolePage.values(context, title: body.stream.name, active: "streams", extra: [
            "stream": Self.values(body), "canManageStreams": context.principal?.can(.manageLogStreams) ?? false,
            "hasTest": test != nil, "testPassed": test?.passed ?? false, "testMessage": test?.message ?? "",
        ].merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func test(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        let (stream, actor) = try await write(request, context, .manageLogStreams) { tenant, audit in
            (try await tenant.requireLogStream(id), audit.actor)
        }
        do {
            try await LogStreamTestRecord.send(to: stream, orgID: try context.requirePrincipal().orgID, actor: actor,
                                               hostname: LogStreamSender.hostname(publicURL: services.configuration.publicURL))
            return try await streamPage(request, context, test: (true, "The receiver took the test record."))
        } catch let error as RampartError where error.code == .receiverUnreachable {
            return try await streamPage(request, context, test: (false, error.message), status: .badGateway)
        }
    }

    @Sendable func setStatus(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        guard let status = LogStreamStatus(rawValue: form["status"]) else {
            throw RampartError.invalidField("status", "must be active or paused")
        }
        _ = try await write(request, context, .manageLogStreams) {
            try await $0.updateLogStream(id, name: nil, endpoint: nil, caCertificate: .unchanged, status: status, by: $1)
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

    static func values(_ body: LogStreamBody) -> [String: Any] {
        let s = body.stream
        let failing = s.failures > 0
        return ["id": s.id, "name": s.name, "kind": s.kind.rawValue, "endpoint": s.endpoint, "status": s.status.rawValue,
                "paused": s.status == .paused, "failing": failing, "state": s.status == .paused ? "paused" : failing ? "failing" : "sending",
                "trust": s.caCertificate == nil ? "the system's root certificates" : "its own CA certificates",
                "cursor": s.cursor, "head": body.headSequence, "lag": body.lag,
                "lastSuccessAt": ConsolePage.time(s.lastSuccessAt), "lastError": s.lastError ?? "", "hasLastError": s.lastError != nil,
                "lastErrorAt": ConsolePage.time(s.lastErrorAt), "failures": s.failures,
                "nextAttemptAt": ConsolePage.time(s.nextAttemptAt), "createdAt": ConsolePage.time(s.createdAt)]
    }
}
