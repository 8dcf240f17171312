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
        return Base64.decode(body)
    }

    /// The base64 of the certificate's DER on one line, as in a KeyDescriptor's X509Certificate.
    static func base64Body(_ pem: String) -> String? { der(pem)?.base64EncodedString() }

    /// A PEM certificate from base64 DER, 64 characters a line.
    static func certificate(derBase64: String) -> String {
        let compact = String(decoding: derBase64.utf8.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }, as: UTF8.self)
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

/// Base64 as SAML carries it: line breaks and spaces allowed, dropped byte by byte (a filter over
/// Characters costs more than the rest of a validation).
enum Base64 {
    static func decode(_ text: String) -> Data? {
        var bytes = Array(text.utf8)
        bytes.removeAll { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        return Data(base64Encoded: Data(bytes))
    }
}

enum Fingerprint {
    static func sha256(_ data: Data) -> [UInt8] { Array(SHA256.hash(data: data)) }
    static func text(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined(separator: ":") }
}
