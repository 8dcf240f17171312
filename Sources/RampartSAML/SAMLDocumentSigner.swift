import CLibXML2
import CXMLSec
import Foundation

/// Signs the enveloped-signature templates of an XML document with libxmlsec1: every
/// <ds:Signature> whose SignatureValue is empty, innermost first (so a Response's signature covers
/// its signed Assertion). For documents Rampart issues, and for the identity providers the tests
/// and `rampart-bench saml-acs` play.
public struct SAMLDocumentSigner: Sendable {
    private let key: XMLSecKey

    /// `privateKeyPEM`: an RSA or EC private key (PKCS#1, SEC1 or PKCS#8 PEM).
    public init?(privateKeyPEM: String) {
        guard let key = XMLSecKey.privateKey(pem: privateKeyPEM) else { return nil }
        self.key = key
    }

    public func sign(_ xml: String) throws(SAMLRejection) -> String {
        let document = try SAMLDocument.parse(Data(xml.utf8), what: "document")
        try document.registerIDs()
        guard let root = document.root else { throw SAMLRejection(.malformed, "the document is empty") }
        var templates: [(node: SAMLNode, depth: Int)] = []
        var stack: [(SAMLNode, Int)] = [(root, 0)]
        while let (node, depth) = stack.popLast() {
            if node.is(SAMLNamespace.xmldsig, "Signature"),
               node.child(SAMLNamespace.xmldsig, "SignatureValue")?.text.isEmpty ?? false {
                templates.append((node, depth))
            }
            stack.append(contentsOf: node.elements.map { ($0, depth + 1) })
        }
        for template in templates.sorted(by: { $0.depth > $1.depth }) {
            guard rampart_xmlsec_sign(template.node.pointer, key.pointer) == 0 else {
                throw SAMLRejection(.signatureInvalid, "xmlsec could not sign the document")
            }
        }
        var buffer: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpMemoryEnc(document.pointer, &buffer, &size, "UTF-8")
        guard let buffer else { throw SAMLRejection(.malformed, "the signed document could not be written") }
        defer { rampart_xml_free(buffer) }
        return String(decoding: UnsafeBufferPointer(start: buffer, count: Int(size)), as: UTF8.self)
    }
}
