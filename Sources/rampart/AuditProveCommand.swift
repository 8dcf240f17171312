import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

extension Audit {
    /// `rampart audit prove`: that one event is in the log, by its inclusion proof against a
    /// signed checkpoint's tree root: fetched from the store, or read from a file saved earlier
    /// (the answer of `GET /api/v1/audit-proofs/inclusion`, or `--output`), checked with nothing else.
    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: """
            Prove that an audit event is in the log: check its inclusion proof against a signed checkpoint's tree root; \
            exit 0 when proven, 1 when not.
            """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Organisation id or slug (not with --proof).") var org: String?
        @Option(help: "The event's sequence number.") var seq: Int64?
        @Option(help: "The tree size: the sequence of a checkpoint that signs a tree root (default: the newest).")
        var treeSize: Int64?
        @Option(help: ArgumentHelp("""
            Check a proof saved earlier (the JSON of GET /api/v1/audit-proofs/inclusion, or of --output) without the store.
            """, valueName: "file"))
        var proof: String?
        @Option(help: ArgumentHelp("Also write the proof as JSON to this file, to check it later with --proof.", valueName: "file"))
        var output: String?
        // As for `audit verify`: a base64url key may start with '-'.
        @Option(parsing: .unconditionalSingleValue,
                help: ArgumentHelp("A public key (base64url) the checkpoint must be signed with; repeatable.", valueName: "key"))
        var trustKey: [String] = []
        @Flag(help: "Print JSON.") var json = false

        struct Result: Encodable {
            let proven: Bool
            let reason: String?
            let sequence: Int64
            let treeSize: Int64
            let eventHash: String
            let treeRoot: String?
            let publicKey: String
            let signedAt: Timestamp
        }

        func validate() throws {
            if proof != nil {
                guard org == nil, seq == nil, treeSize == nil, output == nil else {
                    throw ValidationError("--proof is checked on its own: leave out --org, --seq, --tree-size and --output.")
                }
                return
            }
            guard org != nil, let seq else { throw ValidationError("Give --org and --seq, or --proof FILE.") }
            guard seq > 0 else { throw ValidationError("--seq must be a sequence number from 1 on.") }
            if let treeSize, treeSize < 1 { throw ValidationError("--tree-size must be a checkpoint's sequence number.") }
        }

        func run() async throws {
            var proven = false
            try await runReportingErrors {
                let found = if let proof { try Self.read(proof) } else { try await fetch() }
                // From the store, the organisation's own keys are the trusted ones.
                let trusted: Set<String>? = if !trustKey.isEmpty { Set(trustKey) } else { found.keys }
                let verdict = found.proof.verify(trustedKeys: trusted)
                proven = verdict.proven
                let p = found.proof
                let result = Result(proven: verdict.proven, reason: verdict.reason, sequence: p.sequence, treeSize: p.treeSize,
                                    eventHash: p.eventHash, treeRoot: p.checkpoint.treeRoot, publicKey: p.checkpoint.publicKey,
                                    signedAt: p.checkpoint.signedAt)
                try emit(json: json, result) {
                    guard verdict.proven else { return "event \(p.sequence) not proven: \(verdict.reason ?? "")" }
                    let pinned = trusted == nil ? "; pin the organisation's key with --trust-key" : ""
                    return """
                        event \(p.sequence) proven: in the tree of \(p.treeSize) events whose root \(p.checkpoint.treeRoot ?? "") \
                        was signed at \(p.checkpoint.signedAt.rfc3339) by \(p.checkpoint.publicKey)\(pinned)
                        """
                }
            }
            if !proven { throw ExitCode(1) }
        }

        /// The proof from the store, and the organisation's checkpoint keys.
        func fetch() async throws -> (proof: AuditInclusionProof, keys: Set<String>?) {
            let (org, seq, treeSize) = (org ?? "", seq ?? 0, treeSize)
            let found = try await store.withStore { database in
                let organization = try await resolveOrganization(org, in: database)
                return try await database.read(org: organization.id) { tenant in
                    (try await tenant.auditInclusionProof(sequence: seq, treeSize: treeSize),
                     Set(try await tenant.auditCheckpointPublicKeys().values))
                }
            }
            if let output { try ProofFile.write(found.0, to: output) }
            return (found.0, found.1)
        }

        static func read(_ path: String) throws -> (proof: AuditInclusionProof, keys: Set<String>?) {
            (try ProofFile.read(AuditInclusionProof.self, from: path, kind: "an inclusion proof",
                                source: "GET /api/v1/audit-proofs/inclusion"), nil)
        }
    }
}

/// A proof saved as JSON, to be checked later without the store.
enum ProofFile {
    static func write(_ proof: some Encodable, to path: String) throws {
        do { try Data(try JSONBodyEncoder.encode(proof, pretty: true)).write(to: URL(fileURLWithPath: path)) } catch {
            throw RampartError(.invalidParameter, "Cannot write \(path): check the path and its permissions.")
        }
    }

    /// `kind` and `source` name the proof and the API answer to save, for the error.
    static func read<Proof: Decodable>(_ type: Proof.Type, from path: String, kind: String, source: String) throws -> Proof {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw RampartError(.invalidParameter, "Cannot read the proof \(path): check the path and its permissions.")
        }
        guard let proof = try? JSONDecoder().decode(Proof.self, from: data) else {
            throw RampartError(.invalidParameter, "\(path) is not \(kind): save the answer of \(source), or use --output.")
        }
        return proof
    }
}
