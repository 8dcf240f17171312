import Crypto
import CryptoExtras
import Foundation
import RampartCore
import SQLKit
import X509

/// The key pair Rampart's SAML service provider holds for one identity provider: the certificate
/// goes into the SP metadata (signing and encryption), the private key decrypts assertions.
public struct SAMLServiceProviderKey: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String
}

extension Tenant {
    /// How long the self-signed SP certificate is valid. IdPs use it as a key container and most
    /// ignore its dates; a long validity spares admins a re-import that would buy nothing.
    static let samlCertificateYears = 10

    public func samlServiceProviderKey(providerID: String, keys: KeyService) async throws -> SAMLServiceProviderKey? {
        guard let (certificate, sealed) = try await row(
            "SELECT certificate, private_key FROM saml_sp_keys WHERE org_id = ?1 AND provider_id = ?2", [orgID, providerID],
            { (try $0.text(0), try $0.text(1)) }) else { return nil }
        let clear = try await keys.open(sealed, in: self, table: "saml_sp_keys", row: providerID, column: "private_key")
        return SAMLServiceProviderKey(certificatePEM: certificate, privateKeyPEM: String(decoding: clear, as: UTF8.self))
    }

    /// The provider's SP key, made on first use (an RSA-2048 key, since IdPs encrypt to RSA-OAEP).
    /// Two nodes racing here both make one and the first stored wins; both then read it.
    public func ensureSAMLServiceProviderKey(providerID: String, keys: KeyService) async throws -> SAMLServiceProviderKey {
        if let existing = try await samlServiceProviderKey(providerID: providerID, keys: keys) { return existing }
        let made = try Self.makeSAMLServiceProviderKey(providerID: providerID, now: Date(timeIntervalSince1970: Double(clock().microseconds) / 1e6))
        let sealed = try await keys.seal(Data(made.privateKeyPEM.utf8), in: self, table: "saml_sp_keys", row: providerID,
                                         column: "private_key")
        try await sql.raw("""
            INSERT INTO saml_sp_keys (org_id, provider_id, certificate, private_key, created_at)
            VALUES (\(bind: orgID), \(bind: providerID), \(bind: made.certificatePEM), \(bind: sealed), \(bind: clock().microseconds))
            ON CONFLICT (org_id, provider_id) DO NOTHING
            """).run()
        return try await samlServiceProviderKey(providerID: providerID, keys: keys) ?? made
    }

    static func makeSAMLServiceProviderKey(providerID: String, now: Date) throws -> SAMLServiceProviderKey {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName("Rampart SAML service provider \(providerID)") }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(Double(samlCertificateYears) * 365 * 86_400), issuer: name, subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption, extensions: Certificate.Extensions {},
            issuerPrivateKey: Certificate.PrivateKey(key))
        return SAMLServiceProviderKey(certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
                                      privateKeyPEM: key.pkcs8PEMRepresentation)
    }
}
