import CLibXML2
import CXMLSec
import Foundation

/// The HTTP-Redirect binding's encoding: raw DEFLATE, then base64, then URL encoding.
public enum SAMLRedirectBinding {
    /// Decodes and inflates a SAMLRequest/SAMLResponse query value (already URL-decoded), refusing
    /// more than `limit` bytes before and after inflating: a small message must not grow into a
    /// large one in memory.
    public static func inflate(base64: String, limit: Int) throws(SAMLRejection) -> Data {
        guard base64.utf8.count <= (limit / 3 + 1) * 4 + limit / 32 else {
            throw SAMLRejection(.tooLarge, "the message is larger than \(limit) bytes")
        }
        guard let compressed = Base64.decode(base64) else {
            throw SAMLRejection(.malformed, "the message is not base64")
        }
        var output = [UInt8](repeating: 0, count: limit)
        let produced = compressed.withUnsafeBytes { input in
            rampart_inflate_raw(input.bindMemory(to: UInt8.self).baseAddress, input.count, &output, limit)
        }
        if produced == -2 { throw SAMLRejection(.tooLarge, "the message inflates past \(limit) bytes") }
        guard produced >= 0 else { throw SAMLRejection(.malformed, "the message is not DEFLATE-compressed") }
        return Data(output[0..<produced])
    }

    static func deflate(_ data: Data) -> Data {
        let capacity = data.count + data.count / 10 + 64
        var output = [UInt8](repeating: 0, count: capacity)
        let produced = data.withUnsafeBytes { input in
            rampart_deflate_raw(input.bindMemory(to: UInt8.self).baseAddress, input.count, &output, capacity)
        }
        precondition(produced >= 0, "deflate cannot fail with an output buffer this large")
        return Data(output[0..<produced])
    }

    /// A query value: everything but RFC 3986's unreserved characters percent-encoded.
    static func queryEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// An SP-initiated sign-in's AuthnRequest, sent with the HTTP-Redirect binding (unsigned).
public enum SAMLAuthnRequest {
    /// Returns the request's ID (keep it with this browser's sign-in attempt: the response must
    /// answer it) and the IdP URL to redirect the browser to.
    public static func redirect(settings: SAMLProviderSettings, idpSSOURL: URL, relayState: String?, now: Date) -> (id: String, url: URL) {
        var random = SystemRandomNumberGenerator()  // getrandom(2): unguessable
        let id = "_" + (0..<20).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let xml = """
        <samlp:AuthnRequest xmlns:samlp="\(SAMLNamespace.protocol_)" xmlns:saml="\(SAMLNamespace.assertion)" \
        ID="\(id)" Version="2.0" IssueInstant="\(SAMLTime.format(now))" \
        Destination="\(XMLEscape.attribute(idpSSOURL.absoluteString))" \
        AssertionConsumerServiceURL="\(XMLEscape.attribute(settings.acsURL))" \
        ProtocolBinding="\(SAMLConstants.postBinding)"><saml:Issuer>\(XMLEscape.text(settings.spEntityID))</saml:Issuer>\
        <samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>
        """
        let encoded = SAMLRedirectBinding.deflate(Data(xml.utf8)).base64EncodedString()
        var query = "SAMLRequest=" + SAMLRedirectBinding.queryEncode(encoded)
        if let relayState { query += "&RelayState=" + SAMLRedirectBinding.queryEncode(relayState) }
        let base = idpSSOURL.absoluteString
        let separator = base.contains("?") ? "&" : "?"
        return (id, URL(string: base + separator + query)!)
    }
}

enum XMLEscape {
    static func text(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func attribute(_ value: String) -> String {
        text(value).replacingOccurrences(of: "\"", with: "&quot;")
    }
}
