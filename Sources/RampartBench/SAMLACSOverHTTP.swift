import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RampartCore
import RampartSAML
import RampartSAMLTestSupport

/// `rampart-bench saml-acs-http`: whole SP-initiated sign-ins finished at a running server's ACS.
/// It adds a SAML provider through the admin API (an IdP made here, an openssl key), starts N
/// sign-ins (each an attempt row, a RelayState and a browser cookie), signs one response per
/// AuthnRequest (RSA-SHA256, signed assertion), and then times only the POSTs to the ACS over C
/// connections: the RelayState's attempt used once, the cookie, every check of the validator with
/// the signature, the assertion-ID replay cache row, the account and policy, a session and the
/// audit event, each in the database. One person signs in N times (after a first JIT sign-in).
enum SAMLACSOverHTTPBenchmark {
    struct Started {
        let requestID: String
        let relayState: String
        let cookie: String
    }

    static func run(baseURL: String, token: String, slug: String, responses count: Int, connections: Int) async throws {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let http = HTTPClient(eventLoopGroup: loops, configuration: configuration)
        let result: Result<JSONValue, any Error>
        do {
            result = .success(try await measure(http, baseURL: baseURL, token: token, slug: slug, responses: count,
                                                connections: connections))
        } catch {
            result = .failure(error)
        }
        try? await http.shutdown()
        try? await loops.shutdownGracefully()
        print(try result.get().canonical)
    }

    private static func measure(_ http: HTTPClient, baseURL: String, token: String, slug: String, responses count: Int,
                                connections: Int) async throws -> JSONValue {
        let keys = try TestKeyPair.generate(commonName: "bench-idp")
        let idp = TestIdentityProvider(keys: keys)
        let idpEntityID = "https://idp.bench.test/metadata", ssoURL = "https://idp.bench.test/sso"
        let created = try await call(http, .POST, baseURL + "/api/v1/identity-providers", token: token, json: JSONValue.object([
            "preset": .string("saml"), "name": .string("Bench SAML \(UUID().uuidString.prefix(8))"), "jit": .bool(true),
            "idpEntityId": .string(idpEntityID), "ssoUrl": .string(ssoURL),
            "signingCertificates": .array([.string(keys.certificatePEM)]),
            "attributes": .object(["email": .string("mail"), "groups": .string("groups")]),
        ]).canonical)
        guard case .object(let provider) = created, case .string(let id)? = provider["id"],
              case .string(let acsURL)? = provider["acsUrl"], case .string(let spEntityID)? = provider["spEntityId"] else {
            throw BenchmarkFailure("the provider was not created: \(created.canonical.prefix(500))")
        }
        let settings = SAMLProviderSettings(spEntityID: spEntityID, acsURL: acsURL, idpEntityID: idpEntityID,
                                            idpSigningCertificatesPEM: [keys.certificatePEM])
        let started = try await (0...count).asyncMap { _ in try await start(http, baseURL + "/o/\(slug)/sso/\(id)/start") }
        let now = Date()
        let bodies = try started.map { attempt in
            var response = TestResponse(settings: settings, inResponseTo: attempt.requestID, now: now)
            response.nameID = "bench.person@saml-bench.test"
            response.attributes = [("mail", [response.nameID]), ("groups", ["bench"])]
            let form = "SAMLResponse=" + formEncode(try idp.base64(response)) + "&RelayState=" + formEncode(attempt.relayState)
            return (form, attempt.cookie)
        }
        // The first sign-in creates the account (JIT); the timed ones find it linked.
        guard try await post(http, acsURL, bodies[0]) else { throw BenchmarkFailure("the first sign-in was refused") }
        let timed = Array(bodies.dropFirst())
        let startTime = ContinuousClock.now
        let accepted = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<connections {
                group.addTask {
                    var accepted = 0
                    for index in stride(from: lane, to: timed.count, by: connections) where try await post(http, acsURL, timed[index]) {
                        accepted += 1
                    }
                    return accepted
                }
            }
            return try await group.reduce(0, +)
        }
        let seconds = RampartBench.secondsSince(startTime)
        return JSONValue.object([
            "benchmark": .string("saml-acs-http"), "signIns": .int(Int64(timed.count)), "connections": .int(Int64(connections)),
            "signInsPerSecond": .int(Int64(Double(timed.count) / seconds)), "allAccepted": .bool(accepted == timed.count),
        ])
    }

    private static func start(_ http: HTTPClient, _ url: String) async throws -> Started {
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .seeOther, let location = response.headers.first(name: "Location"),
              let items = URLComponents(string: location)?.queryItems,
              let request = items.first(where: { $0.name == "SAMLRequest" })?.value,
              let relayState = items.first(where: { $0.name == "RelayState" })?.value,
              let cookie = response.headers["Set-Cookie"].first(where: { $0.hasPrefix("rampart_sso=") })?.split(separator: ";").first
        else { throw BenchmarkFailure("starting a sign-in answered \(response.status.code)") }
        let xml = String(decoding: try SAMLRedirectBinding.inflate(base64: request, limit: 64 * 1024), as: UTF8.self)
        guard let idStart = xml.range(of: " ID=\"")?.upperBound else { throw BenchmarkFailure("the AuthnRequest has no ID") }
        return Started(requestID: String(xml[idStart...].prefix { $0 != "\"" }), relayState: relayState, cookie: String(cookie))
    }

    /// Whether the ACS signed the person in (a session cookie on the continue page).
    private static func post(_ http: HTTPClient, _ url: String, _ body: (form: String, cookie: String)) async throws -> Bool {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Cookie", value: body.cookie)
        request.headers.add(name: "Sec-Fetch-Site", value: "cross-site")
        request.body = .bytes(ByteBuffer(string: body.form))
        let response = try await http.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status == .ok && response.headers["Set-Cookie"].contains { $0.hasPrefix("rampart_session=") && !$0.hasPrefix("rampart_session=;") }
    }

    private static func call(_ http: HTTPClient, _ method: HTTPMethod, _ url: String, token: String, json: String) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await http.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return try JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))
    }

    private static func formEncode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.intersection(.init(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))) ?? ""
    }
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
