import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import RampartCore
@testable import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Waits for a job to finish (the application's runner, or another test's on a shared store,
/// runs it) and returns it as the API shows it. A job made without the API is found by a
/// runner's discovery, every `AuditExportRunner.discoveryInterval`.
func finishedExport(_ api: API, _ id: String, seconds: Double = 60) async throws -> [String: Any] {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        let job = try await api.object(.get, "/audit-exports/\(id)", expect: .ok)
        if ["done", "failed"].contains(job["status"] as? String) { return job }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("audit export \(id) did not finish within \(seconds) s")
    return [:]
}

/// `/audit-exports`: exports that run on the server, are followed, and are downloaded from the
/// database by any node.
@Suite("Audit export jobs over the API")
struct AuditExportJobsAPITests {
    func seeded(_ client: any TestClientProtocol, _ store: TestStore, users: Int = 3) async throws -> (API, String) {
        let created = try await store.createOrganization()
        let api = API(client: client, token: created.apiToken)
        for index in 0..<users {
            _ = try await api.object(.post, "/users", json: #"{"email":"u\#(index)@jobs.example","displayName":"U, \#(index)"}"#,
                                     expect: .created)
        }
        return (api, created.organization.id)
    }

    /// A runner of the test's own with small pages, and a new job it has claimed: made and claimed
    /// in one transaction, so that no other runner on the store takes it first.
    func claimedByOwnRunner(_ store: TestStore, _ orgID: String, pageSize: Int,
                            chunkSize: Int = AuditExportRunner.chunkSize) async throws -> (AuditExportRunner, AuditExportJob) {
        let services = RampartServices(configuration: AppConfiguration(dataDirectory: store.dataDirectory,
                                                                       database: store.configuration),
                                       database: store.database, keys: store.keys, logger: testLogger)
        let runner = AuditExportRunner(services: services, pageSize: pageSize, chunkSize: chunkSize)
        let owner = runner.owner
        let job = try await store.database.write(org: orgID) { tenant in
            let job = try await tenant.createAuditExport(format: "jsonl", filter: .init(), by: .system)
            return try #require(try await tenant.claimAuditExport(job.id, owner: owner, until: Timestamp.now().adding(seconds: 60)))
        }
        return (runner, job)
    }

    /// Each format's job, once done, downloads as exactly the bytes the streaming export of the
    /// same filters gives for the same head.
    @Test(arguments: Backend.all)
    func aFinishedJobDownloadsAsTheStreamedExport(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store)
            let cases: [(body: String, query: String)] = [
                (#"{"format":"jsonl"}"#, "format=jsonl"),
                (#"{"format":"csv","action":"user."}"#, "format=csv&action=user."),
                (#"{"format":"cef","since":"2000-01-01T00:00:00Z"}"#, "format=cef&since=2000-01-01T00:00:00Z"),
                (#"{"format":"ocsf"}"#, "format=ocsf"),
            ]
            for (body, query) in cases {
                let created = try await api.object(.post, "/audit-exports", json: body, expect: .accepted)
                let id = try #require(created["id"] as? String)
                #expect(["queued", "running", "done"].contains(created["status"] as? String))
                let streamed = try await api.call(.get, "/audit-events/export?\(query)")
                #expect(streamed.headers[AuditDownload.exportHead] == String(created["headSequence"] as? Int ?? -1), "\(body)")
                #expect(created["eventsTotal"] as? Int == created["headSequence"] as? Int)

                let job = try await finishedExport(api, id)
                #expect(job["status"] as? String == "done", "\(job)")
                #expect(job["percent"] as? Int == 100 && job["eventsRead"] as? Int == job["eventsTotal"] as? Int)
                let download = try await api.call(.get, "/audit-exports/\(id)/download")
                #expect(download.status == .ok)
                #expect(Array(download.body.readableBytesView) == Array(streamed.body.readableBytesView), "\(body)")
                #expect(download.headers[.contentLength] == String(streamed.body.readableBytes))
                #expect(job["byteCount"] as? Int == streamed.body.readableBytes)
                #expect(download.headers[AuditDownload.contentDisposition] == streamed.headers[AuditDownload.contentDisposition])
                #expect(download.headers[.contentType] == streamed.headers[.contentType])
            }
            let csv = try await api.object(.get, "/audit-exports", expect: .ok)["data"] as! [[String: Any]]
            #expect(csv.count == cases.count)
            let filtered = try #require(csv.first(where: { $0["format"] as? String == "csv" }))
            #expect((filtered["filter"] as? [String: Any])?["action"] as? String == "user.")
            // Fewer kept than read: the organisation's other events are left out.
            #expect((filtered["eventsWritten"] as! Int) < (filtered["eventsRead"] as! Int))
            let requested = try await api.object(.get, "/audit-events?action=audit.export_requested&limit=200", expect: .ok)
            #expect((requested["data"] as! [Any]).count == cases.count)
            #expect(try await store.database.read(org: orgID) { try await $0.auditExports() }.count == cases.count)
        }
    }

    /// A job with search words keeps them (`filter.q`, lowercased), examines every event of its
    /// range (its progress counts them all), and writes exactly the streamed export of the same words.
    @Test(arguments: Backend.all)
    func searchWordsAreKeptWithTheJobAndNarrowItsFile(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store)
            let b = try await store.createOrganization()
            let apiB = API(client: client, token: b.apiToken)
            // Requested together, so that the runner works on them while the first is followed.
            var ids: [String: String] = [:]
            for format in ["jsonl", "csv", "cef", "ocsf"] {
                let created = try await api.object(.post, "/audit-exports", json: #"{"format":"\#(format)","q":"  U1@Jobs.Example  created "}"#,
                                                   expect: .accepted)
                #expect((created["filter"] as? [String: Any])?["q"] as? String == "u1@jobs.example created")
                ids[format] = try #require(created["id"] as? String)
            }
            // Another organisation's job with words that name this one's people finds nothing of it.
            let theirs = try await apiB.object(.post, "/audit-exports", json: #"{"format":"jsonl","q":"jobs.example"}"#,
                                               expect: .accepted)
            for (format, id) in ids {
                let job = try await finishedExport(api, id)
                #expect(job["status"] as? String == "done", "\(job)")
                #expect(job["eventsRead"] as? Int == job["eventsTotal"] as? Int, "every event of the range was examined")
                #expect(job["eventsWritten"] as? Int == 1, "u1's user.created only: \(job)")
                let download = try await api.call(.get, "/audit-exports/\(id)/download")
                let streamed = try await api.call(.get, "/audit-events/export?format=\(format)&q=u1@jobs.example+created")
                #expect(download.text == streamed.text, "\(format)")
                #expect(download.text.contains("u1@jobs.example") && !download.text.contains("u2@jobs.example"), "\(format)")
            }
            let theirsDone = try await finishedExport(apiB, try #require(theirs["id"] as? String))
            #expect(theirsDone["status"] as? String == "done" && theirsDone["eventsWritten"] as? Int == 0, "\(theirsDone)")
            #expect(try await apiB.call(.get, "/audit-exports/\(try #require(theirs["id"] as? String))/download").text.isEmpty)
            let listed = try await api.object(.get, "/audit-exports", expect: .ok)["data"] as! [[String: Any]]
            #expect(listed.count == 4 && listed.allSatisfy { ($0["filter"] as? [String: Any])?["q"] as? String == "u1@jobs.example created" })
            // The request's event says that words narrowed it, not which: they may name a person.
            let requested = try await api.object(.get, "/audit-events?action=audit.export_requested&limit=10", expect: .ok)
            let event = try #require((requested["data"] as? [[String: Any]])?.first)
            #expect((event["details"] as? [String: Any])?["searchWords"] as? Int == 2, "\(event)")
            #expect(!"\(event)".contains("u1@jobs.example"))
            let stored = try await store.database.read(org: orgID) { try await $0.auditExports() }
            #expect(stored.allSatisfy { $0.filter.search?.words == ["u1@jobs.example", "created"] })
        }
    }

    /// A runner with small pages stores its progress after each one: the job is seen part way,
    /// its count growing, and its file is cut into many chunks that download as one.
    @Test(arguments: Backend.all)
    func progressIsStoredPageByPage(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store, users: 12)
            let (runner, job) = try await claimedByOwnRunner(store, orgID, pageSize: 3, chunkSize: 256)
            let seen = NIOLockedValueBox<[AuditExportJob]>([])
            let database = store.database
            await runner.run(job, orgID: orgID) {
                let now = try? await database.read(org: orgID) { try await $0.requireAuditExport(job.id) }
                if let now { seen.withLockedValue { $0.append(now) } }
            }
            let progress = seen.withLockedValue { $0 }
            #expect(progress.count >= job.eventsTotal / 3)
            #expect(progress.map(\.eventsWritten) == progress.map(\.eventsWritten).sorted())
            #expect(progress.contains { $0.status == .running && $0.eventsWritten > 0 && $0.eventsWritten < job.eventsTotal },
                    "\(progress.map(\.eventsWritten))")
            let done = try #require(progress.last)
            #expect(done.status == .done && done.eventsWritten == job.eventsTotal && done.chunks > 2)
            let download = try await api.call(.get, "/audit-exports/\(job.id)/download")
            let streamed = try await api.call(.get, "/audit-events/export?format=jsonl")
            // The stream was taken later: the job's range is its first head events.
            let lines = streamed.text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(download.text == lines.prefix(Int(job.headSequence)).joined(separator: "\n") + "\n")
            #expect(Int64(download.body.readableBytes) == done.byteCount)
        }
    }

    /// A job whose node stopped mid-run (left `running` under a lease that ran out, with part of
    /// its file written) is taken by another runner, started over and finished.
    @Test(arguments: Backend.all)
    func anAbandonedJobIsFinishedByAnotherRunner(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store)
            let job = try await store.database.write(org: orgID) { tenant in
                let job = try await tenant.createAuditExport(format: "csv", filter: .init(), by: .system)
                let gone = Timestamp.now().adding(seconds: -1)
                _ = try #require(try await tenant.claimAuditExport(job.id, owner: "node-that-stopped", until: gone))
                #expect(try await tenant.recordAuditExportProgress(job.id, owner: "node-that-stopped", until: gone, eventsRead: 1,
                                                                   eventsWritten: 1, output: [Array("half a file".utf8)], done: false))
                return job
            }
            let streamed = try await api.call(.get, "/audit-events/export?format=csv")
            #expect(streamed.headers[AuditDownload.exportHead] == String(job.headSequence))
            let finished = try await finishedExport(api, job.id)
            #expect(finished["status"] as? String == "done")
            #expect(finished["attempts"] as? Int == 2)
            let download = try await api.call(.get, "/audit-exports/\(job.id)/download")
            #expect(download.text == streamed.text)
            #expect(!download.text.contains("half a file"))
        }
    }

    /// A server that stops cancels its runs and hands their jobs back: not failed, and finished
    /// by another runner at once (well before the 60 s its lease had left).
    @Test(arguments: Backend.all)
    func aStoppedRunHandsItsJobToAnotherNode(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store, users: 6)
            let (runner, job) = try await claimedByOwnRunner(store, orgID, pageSize: 2)
            let started = ContinuousClock.now
            // In a task of its own, cancelled after its first page as a stopping server cancels it.
            await withDiscardingTaskGroup { group in
                group.addTask { await runner.run(job, orgID: orgID) { withUnsafeCurrentTask { $0?.cancel() } } }
            }
            let finished = try await finishedExport(api, job.id)
            #expect(finished["status"] as? String == "done" && finished["attempts"] as? Int == 2, "\(finished)")
            #expect(ContinuousClock.now - started < .seconds(AuditExportRunner.leaseSeconds))
            let streamed = try await api.call(.get, "/audit-events/export?format=jsonl")
            let lines = streamed.text.split(separator: "\n", omittingEmptySubsequences: false)
            let download = try await api.call(.get, "/audit-exports/\(job.id)/download")
            #expect(download.text == lines.prefix(Int(job.headSequence)).joined(separator: "\n") + "\n")
        }
    }

    /// A job interrupted time after time is given up, with the reason, instead of running forever.
    @Test(arguments: Backend.all)
    func aJobInterruptedThreeTimesFails(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store, users: 0)
            let job = try await store.database.write(org: orgID) { tenant in
                let job = try await tenant.createAuditExport(format: "jsonl", filter: .init(), by: .system)
                for _ in 0..<AuditExportJob.maximumAttempts {
                    _ = try #require(try await tenant.claimAuditExport(job.id, owner: "stopping", until: Timestamp.now().adding(seconds: -1)))
                }
                return job
            }
            let failed = try await finishedExport(api, job.id)
            #expect(failed["status"] as? String == "failed")
            #expect((failed["error"] as? String)?.contains("interrupted 3 times") == true)
            let download = try await api.call(.get, "/audit-exports/\(job.id)/download")
            #expect(download.status == .conflict && download.errorCode == "conflict")
        }
    }

    @Test(arguments: Backend.all)
    func badRequestsMakeNoJob(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store, users: 1)
            let before = try await auditCount(store, orgID)
            let refused: [(String, String)] = [
                (#"{"format":"xml"}"#, "invalid_field"), (#"{"format":"bundle","action":"user."}"#, "invalid_field"),
                (#"{"format":"csv","since":"yesterday"}"#, "invalid_field"), (#"{"format":"csv","until":"2026-13-01"}"#, "invalid_field"),
                (#"{"action":"user."}"#, "invalid_field"), (#"{"format":"csv","filter":{}}"#, "unknown_field"),
                (#"{"format":1}"#, "invalid_field"), ("[]", "invalid_json"),
                (#"{"format":"csv","target":"a\u0000b"}"#, "invalid_field"),
                (#"{"format":"csv","q":"\#(String(repeating: "x", count: 201))"}"#, "invalid_field"),
                (#"{"format":"csv","q":"\#((1...11).map(String.init).joined(separator: " "))"}"#, "invalid_field"),
                (#"{"format":"csv","q":"a\u0000b"}"#, "invalid_field"), (#"{"format":"bundle","q":"ada"}"#, "invalid_field"),
                (#"{"format":"bundle","q":" "}"#, "invalid_field"), (#"{"format":"csv","q":7}"#, "invalid_field"),
            ]
            for (body, code) in refused {
                let response = try await api.call(.post, "/audit-exports", json: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorCode == code, "\(body): \(response.text)")
            }
            // The list's messages for too long a search and too many words, naming the field.
            for (q, problem) in [(String(repeating: "x", count: 201), "The search text must be at most 200 characters."),
                                 ((1...11).map(String.init).joined(separator: " "), "The search text must have at most 10 words.")] {
                let refused = try await api.call(.post, "/audit-exports", json: #"{"format":"jsonl","q":"\#(q)"}"#).jsonObject
                #expect((refused["error"] as? [String: Any])?["message"] as? String == "Field 'q': " + problem)
            }
            let message = try await api.call(.post, "/audit-exports", json: #"{"format":"xml"}"#).jsonObject
            #expect(((message["error"] as? [String: Any])?["message"] as? String)?.contains("jsonl, ocsf, cef, leef, csv, bundle") == true)
            #expect(try await api.call(.post, "/audit-exports", json: #"{"format":"csv"}"#, token: "rmp_not_a_token").status == .unauthorized)
            #expect((try await api.object(.get, "/audit-exports", expect: .ok)["data"] as! [Any]).isEmpty)
            #expect(try await auditCount(store, orgID) == before)
            let notAnID = try await api.call(.get, "/audit-exports/not-an-id")
            #expect(notAnID.status == .badRequest && notAnID.errorCode == "invalid_parameter")
            #expect(try await api.call(.get, "/audit-exports/\(UUID().uuidString.lowercased())").status == .notFound)
        }
    }

    /// Another organisation's token neither sees, downloads nor deletes a job, and its list is its own.
    @Test(arguments: Backend.all)
    func anotherOrganisationNeverReachesAJob(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (apiA, _) = try await seeded(client, store)
            let id = try #require(try await apiA.object(.post, "/audit-exports", json: #"{"format":"jsonl"}"#,
                                                        expect: .accepted)["id"] as? String)
            _ = try await finishedExport(apiA, id)
            let b = try await store.createOrganization()
            let apiB = API(client: client, token: b.apiToken)
            for (method, path) in [(HTTPRequest.Method.get, "/audit-exports/\(id)"), (.get, "/audit-exports/\(id)/download"),
                                   (.delete, "/audit-exports/\(id)")] {
                let response = try await apiB.call(method, path)
                #expect(response.status == .notFound && response.errorCode == "not_found", "\(method) \(path)")
                #expect(!response.text.contains("jobs.example"))
            }
            #expect((try await apiB.object(.get, "/audit-exports", expect: .ok)["data"] as! [Any]).isEmpty)
            let download = try await apiA.call(.get, "/audit-exports/\(id)/download")
            #expect(download.status == .ok && download.text.contains("jobs.example"))
        }
    }

    /// Deleting removes the job and its file with an event; expiry removes them after 24 hours.
    @Test(arguments: Backend.all)
    func deletedAndExpiredJobsAreGoneWithTheirFiles(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID) = try await seeded(client, store)
            var ids: [String] = []
            for _ in 0..<2 {
                let id = try #require(try await api.object(.post, "/audit-exports", json: #"{"format":"csv"}"#,
                                                           expect: .accepted)["id"] as? String)
                _ = try await finishedExport(api, id)
                ids.append(id)
            }
            #expect(try await api.call(.delete, "/audit-exports/\(ids[0])").status == .noContent)
            #expect(try await api.call(.get, "/audit-exports/\(ids[0])").status == .notFound)
            #expect(try await api.call(.get, "/audit-exports/\(ids[0])/download").status == .notFound)
            let deleted = try await api.object(.get, "/audit-events?action=audit.export_deleted", expect: .ok)["data"] as! [[String: Any]]
            #expect((deleted.first?["targets"] as? [[String: Any]])?.first?["id"] as? String == ids[0])

            let later = Timestamp.now().adding(seconds: AuditExportJob.lifetimeSeconds + 60)
            let purged = try await store.database.write(org: orgID) { try await $0.with(clock: { later }).purgeExpiredAuditExports() }
            #expect(purged == 1)
            #expect(try await api.call(.get, "/audit-exports/\(ids[1])").status == .notFound)
            let chunks = try await store.database.read(org: orgID) { tenant in
                try await tenant.sql.raw("SELECT COUNT(*) AS n FROM audit_export_chunks WHERE org_id = \(bind: orgID)").first()!
                    .decode(column: "n", as: Int64.self)
            }
            #expect(chunks == 0)
        }
    }
}
