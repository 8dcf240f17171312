import CLibXML2
import CXMLSec
import Foundation

/// libxml2 and libxmlsec1 are initialised once per process, on first use (Swift runs a global's
/// initialiser exactly once, thread-safely); afterwards each validation uses its own documents and
/// contexts, so validations run concurrently.
enum XMLSecurityLibrary {
    private static let initialised: Bool = rampart_xmlsec_initialize() == 0

    static func ensureInitialised() -> Bool { initialised }
}

/// A key loaded into xmlsec: an IdP's certificate (public key) or the SP's private key. Read-only
/// after loading; each use works on xmlsec's duplicate of it.
final class XMLSecKey: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    /// SHA-256 of the certificate's DER, for matching KeyInfo and for error messages.
    let fingerprint: [UInt8]

    private init(pointer: UnsafeMutableRawPointer, fingerprint: [UInt8]) {
        self.pointer = pointer
        self.fingerprint = fingerprint
    }

    deinit { rampart_xmlsec_destroy_key(pointer) }

    static func certificate(pem: String) -> XMLSecKey? {
        guard XMLSecurityLibrary.ensureInitialised(), let der = PEM.der(pem) else { return nil }
        let normalised = PEM.certificate(derBase64: der.base64EncodedString())
        let bytes = Array(normalised.utf8)
        guard let key = rampart_xmlsec_load_certificate(bytes, bytes.count) else { return nil }
        return XMLSecKey(pointer: key, fingerprint: Fingerprint.sha256(der))
    }

    static func privateKey(pem: String) -> XMLSecKey? {
        guard XMLSecurityLibrary.ensureInitialised() else { return nil }
        let bytes = Array(pem.utf8)
        guard let key = rampart_xmlsec_load_private_key(bytes, bytes.count) else { return nil }
        return XMLSecKey(pointer: key, fingerprint: [])
    }
}
