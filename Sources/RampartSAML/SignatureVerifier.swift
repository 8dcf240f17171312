import CLibXML2
import CXMLSec
import Foundation

/// Verifies an enveloped XML signature with libxmlsec1 against the configured certificates and
/// returns what xmlsec digested, parsed: the caller reads that document, never the element found
/// in the message, so whatever a wrapping attack moves around, only signed bytes are read.
struct SignatureVerifier {
    let keys: [XMLSecKey]

    /// `signature` is a direct child of `element`, which must be what its one Reference names.
    func verify(_ signature: SAMLNode, of element: SAMLNode, what: String) throws(SAMLRejection) -> SAMLDocument {
        guard let id = element.attribute("ID"), !id.isEmpty else {
            throw SAMLRejection(.malformed, "the signed \(what) has no ID")
        }
        try checkAllowlists(signature, id: id, what: what)
        let presented = presentedCertificateFingerprint(signature)
        // Only configured keys; the certificate in KeyInfo merely picks which of them to try first.
        let candidates = keys.first { $0.fingerprint == presented }.map { [$0] } ?? keys
        for key in candidates {
            var bytes: UnsafeMutablePointer<UInt8>?
            var length = 0
            let outcome = rampart_xmlsec_verify(signature.pointer, key.pointer, &bytes, &length)
            guard Int(outcome) == Int(RAMPART_SIGNATURE_VALID), let bytes else { continue }
            defer { free(bytes) }
            let signed = try SAMLDocument.parse(UnsafeBufferPointer(start: bytes, count: length), what: "signed \(what)")
            guard let root = signed.root, root.localName == element.localName, root.namespace == element.namespace,
                  root.attribute("ID") == id
            else {
                throw SAMLRejection(.signatureInvalid, "the \(what)'s signature covers a different element")
            }
            try signed.registerIDs()
            return signed
        }
        if let presented, !keys.contains(where: { $0.fingerprint == presented }) {
            throw SAMLRejection(.certificateNotConfigured,
                                "the \(what) was signed with a certificate that is not configured for this identity provider; its SHA-256 fingerprint is \(Fingerprint.text(presented)). If the IdP has rolled over its certificate, add the new one (or import its metadata again)")
        }
        throw SAMLRejection(.signatureInvalid,
                            "the \(what)'s signature does not verify with the configured certificate: it was changed after signing, or signed with another key")
    }

    /// The algorithm and transform allowlists, checked here for a precise reason; xmlsec enforces
    /// the same lists again (rampart_xmlsec_verify enables only these).
    private func checkAllowlists(_ signature: SAMLNode, id: String, what: String) throws(SAMLRejection) {
        let ds = SAMLNamespace.xmldsig
        guard let signedInfo = signature.child(ds, "SignedInfo") else {
            throw SAMLRejection(.malformed, "the \(what)'s signature has no SignedInfo")
        }
        let canonicalization = signedInfo.child(ds, "CanonicalizationMethod")?.attribute("Algorithm") ?? ""
        guard canonicalization == SAMLAlgorithms.exclusiveC14N else {
            throw SAMLRejection(.transformNotAllowed, "the \(what)'s signature uses the canonicalisation \(canonicalization); only exclusive canonicalisation is accepted")
        }
        let method = signedInfo.child(ds, "SignatureMethod")?.attribute("Algorithm") ?? ""
        guard SAMLAlgorithms.signatureMethods.contains(method) else {
            throw SAMLRejection(.algorithmNotAllowed, "the \(what) is signed with \(method); configure the IdP to sign with RSA-SHA256 (or stronger) or ECDSA")
        }
        let references = signedInfo.children(ds, "Reference")
        guard references.count == 1, let reference = references.first else {
            throw SAMLRejection(.malformed, "the \(what)'s signature must have exactly one Reference; it has \(references.count)")
        }
        guard reference.attribute("URI") == "#" + id else {
            throw SAMLRejection(.signatureInvalid, "the \(what)'s signature does not reference the \(what) it is in")
        }
        let transforms = reference.child(ds, "Transforms")?.elements ?? []
        let algorithms = transforms.map { $0.is(ds, "Transform") ? ($0.attribute("Algorithm") ?? "") : $0.localName }
        if let refused = algorithms.first(where: { !SAMLAlgorithms.referenceTransforms.contains($0) }) {
            throw SAMLRejection(.transformNotAllowed, "the \(what)'s signature uses the transform \(refused); only enveloped-signature and exclusive canonicalisation are accepted")
        }
        guard algorithms.contains(SAMLAlgorithms.exclusiveC14N), Set(algorithms).count == algorithms.count else {
            throw SAMLRejection(.transformNotAllowed, "the \(what)'s signature must use exclusive canonicalisation once as its transform")
        }
        let digest = reference.child(ds, "DigestMethod")?.attribute("Algorithm") ?? ""
        guard SAMLAlgorithms.digestMethods.contains(digest) else {
            throw SAMLRejection(.algorithmNotAllowed, "the \(what)'s signature uses the digest \(digest); configure the IdP to use SHA-256 or stronger")
        }
    }

    /// SHA-256 of the certificate in the signature's KeyInfo, if it carries one. Never used as a
    /// key: only to pick among configured keys and to tell an admin which certificate signed.
    private func presentedCertificateFingerprint(_ signature: SAMLNode) -> [UInt8]? {
        let ds = SAMLNamespace.xmldsig
        guard let text = signature.child(ds, "KeyInfo")?.child(ds, "X509Data")?.child(ds, "X509Certificate")?.text,
              let der = Base64.decode(text)
        else { return nil }
        return Fingerprint.sha256(der)
    }
}
