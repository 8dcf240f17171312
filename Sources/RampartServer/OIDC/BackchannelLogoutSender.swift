import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RampartCore
import RampartStorage
import ServiceLifecycle

/// Sends the logout tokens that ending a session queued (OpenID Connect Back-Channel Logout
/// 1.0): a form POST of `logout_token` to each product's back-channel logout URI.
///
/// Every `pollInterval` it looks for due deliveries in each organisation (a read) and claims
/// them (a write that leases them to this node), so with many nodes on one database each
/// delivery is sent by one. A 200 or 204 ends a delivery; anything else (another status, no
/// connection, no answer within `requestTimeout`) is tried again after a doubling, jittered
/// wait, and after `maxAttempts` the delivery is given up and the failure audited.
///
/// The token is signed at each attempt rather than when queued: it lives two minutes, less
/// than the retries may take, and the key that signs it is then the one the JWKS serves now.
/// Its `jti` stays the delivery's id, so a product can tell a retry of a token it took.
final class BackchannelLogoutSender: Service, Sendable {
    let services: RampartServices
    /// This process, as the holder of delivery leases.
    let owner = Identifier.make()
    static let pollInterval: Duration = .seconds(1)
    static let requestTimeout: TimeAmount = .seconds(10)
    static let leaseSeconds = 60.0
    static let maxAttempts = 6
    static let batchSize = 20

    init(services: RampartServices) { self.services = services }

    func run() async throws {
        // Certificates are verified against the system's roots (the client's default), and a
        // redirect is not followed: the token goes to the registered address or nowhere.
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                        timeout: .init(connect: .seconds(5))))
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await sweep(client)
            try? await Task.sleep(for: Self.pollInterval)
        }
        try? await client.shutdown()
    }

    private func sweep(_ client: HTTPClient) async {
        do {
            for organization in try await services.organizations.all() {
                while try await deliver(organization, client) {}
            }
        } catch {
            services.logger.info("back-channel logout sweep failed", metadata: ["error": .string("\(error)")])
        }
    }

    /// Sends one claimed batch of an organisation's due deliveries, in parallel; true when the
    /// batch was full (more may wait).
    private func deliver(_ organization: Organization, _ client: HTTPClient) async throws -> Bool {
        let orgID = organization.id
        let database = services.database
        guard try await database.read(org: orgID, { try await $0.hasDueLogoutDeliveries() }) else { return false }
        let owner = self.owner
        let until = Timestamp.now().adding(seconds: Self.leaseSeconds)
        let batch = try await database.write(org: orgID) {
            try await $0.claimLogoutDeliveries(owner: owner, until: until, limit: Self.batchSize)
        }
        let issuer = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        await withTaskGroup(of: Void.self) { group in
            for delivery in batch {
                group.addTask { await self.attempt(delivery, orgID: orgID, issuer: issuer, client: client) }
            }
        }
        return batch.count == Self.batchSize
    }

    private func attempt(_ delivery: LogoutDelivery, orgID: String, issuer: String, client: HTTPClient) async {
        let outcome: Result<Int, SendFailure>
        if let uri = delivery.uri {
            outcome = await send(delivery, to: uri, orgID: orgID, issuer: issuer, client: client)
        } else {
            outcome = .failure(SendFailure("the client no longer has a back-channel logout URI"))
        }
        let owner = self.owner
        do {
            try await services.database.write(org: orgID) { tenant in
                switch outcome {
                case .success(let status):
                    try await tenant.logoutDelivered(delivery, owner: owner, status: status)
                case .failure(let failure):
                    let retryAt = Timestamp.now().adding(seconds: Self.backoff(attempts: delivery.attempts))
                    try await tenant.logoutDeliveryFailed(delivery, owner: owner, error: failure.reason,
                                                          maxAttempts: Self.maxAttempts, retryAt: retryAt)
                }
            }
        } catch {
            services.logger.warning("back-channel logout outcome not recorded", metadata: ["error": .string("\(error)")])
        }
        if case .failure(let failure) = outcome {
            services.logger.warning("back-channel logout not delivered", metadata: [
                "event": "oauth.backchannel_logout_attempt_failed", "org_id": .string(orgID),
                "client_id": .string(delivery.clientID), "attempts": .stringConvertible(delivery.attempts + 1),
                "error": .string(failure.reason),
            ])
        }
    }

    struct SendFailure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private func send(_ delivery: LogoutDelivery, to uri: String, orgID: String, issuer: String,
                      client: HTTPClient) async -> Result<Int, SendFailure> {
        do {
            let claims = LogoutTokenClaims(iss: issuer, aud: delivery.clientID, jti: delivery.id, sub: delivery.subject,
                                           sid: delivery.sid, now: Int64(Date().timeIntervalSince1970))
            let token = try await services.oidcKeyring.sign(claims, orgID: orgID, type: LogoutTokenClaims.type)
            var request = HTTPClientRequest(url: uri)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.headers.add(name: "Cache-Control", value: "no-store")
            // A JWT is made of base64url and dots only: nothing in it needs form encoding.
            request.body = .bytes(ByteBuffer(string: "logout_token=" + token))
            let response = try await client.execute(request, timeout: Self.requestTimeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            return status == 200 || status == 204 ? .success(status) : .failure(SendFailure("HTTP \(status)"))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .failure(SendFailure("no answer within \(Self.requestTimeout.nanoseconds / 1_000_000_000) seconds"))
        } catch {
            return .failure(SendFailure(String(String(describing: error).prefix(200))))
        }
    }

    /// Seconds before the next attempt: 1, 2, 4, 8, 16 (then at most 300), each shortened by
    /// up to half at random so deliveries that failed together do not retry together.
    static func backoff(attempts: Int) -> Double {
        min(300.0, pow(2.0, Double(min(attempts, 9)))) * Double.random(in: 0.5...1.0)
    }
}
