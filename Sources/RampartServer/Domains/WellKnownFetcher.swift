import AsyncHTTPClient
import NIOCore
import RampartCore

/// Fetches a claim's well-known file over HTTPS: no redirects (a redirect could point at a
/// host the organisation does not control), a short deadline and a small body.
struct WellKnownFetcher: Sendable {
    /// Operators and tests only (`--domain-verification-http-base`): fetch the path from this
    /// base URL instead of `https://<domain>`, sending the domain as the Host header.
    var base: String?
    var timeout: TimeAmount = .seconds(5)
    static let bodyLimit = 4096

    /// The body, or why there is none, in words for the admin.
    func fetch(_ claim: DomainClaim) async -> Result<String, DomainFetchFailure> {
        let url = (base.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "https://\(claim.domain)")
            + DomainClaim.wellKnownPath
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                        timeout: .init(connect: .seconds(3), read: timeout)))
        let result = await fetch(url, host: claim, with: client)
        try? await client.shutdown()
        return result
    }

    private func fetch(_ url: String, host claim: DomainClaim, with client: HTTPClient) async -> Result<String, DomainFetchFailure> {
        var request = HTTPClientRequest(url: url)
        request.headers.replaceOrAdd(name: "Host", value: claim.domain)
        request.headers.replaceOrAdd(name: "User-Agent", value: "Rampart-Domain-Verification")
        do {
            let response = try await client.execute(request, timeout: timeout)
            guard response.status == .ok else {
                let moved = (300..<400).contains(Int(response.status.code))
                return .failure(DomainFetchFailure(message: "\(claim.wellKnownURL) answered HTTP \(response.status.code)"
                    + (moved ? " (a redirect, which is not followed: serve the file at this address)" : "")))
            }
            let body = try await response.body.collect(upTo: Self.bodyLimit)
            return .success(String(decoding: body.readableBytesView, as: UTF8.self))
        } catch is NIOTooManyBytesError {
            return .failure(DomainFetchFailure(message: "\(claim.wellKnownURL) is larger than \(Self.bodyLimit) bytes; it must hold only the token line"))
        } catch {
            return .failure(DomainFetchFailure(message: "\(claim.wellKnownURL) could not be fetched (\(Self.describe(error)))"))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "no answer in time" }
            if error == .remoteConnectionClosed { return "the connection was closed" }
        }
        let text = String(describing: error)
        if text.contains("connectTimeout") { return "no answer in time" }
        if text.contains("onnection refused") || text.contains("connectionRefused") { return "the connection was refused" }
        if text.lowercased().contains("tls") || text.lowercased().contains("ssl") || text.contains("certificate") {
            return "the TLS handshake failed; the certificate must be valid for the domain"
        }
        return "the host could not be reached"
    }
}

struct DomainFetchFailure: Error, Sendable { let message: String }
