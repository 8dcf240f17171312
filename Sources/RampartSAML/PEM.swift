import Crypto
import Foundation

/// PEM certificates as metadata and KeyInfo carry them (bare base64 DER) and back.
public enum PEM {
    /// The DER of the first certificate in `pem`; bare base64 (as in metadata) is accepted too.
    static func der(_ pem: String) -> Data? {
        var body = pem
        if let begin = pem.range(of: "-----BEGIN CERTIFICATE-----") {
            guard let end = pem.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<pem.endIndex) else { return nil }
            body = String(pem[begin.upperBound..<end.lowerBound])
        }
        return Data(base64Encoded: body.filter { !$0.isWhitespace })
    }

    /// The base64 of the certificate's DER on one line, as in a KeyDescriptor's X509Certificate.
    static func base64Body(_ pem: String) -> String? { der(pem)?.base64EncodedString() }

    /// A PEM certificate from base64 DER, 64 characters a line.
    static func certificate(derBase64: String) -> String {
        let compact = derBase64.filter { !$0.isWhitespace }
        var lines: [Substring] = []
        var index = compact.startIndex
        while index < compact.endIndex {
            let next = compact.index(index, offsetBy: 64, limitedBy: compact.endIndex) ?? compact.endIndex
            lines.append(compact[index..<next])
            index = next
        }
        return "-----BEGIN CERTIFICATE-----\n" + lines.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
    }

    /// The SHA-256 fingerprint of a PEM certificate as an admin compares it ("AB:CD:…"), or nil.
    public static func sha256Fingerprint(ofCertificate pem: String) -> String? {
        der(pem).map { Fingerprint.text(Fingerprint.sha256($0)) }
    }
}

enum Fingerprint {
    static func sha256(_ data: Data) -> [UInt8] { Array(SHA256.hash(data: data)) }
    static func text(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined(separator: ":") }
}
