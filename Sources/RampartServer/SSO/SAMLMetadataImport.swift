import AsyncHTTPClient
import Foundation
import NIOCore
import RampartCore
import RampartSAML

/// An IdP's SAML metadata — pasted, uploaded or fetched from its URL — read into the settings it
/// stands for (entity ID, single sign-on URL, signing certificates). The API, the console and the
/// CLI all import through here; a setting given beside the metadata wins over the document's.
public enum SAMLMetadataImport {
    public static let bodyLimit = 1024 * 1024

    /// Fills `input` from `xml`, else from the document at `url`; nothing when neither is given.
    public static func apply(xml: String?, url: String?, to input: inout IdentityProviderInput) async throws {
        let field: String, document: String
        if let xml, !xml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            (field, document) = ("metadataXml", xml)
        } else if let url, !url.isEmpty {
            (field, document) = ("metadataUrl", try await fetch(try Validate.url(url, field: "metadataUrl")))
        } else {
            return
        }
        let metadata: SAMLIdentityProviderMetadata
        do {
            metadata = try SAMLIdentityProviderMetadata.parse(document)
        } catch {
            throw RampartError.invalidField(field, "is not usable IdP metadata: \(error.detail)")
        }
        guard metadata.signingCertificatesPEM.count <= IdentityProviderInput.maximumCertificates else {
            throw RampartError.invalidField(field, "names \(metadata.signingCertificatesPEM.count) signing certificates; Rampart keeps two at most (the current one and the next during a rollover). Remove the others from the document, or give signingCertificates beside it")
        }
        input.importedFrom = field
        input.idpEntityId = input.idpEntityId ?? metadata.entityID
        input.ssoUrl = input.ssoUrl ?? metadata.singleSignOnRedirectURL
        input.signingCertificates = input.signingCertificates ?? metadata.signingCertificatesPEM
    }

    /// A bounded GET: no redirects (the admin gives the document's own address), short deadlines.
    private static func fetch(_ url: String) async throws -> String {
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                        timeout: .init(connect: .seconds(3), read: .seconds(8))))
        let result = await read(url, with: client)
        try? await client.shutdown()
        switch result {
        case .success(let document): return document
        case .failure(let problem):
            throw RampartError.invalidField("metadataUrl", "could not be read: \(problem.text). Check the address, or download the document and paste it as metadataXml")
        }
    }

    private struct Problem: Error { let text: String }

    private static func read(_ url: String, with client: HTTPClient) async -> Result<String, Problem> {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/samlmetadata+xml, application/xml, text/xml")
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            guard response.status == .ok else {
                let moved = (300..<400).contains(Int(response.status.code))
                return .failure(Problem(text: "it answered HTTP \(response.status.code)"
                    + (moved ? " (a redirect, which is not followed: give the document's own address)" : "")))
            }
            let body = try await response.body.collect(upTo: bodyLimit)
            return .success(String(decoding: body.readableBytesView, as: UTF8.self))
        } catch is NIOTooManyBytesError {
            return .failure(Problem(text: "the document is larger than 1 MiB"))
        } catch {
            return .failure(Problem(text: "it could not be reached"))
        }
    }
}
