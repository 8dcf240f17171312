import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

extension Audit {
    /// `rampart audit consistency`: that the log an older signed checkpoint covers is the start
    /// of the log a newer one covers, by the consistency proof between their tree roots:
    /// fetched from the store, or read from a file saved earlier (the answer of
    /// `GET /api/v1/audit-proofs/consistency`, or `--output`), checked with nothing else. A
    /// witness gives the older checkpoint it kept (`--held`), which the store may have lost.
    struct Consistency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: """
            Prove that a newer checkpoint's log extends an older checkpoint's unchanged: check the consistency proof \
            between their tree roots; exit 0 when proven, 1 when not.
            """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Organisation id or slug (not with --proof).") var org: String?
        @Option(help: "The older tree's size: the sequence number of the checkpoint already held (default: --held's).")
        var first: Int64?
        @Option(help: "The newer checkpoint's sequence number (default: the newest that signs a tree root).")
        var second: Int64?
        @Option(help: ArgumentHelp("""
            Check a proof saved earlier (the JSON of GET /api/v1/audit-proofs/consistency, or of --output) without the store.
            """, valueName: "file"))
        var proof: String?
        @Option(help: ArgumentHelp("""
            The older checkpoint as kept elsewhere (one line of the witness file, or an item of GET \
            /api/v1/audit-checkpoints): the proof must lead from its tree root, not from the store's copy.
            """, valueName: "file"))
        var held: String?
        @Option(help: ArgumentHelp("Also write the proof as JSON to this file, to check it later with --proof.", valueName: "file"))
        var output: String?
        // As for `audit verify`: a base64url key may start with '-'.
        @Option(parsing: .unconditionalSingleValue,
                help: ArgumentHelp("A public key (base64url) both checkpoints must be signed with; repeatable.", valueName: "key"))
        var trustKey: [String] = []
        @Flag(help: "Print JSON.") var json = false

        struct Result: Encodable {
            let proven: Bool
            let reason: String?
            let firstSize: Int64
            let secondSize: Int64
            let firstRoot: String?
            let secondRoot: String?
            let publicKeys: [String]
        }

        func validate() throws {
            if proof != nil {
                guard org == nil, first == nil, second == nil, output == nil else {
                    throw ValidationError("--proof is checked on its own: leave out --org, --first, --second and --output.")
                }
                return
            }
            guard org != nil, first != nil || held != nil else {
                throw ValidationError("Give --org and --first (or --held), or --proof FILE.")
            }
            guard (first ?? 1) > 0, (second ?? 1) > 0 else { throw ValidationError("--first and --second must be tree sizes from 1 on.") }
        }

        func run() async throws {
            var proven = false
            try await runReportingErrors {
                let kept = try held.map {
                    try ProofFile.read(AuditCheckpoint.self, from: $0, kind: "a checkpoint",
                                       source: "one line of the witness file or an item of GET /api/v1/audit-checkpoints")
                }
                if let kept, let first, first != kept.sequence {
                    throw RampartError(.invalidParameter, "--first \(first) is not the size of the --held checkpoint (\(kept.sequence)).")
                }
                let found = if let proof {
                    (proof: try ProofFile.read(AuditConsistencyProof.self, from: proof, kind: "a consistency proof",
                                               source: "GET /api/v1/audit-proofs/consistency"), keys: Set<String>?.none)
                } else {
                    try await fetch(first: first ?? kept?.sequence ?? 0)
                }
                // From the store, the organisation's own keys are the trusted ones.
                let trusted: Set<String>? = if !trustKey.isEmpty { Set(trustKey) } else { found.keys }
                let p = found.proof
                let older = kept ?? p.first
                let verdict = if let kept { p.verify(from: kept, trustedKeys: trusted) } else { p.verify(trustedKeys: trusted) }
                proven = verdict.proven
                let keys = Array(Set([older?.publicKey, p.second.publicKey].compactMap { $0 })).sorted()
                let result = Result(proven: verdict.proven, reason: verdict.reason, firstSize: p.firstSize, secondSize: p.secondSize,
                                    firstRoot: older?.treeRoot, secondRoot: p.second.treeRoot, publicKeys: keys)
                try emit(json: json, result) {
                    guard verdict.proven else {
                        return "the tree of \(p.firstSize) events is not proven the start of the tree of \(p.secondSize): \(verdict.reason ?? "")"
                    }
                    let pinned = trusted == nil ? "; pin the organisation's key with --trust-key" : ""
                    return """
                        proven: the tree of \(p.firstSize) events (root \(older?.treeRoot ?? "")) is the start of the tree of \
                        \(p.secondSize) (root \(p.second.treeRoot ?? "")), both signed by \(keys.joined(separator: ", "))\(pinned)
                        """
                }
            }
            if !proven { throw ExitCode(1) }
        }

        /// The proof from the store, and the organisation's checkpoint keys.
        func fetch(first: Int64) async throws -> (proof: AuditConsistencyProof, keys: Set<String>?) {
            let (org, second) = (org ?? "", second)
            let found = try await store.withStore { database in
                let organization = try await resolveOrganization(org, in: database)
                return try await database.read(org: organization.id) { tenant in
                    (try await tenant.auditConsistencyProof(first: first, second: second),
                     Set(try await tenant.auditCheckpointPublicKeys().values))
                }
            }
            if let output { try ProofFile.write(found.0, to: output) }
            return (found.0, found.1)
        }
    }
}
