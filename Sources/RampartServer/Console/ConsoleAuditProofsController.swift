import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// The audit log's Merkle proofs in the console: that an event is in the tree a signed
/// checkpoint covers, and that a checkpoint held elsewhere is the start of a newer one. Each page
/// shows the proof, checks it against the organisation's checkpoint keys, and offers it as the
/// same JSON as `GET /api/v1/audit-proofs/…`, which `rampart audit prove --proof` and
/// `rampart audit consistency --proof` check with nothing but the file: what the page says is
/// the server's word, the file is what an auditor checks for themselves.
struct ConsoleAuditProofsController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("audit/proofs", use: forms)
        group.get("audit/proofs/inclusion", use: inclusion)
        group.get("audit/proofs/inclusion/download", use: downloadInclusion)
        group.get("audit/proofs/consistency", use: consistency)
        group.get("audit/proofs/consistency/download", use: downloadConsistency)
    }

    /// The longest checkpoint the consistency form takes: one is about 450 characters.
    static let maxHeldCharacters = 4_000

    /// The page's two forms, each filled as it was sent.
    static let formFields = ["seq", "treeSize", "held", "first", "second"]

    static func form(_ request: Request) -> [String: String] {
        Dictionary(uniqueKeysWithValues: formFields.map { ($0, request.queryValue($0) ?? "") })
    }

    /// The forms alone, for a witness who comes with a checkpoint rather than an event.
    @Sendable func forms(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try context.requirePrincipal().require(.readAuditLog)
        return page(context, title: "Prove the audit log", form: Self.form(request))
    }

    // MARK: Inclusion

    @Sendable func inclusion(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await proofPage(request, context, asking: "Prove an event") {
            let (proof, keys) = try await inclusionProof(request, context)
            let verdict = proof.verify(trustedKeys: keys)
            let checkpoint = proof.checkpoint
            return ("Proof of event \(proof.sequence)", ["inclusion": [
                "proven": verdict.proven, "reason": verdict.reason ?? "", "sequence": proof.sequence,
                "eventHash": proof.eventHash, "treeSize": proof.treeSize, "treeRoot": checkpoint.treeRoot ?? "",
                "signedAt": ConsolePage.time(checkpoint.signedAt), "publicKey": checkpoint.publicKey,
                "path": proof.auditPath, "pathLength": proof.auditPath.count,
                "download": "/console/audit/proofs/inclusion/download?seq=\(proof.sequence)&treeSize=\(proof.treeSize)",
                "file": Self.inclusionFileName(proof),
            ] as [String: Any]])
        }
    }

    @Sendable func downloadInclusion(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let proof = try await inclusionProof(request, context).proof
        return try Self.attachment(proof, fileName: Self.inclusionFileName(proof))
    }

    private func inclusionProof(_ request: Request, _ context: RampartRequestContext) async throws
        -> (proof: AuditInclusionProof, keys: Set<String>)
    {
        // Before the parameters, as the API does: whoever may not read the log gets 403, not a verdict on the query.
        try context.requirePrincipal().require(.readAuditLog)
        guard let sequence = try AuditEventsController.positiveInteger(request, "seq") else {
            throw RampartError(.invalidParameter, "Give the sequence number of the event to prove (the # column of the audit log).")
        }
        let treeSize = try AuditEventsController.positiveInteger(request, "treeSize")
        return try await read(context, .readAuditLog) {
            (try await $0.auditInclusionProof(sequence: sequence, treeSize: treeSize),
             Set(try await $0.auditCheckpointPublicKeys().values))
        }
    }

    static func inclusionFileName(_ proof: AuditInclusionProof) -> String {
        "audit-\(proof.checkpoint.orgID)-event-\(proof.sequence)-in-\(proof.treeSize).proof.json"
    }

    // MARK: Consistency

    @Sendable func consistency(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await proofPage(request, context, asking: "Prove a checkpoint extended") {
            let (proof, held, keys) = try await consistencyProof(request, context)
            // The checkpoint pasted is the one to lead from: the store's copy may have been rewritten.
            let older = held ?? proof.first
            let verdict = if let held { proof.verify(from: held, trustedKeys: keys) } else { proof.verify(trustedKeys: keys) }
            return ("Consistency of \(proof.firstSize) and \(proof.secondSize) events", ["consistency": [
                "proven": verdict.proven, "reason": verdict.reason ?? "", "firstSize": proof.firstSize,
                "secondSize": proof.secondSize, "firstRoot": older?.treeRoot ?? "", "hasFirstRoot": older != nil,
                "fromHeld": held != nil, "secondRoot": proof.second.treeRoot ?? "",
                "signedAt": ConsolePage.time(proof.second.signedAt), "publicKey": proof.second.publicKey,
                "path": proof.consistencyPath, "pathLength": proof.consistencyPath.count,
                "download": "/console/audit/proofs/consistency/download?first=\(proof.firstSize)&second=\(proof.secondSize)",
                "file": Self.consistencyFileName(proof),
            ] as [String: Any]])
        }
    }

    @Sendable func downloadConsistency(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let proof = try await consistencyProof(request, context).proof
        return try Self.attachment(proof, fileName: Self.consistencyFileName(proof))
    }

    /// The proof from `first` (or from the size of the checkpoint pasted as `held`) to `second`.
    private func consistencyProof(_ request: Request, _ context: RampartRequestContext) async throws
        -> (proof: AuditConsistencyProof, held: AuditCheckpoint?, keys: Set<String>)
    {
        try context.requirePrincipal().require(.readAuditLog)
        let held = try Self.heldCheckpoint(request.queryValue("held"))
        let first = try AuditEventsController.positiveInteger(request, "first")
        if let held, let first, first != held.sequence {
            throw RampartError(.invalidParameter, """
                The tree size \(first) is not the size of the checkpoint you hold (\(held.sequence)): leave the size empty, or \
                correct it.
                """)
        }
        guard let size = first ?? held?.sequence else {
            throw RampartError(.invalidParameter, """
                Give the size of the tree you hold (its checkpoint's sequence), or paste that checkpoint.
                """)
        }
        let second = try AuditEventsController.positiveInteger(request, "second")
        let (proof, keys) = try await read(context, .readAuditLog) {
            (try await $0.auditConsistencyProof(first: size, second: second), Set(try await $0.auditCheckpointPublicKeys().values))
        }
        return (proof, held, keys)
    }

    /// A checkpoint as a witness keeps it: one line of the witness file, or an item of
    /// `GET /api/v1/audit-checkpoints`, pasted.
    static func heldCheckpoint(_ text: String?) throws -> AuditCheckpoint? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        guard text.count <= maxHeldCharacters, let checkpoint = try? JSONDecoder().decode(AuditCheckpoint.self, from: Data(text.utf8))
        else {
            throw RampartError(.invalidParameter, """
                The checkpoint you hold is not a checkpoint: paste one line of the witness file, or one item of GET \
                /api/v1/audit-checkpoints, as it is.
                """)
        }
        return checkpoint
    }

    static func consistencyFileName(_ proof: AuditConsistencyProof) -> String {
        "audit-\(proof.second.orgID)-consistency-\(proof.firstSize)-\(proof.secondSize).proof.json"
    }

    // MARK: Rendering

    /// What was asked for is wrong or not there, as opposed to no permission or a broken store.
    static func answersTheForm(_ error: RampartError) -> Bool {
        error.code == .invalidParameter || error.code == .notFound
    }

    /// A proof's page, or the forms again with the message when what was asked for is wrong
    /// or not there (titled `asking`); other errors get the console's error page.
    private func proofPage(_ request: Request, _ context: RampartRequestContext, asking: String,
                           _ shown: () async throws -> (title: String, values: [String: Any])) async throws -> Response {
        let form = Self.form(request)
        do {
            let (title, values) = try await shown()
            return page(context, title: title, form: form, values: values)
        } catch let error as RampartError where Self.answersTheForm(error) {
            return page(context, title: asking, form: form, error: error)
        }
    }

    private func page(_ context: RampartRequestContext, title: String, form: [String: String], values: [String: Any] = [:],
                      error: RampartError? = nil) -> Response {
        var extra = values
        extra["form"] = form
        extra["error"] = error?.message ?? ""
        extra["hasError"] = error != nil
        return ConsoleRenderer.page("audit-proof", ConsolePage.values(context, title: title, active: "audit", extra: extra),
                                    status: error?.httpStatus ?? .ok)
    }

    /// The proof as the API answers it, to be saved and checked offline.
    static func attachment(_ proof: some Encodable, fileName: String) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[AuditDownload.contentDisposition] = "attachment; filename=\"\(fileName)\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: try JSONBodyEncoder.encode(proof, pretty: true))))
    }
}
