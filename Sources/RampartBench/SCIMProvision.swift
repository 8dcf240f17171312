import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// SCIM provisioning through HTTP, as an identity provider's first cycle does it: `users`
/// users (POST /Users from `connections` connections), `groups` groups (the first filled to
/// `bigGroup` members by PATCHes of 1,000), then the time of one PATCH adding and one removing
/// 1,000 members of the large group, and the latency of `userName eq` and `externalId eq`
/// lookups. Every response is checked (status, ids, member lists, totalResults), so a server
/// that misbehaves ends the run with an error instead of a figure. Prints one JSON object.
///
/// The client is Swift on AsyncHTTPClient because it shares the machine's cores with the
/// server: a load generator that costs more CPU per request than the server would measure
/// itself.
struct SCIMProvisionBenchmark {
    struct Options {
        var baseURL: String
        var token: String
        var users: Int
        var groups: Int
        var bigGroup: Int
        var connections: Int
        var lookups: Int
        /// The server's process, whose CPU time per created user is reported when given.
        var serverPID: Int32?
    }

    let options: Options

    func run() async throws {
        guard options.users > 0, options.groups > 0, options.connections > 0, options.lookups > 0,
              options.bigGroup % 1000 == 0, options.bigGroup + 1000 <= options.users else {
            throw BenchmarkFailure("need users > 0, groups > 0, connections > 0, lookups > 0, "
                                   + "a large group of a multiple of 1,000 members and 1,000 users beyond it")
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: options.connections)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        // One event-loop thread serves all the connections: fewer threads to wake than one per core.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let http = HTTPClient(eventLoopGroup: loops, configuration: configuration)
        do {
            let result = try await measure(SCIMClient(http: http, baseURL: options.baseURL, token: options.token))
            try await http.shutdown()
            try await loops.shutdownGracefully()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } catch {
            try? await http.shutdown()
            try? await loops.shutdownGracefully()
            throw error
        }
    }

    private func measure(_ client: SCIMClient) async throws -> ProvisionResult {
        let clientCPUBefore = ProcessCPU.selfSeconds()
        let serverCPUBefore = options.serverPID.flatMap(ProcessCPU.seconds(of:))
        let start = ContinuousClock.now
        let ids = try await createUsers(client)
        let userSeconds = RampartBench.secondsSince(start)
        let clientCPU = ProcessCPU.selfSeconds() - clientCPUBefore
        var serverCPU: Double?
        if let before = serverCPUBefore, let after = options.serverPID.flatMap(ProcessCPU.seconds(of:)) { serverCPU = after - before }

        let groupStart = ContinuousClock.now
        var groups: [String] = []
        for g in 0..<options.groups {
            // Every group but the large one starts with five members, as a group assigned in an identity provider does.
            let members = g == 0 ? [] : (0..<5).map { ids[(g * 7 + $0) % options.users] }
            let body = GroupBody(displayName: "group-" + zeroPadded(g, 4), members: members.map { .init(value: $0) })
            let created: GroupResponse = try await client.call(.POST, "/Groups", body: try SCIMClient.json(body), expect: .created)
            try check(created.displayName == body.displayName && Set(created.members?.map(\.value) ?? []) == Set(members),
                      "POST /Groups answered another group than it was sent: \(created.displayName)")
            groups.append(created.id)
        }
        let groupSeconds = RampartBench.secondsSince(groupStart)

        let big = groups[0]
        let fillStart = ContinuousClock.now
        for chunk in stride(from: 0, to: options.bigGroup, by: 1000) {
            _ = try await patchMembers(client, group: big, op: "add", Array(ids[chunk..<chunk + 1000]))
        }
        let fillSeconds = RampartBench.secondsSince(fillStart)
        let filled = Array(ids[0..<options.bigGroup])
        try await expectMembers(client, group: big, filled, after: "filling it")
        let extra = Array(ids[options.bigGroup..<options.bigGroup + 1000])
        let addSeconds = try await patchMembers(client, group: big, op: "add", extra)
        try await expectMembers(client, group: big, filled + extra, after: "adding 1,000")
        let removeSeconds = try await patchMembers(client, group: big, op: "remove", extra)
        try await expectMembers(client, group: big, filled, after: "removing 1,000")

        // An identity provider looks a user up before creating it; Okta compares userName case-insensitively.
        let byName = try await lookups(client, ids: ids, attribute: "userName") { Self.userName($0).uppercased() }
        let byExternal = try await lookups(client, ids: ids, attribute: "externalId") { "ext-\($0)" }
        return ProvisionResult(
            users: options.users, connections: options.connections,
            usersPerSecond: Int((Double(options.users) / userSeconds).rounded()), userSeconds: round(userSeconds, 1),
            clientCPUMsPerUser: round(clientCPU * 1000 / Double(options.users), 3),
            serverCPUMsPerUser: serverCPU.map { round($0 * 1000 / Double(options.users), 3) },
            groups: options.groups, groupsPerSecond: Int((Double(options.groups) / groupSeconds).rounded()),
            bigGroupMembers: options.bigGroup, bigGroupFillSeconds: round(fillSeconds, 2),
            patchAdd1000Ms: round(addSeconds * 1000, 1), patchRemove1000Ms: round(removeSeconds * 1000, 1),
            lookups: options.lookups,
            userNameEqP50Ms: round(byName.percentile(0.50), 2), userNameEqP99Ms: round(byName.percentile(0.99), 2),
            externalIdEqP50Ms: round(byExternal.percentile(0.50), 2),
            externalIdEqP99Ms: round(byExternal.percentile(0.99), 2))
    }

    /// Creates the users from `connections` tasks, each on its own connection, and returns their ids by index.
    private func createUsers(_ client: SCIMClient) async throws -> [String] {
        let users = options.users, connections = options.connections
        var ids = [String](repeating: "", count: users)
        try await withThrowingTaskGroup(of: [(Int, String)].self) { group in
            for worker in 0..<connections {
                group.addTask {
                    var created: [(Int, String)] = []
                    created.reserveCapacity(users / connections + 1)
                    for i in stride(from: worker, to: users, by: connections) {
                        let body = UserBody(index: i)
                        let user: UserResponse = try await client.call(.POST, "/Users", body: body.json, expect: .created)
                        try check(user.userName == body.userName && user.externalId == body.externalId && !user.id.isEmpty,
                                  "POST /Users answered another user than it was sent: \(user.userName)")
                        created.append((i, user.id))
                    }
                    return created
                }
            }
            for try await created in group {
                for (i, id) in created { ids[i] = id }
            }
        }
        try check(Set(ids).count == users, "POST /Users gave \(Set(ids).count) distinct ids for \(users) users")
        return ids
    }

    /// One PATCH of the large group, timed; the response leaves the member list out, as a
    /// client that only needs the outcome asks.
    private func patchMembers(_ client: SCIMClient, group: String, op: String, _ members: [String]) async throws -> Double {
        let body = PatchBody(operations: [.init(op: op, path: "members", value: members.map { .init(value: $0) })])
        let start = ContinuousClock.now
        let patched: GroupResponse = try await client.call(.PATCH, "/Groups/\(group)?excludedAttributes=members",
                                                           body: try SCIMClient.json(body), expect: .ok)
        let seconds = RampartBench.secondsSince(start)
        try check(patched.id == group && patched.members == nil, "PATCH \(op) members answered another group or its members")
        return seconds
    }

    private func expectMembers(_ client: SCIMClient, group: String, _ expected: [String], after step: String) async throws {
        let read: GroupResponse = try await client.call(.GET, "/Groups/\(group)", expect: .ok)
        let members = read.members?.map(\.value) ?? []
        try check(members.count == expected.count && Set(members) == Set(expected),
                  "the large group has \(members.count) members after \(step), \(expected.count) expected")
    }

    /// Times `options.lookups` filtered reads of random users, one at a time; each must find exactly that user.
    private func lookups(_ client: SCIMClient, ids: [String], attribute: String,
                         value: (Int) -> String) async throws -> [Double] {
        var times: [Double] = []
        times.reserveCapacity(options.lookups)
        for _ in 0..<options.lookups {
            let i = Int.random(in: 0..<options.users)
            let filter = "\(attribute) eq \"\(value(i))\""
            let start = ContinuousClock.now
            let list: ListResponse = try await client.call(.GET, "/Users?filter=\(SCIMClient.queryEscaped(filter))", expect: .ok)
            times.append(RampartBench.secondsSince(start) * 1000)
            try check(list.totalResults == 1 && (list.resources ?? []).map(\.id) == [ids[i]],
                      "\(filter) found \(list.totalResults) users, not user \(i)")
        }
        return times.sorted()
    }

    static func userName(_ i: Int) -> String { "user\(zeroPadded(i, 6))@bench.test" }

    private func round(_ value: Double, _ places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

private extension [Double] {
    /// The value below which `fraction` of the sorted times fall (nearest rank).
    func percentile(_ fraction: Double) -> Double {
        self[Swift.max(0, Int((Double(count) * fraction).rounded(.up)) - 1)]
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func zeroPadded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw BenchmarkFailure(message()) }
}

/// The SCIM endpoint over one HTTPClient; waits out 429 as an identity provider does.
struct SCIMClient: Sendable {
    let http: HTTPClient
    let baseURL: String
    let token: String

    func call<Response: Decodable>(_ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil,
                                   expect: HTTPResponseStatus) async throws -> Response {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/scim+json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/scim+json")
            request.body = .bytes(body)
        }
        for _ in 0..<50 {
            let response = try await http.execute(request, timeout: .seconds(120))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            if response.status == .tooManyRequests {
                // The per-token limit: wait as told.
                let wait = response.headers.first(name: "Retry-After").flatMap(Double.init) ?? 1
                try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                continue
            }
            guard response.status == expect else {
                throw BenchmarkFailure("\(method) \(path) answered \(response.status.code), \(expect.code) expected: "
                                       + String(decoding: bytes.readableBytesView.prefix(500), as: UTF8.self))
            }
            do {
                return try JSONDecoder().decode(Response.self, from: Data(bytes.readableBytesView))
            } catch {
                throw BenchmarkFailure("\(method) \(path) answered a body that is not the expected resource: \(error)")
            }
        }
        throw BenchmarkFailure("\(method) \(path) was rate limited 50 times in a row")
    }

    static func json(_ body: some Encodable) throws -> ByteBuffer { ByteBuffer(bytes: try JSONEncoder().encode(body)) }

    static func queryEscaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// CPU time (user and system) of a process, its own from the clock or another's from /proc.
enum ProcessCPU {
    static func selfSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Fields 14 and 15 of /proc/PID/stat, in clock ticks; the command name (field 2) may hold spaces, so count after its ')'.
    static func seconds(of pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

// The bodies Okta and Entra ID send.

/// A user as Okta and Entra ID create it. Written straight to JSON text: every value is made of
/// ASCII letters, digits, '@', '.' and '-', which JSON needs no escape for, and JSONEncoder cost
/// the client a tenth of its CPU, which the server on the same cores then lacked.
struct UserBody {
    let userName: String
    let externalId: String
    let familyName: String

    init(index i: Int) {
        userName = SCIMProvisionBenchmark.userName(i)
        externalId = "ext-\(i)"
        familyName = zeroPadded(i, 6)
    }

    var json: ByteBuffer {
        ByteBuffer(string: #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\#(userName)","#
                   + #""name":{"givenName":"User","familyName":"\#(familyName)"},"#
                   + #""emails":[{"value":"\#(userName)","type":"work","primary":true}],"#
                   + #""active":true,"externalId":"\#(externalId)"}"#)
    }
}

struct MemberReference: Codable, Equatable { let value: String }

struct GroupBody: Encodable {
    let schemas = ["urn:ietf:params:scim:schemas:core:2.0:Group"]
    let displayName: String
    let members: [MemberReference]
}

struct PatchBody: Encodable {
    struct Operation: Encodable { let op: String; let path: String; let value: [MemberReference] }
    let schemas = ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
    let operations: [Operation]
    enum CodingKeys: String, CodingKey { case schemas, operations = "Operations" }
}

struct UserResponse: Decodable { let id: String; let userName: String; let externalId: String? }

struct GroupResponse: Decodable { let id: String; let displayName: String; let members: [MemberReference]? }

struct ListResponse: Decodable {
    struct Resource: Decodable { let id: String }
    let totalResults: Int
    let resources: [Resource]?
    enum CodingKeys: String, CodingKey { case totalResults, resources = "Resources" }
}

struct ProvisionResult: Encodable {
    let users: Int, connections: Int, usersPerSecond: Int, userSeconds: Double
    let clientCPUMsPerUser: Double, serverCPUMsPerUser: Double?
    let groups: Int, groupsPerSecond: Int, bigGroupMembers: Int, bigGroupFillSeconds: Double
    let patchAdd1000Ms: Double, patchRemove1000Ms: Double
    let lookups: Int
    let userNameEqP50Ms: Double, userNameEqP99Ms: Double, externalIdEqP50Ms: Double, externalIdEqP99Ms: Double
}
