import Foundation
import RampartCore
import RampartSAML
import RampartSAMLTestSupport

/// `rampart-bench saml-acs`: ACS validation throughput on all cores. An identity provider made
/// here (an openssl key, libxmlsec1 signing) signs N distinct responses (RSA-SHA256, signed
/// assertion, SP-initiated); then every core validates its share with every check, signature
/// included. Each response has its own assertion ID: the replay cache is the caller's (a database
/// row) and is not part of this figure. With --out DIR the responses, certificate and settings are
/// written for scripts/bench-lib/saml_acs_peer.py to validate the same responses with python3-saml.
enum SAMLACSBenchmark {
    static let requestID = "_bench0123456789abcdef0123456789"

    static func run(responses count: Int, tasks: Int, out: String?) async throws {
        let keys = try TestKeyPair.generate(commonName: "bench-idp")
        let settings = SAMLProviderSettings(spEntityID: "https://rampart.test/saml/sp/bench", acsURL: "https://rampart.test/saml/acs/bench",
                                            idpEntityID: "https://idp.bench.test/metadata", idpSigningCertificatesPEM: [keys.certificatePEM])
        let idp = TestIdentityProvider(keys: keys)
        let now = Date()
        let responses = try (0..<count).map { n in
            var response = TestResponse(settings: settings, inResponseTo: requestID, now: now)
            response.nameID = "user\(n)@bench.test"
            response.notOnOrAfter = now.addingTimeInterval(900)
            return try idp.base64(response)
        }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try (responses.joined(separator: "\n") + "\n").write(toFile: out + "/responses.b64", atomically: true, encoding: .utf8)
            try keys.certificatePEM.write(toFile: out + "/idp.crt", atomically: true, encoding: .utf8)
            let facts: JSONValue = .object([
                "spEntityId": .string(settings.spEntityID), "acsUrl": .string(settings.acsURL),
                "idpEntityId": .string(settings.idpEntityID), "requestId": .string(requestID),
            ])
            try facts.canonical.write(toFile: out + "/settings.json", atomically: true, encoding: .utf8)
        }
        let validator = SAMLResponseValidator(settings: settings)
        _ = try validator.validate(base64Response: responses[0], expectedRequestID: requestID, now: now)  // warm up
        let start = ContinuousClock.now
        let accepted = await withTaskGroup(of: Int.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var accepted = 0
                    for index in stride(from: task, to: responses.count, by: tasks)
                    where (try? validator.validate(base64Response: responses[index], expectedRequestID: requestID, now: now)) != nil {
                        accepted += 1
                    }
                    return accepted
                }
            }
            return await group.reduce(0, +)
        }
        let seconds = RampartBench.secondsSince(start)
        print(JSONValue.object([
            "benchmark": .string("saml-acs"), "responses": .int(Int64(count)), "tasks": .int(Int64(tasks)),
            "responsesPerSecond": .int(Int64(Double(count) / seconds)), "allAccepted": .bool(accepted == count),
            "bytesPerResponse": .int(Int64(responses[0].utf8.count)),
        ]).canonical)
    }
}
