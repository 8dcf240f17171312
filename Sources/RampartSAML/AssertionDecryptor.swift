import CLibXML2
import CXMLSec

/// Decrypts an EncryptedAssertion in place with the SP's key (libxmlsec1 xmlenc); the assertion
/// it yields is then held to every rule an unencrypted one is.
struct AssertionDecryptor {
    let key: XMLSecKey?

    func decrypt(_ encrypted: SAMLNode, in document: SAMLDocument) throws(SAMLRejection) -> SAMLNode {
        guard let key else {
            throw SAMLRejection(.decryptionFailed, "the assertion is encrypted but this provider has no SP decryption key")
        }
        let enc = SAMLNamespace.xmlenc
        guard let data = encrypted.child(enc, "EncryptedData") else {
            throw SAMLRejection(.malformed, "the EncryptedAssertion has no EncryptedData")
        }
        let method = data.child(enc, "EncryptionMethod")?.attribute("Algorithm") ?? ""
        guard SAMLAlgorithms.encryptionMethods.contains(method) else {
            throw SAMLRejection(.algorithmNotAllowed, "the assertion is encrypted with \(method); configure the IdP to use AES-CBC or AES-GCM")
        }
        // One EncryptedKey and nothing else: xmlsec would try each child in turn, and so use a
        // second key wrapping whose algorithm nobody checked.
        guard let keyInfo = data.child(SAMLNamespace.xmldsig, "KeyInfo"), keyInfo.elements.count == 1,
              let encryptedKey = keyInfo.child(enc, "EncryptedKey")
        else {
            throw SAMLRejection(.decryptionFailed, "the encrypted assertion must carry exactly one EncryptedKey in its KeyInfo")
        }
        let transport = encryptedKey.child(enc, "EncryptionMethod")?.attribute("Algorithm") ?? ""
        guard SAMLAlgorithms.keyTransportMethods.contains(transport) else {
            throw SAMLRejection(.algorithmNotAllowed, "the assertion's key is wrapped with \(transport); configure the IdP to use RSA-OAEP")
        }
        guard rampart_xmlsec_decrypt(data.pointer, key.pointer) == 0 else {
            throw SAMLRejection(.decryptionFailed, "the assertion could not be decrypted with this provider's SP key; check that the IdP encrypts with the SP's current encryption certificate")
        }
        let assertions = encrypted.children(SAMLNamespace.assertion, "Assertion")
        guard assertions.count == 1, let assertion = assertions.first,
              encrypted.elements.allSatisfy({ $0.is(SAMLNamespace.assertion, "Assertion") || $0.is(enc, "EncryptedKey") })
        else {
            throw SAMLRejection(.assertionCount, "the encrypted assertion must decrypt to exactly one assertion")
        }
        try document.register(assertion)
        return assertion
    }
}
