import Foundation
import RampartSAML

/// A key pair made with the `openssl` command, as an administrator would make one.
public struct TestKeyPair: Sendable {
    public let privateKeyPEM: String
    public let certificatePEM: String

    public static func generate(commonName: String, key: String = "rsa:2048") throws -> TestKeyPair {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rampart-saml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("key.pem").path, certificateFile = directory.appendingPathComponent("cert.pem").path
        var arguments = ["req", "-x509", "-newkey", key, "-sha256", "-nodes", "-days", "3650",
                         "-keyout", keyFile, "-out", certificateFile, "-subj", "/CN=\(commonName)"]
        if key.hasPrefix("ec") { arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-sha256", "-nodes",
                                               "-days", "3650", "-keyout", keyFile, "-out", certificateFile, "-subj", "/CN=\(commonName)"] }
        try Command.run("/usr/bin/openssl", arguments)
        return TestKeyPair(privateKeyPEM: try String(contentsOfFile: keyFile, encoding: .utf8),
                           certificatePEM: try String(contentsOfFile: certificateFile, encoding: .utf8))
    }
}

public enum Command {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The fields of a response as an IdP would write them; each can be set wrong for a test.
public struct TestResponse: Sendable {
    public static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    public static let rsaSHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    public static let ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    public static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    public static let sha1 = "http://www.w3.org/2000/09/xmldsig#sha1"

    public var responseID = "_r" + UUID().uuidString.lowercased()
    public var assertionID = "_a" + UUID().uuidString.lowercased()
    public var issuer: String
    public var audience: String
    public var recipient: String
    public var destination: String?
    public var inResponseTo: String?
    public var nameID = "alice@example.test"
    public var issueInstant: Date
    public var notBefore: Date
    public var notOnOrAfter: Date
    public var statusCode = "urn:oasis:names:tc:SAML:2.0:status:Success"
    public var confirmationMethod = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
    public var attributes: [(String, [String])] = [("mail", ["alice@example.test"]), ("groups", ["admins", "staff"])]
    public var signatureAlgorithm = rsaSHA256
    public var digestAlgorithm = sha256
    public var signAssertion = true
    public var signResponse = false
    /// Wraps the Assertion in an EncryptedAssertion element (encrypt it afterwards).
    public var wrapInEncryptedAssertion = false

    public init(settings: SAMLProviderSettings, inResponseTo: String?, now: Date) {
        issuer = settings.idpEntityID
        audience = settings.spEntityID
        recipient = settings.acsURL
        destination = settings.acsURL
        self.inResponseTo = inResponseTo
        issueInstant = now
        notBefore = now.addingTimeInterval(-60)
        notOnOrAfter = now.addingTimeInterval(300)
    }

    static func time(_ date: Date) -> String { date.formatted(.iso8601) }

    public func signatureTemplate(referencing id: String, certificatePEM: String) -> String {
        let body = certificatePEM.components(separatedBy: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return """
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>\
        <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
        <ds:SignatureMethod Algorithm="\(signatureAlgorithm)"/><ds:Reference URI="#\(id)"><ds:Transforms>\
        <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\
        <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>\
        <ds:DigestMethod Algorithm="\(digestAlgorithm)"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>\
        <ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\(body)</ds:X509Certificate>\
        </ds:X509Data></ds:KeyInfo></ds:Signature>
        """
    }

    public func assertionXML(certificatePEM: String) -> String {
        let confirmationData = "Recipient=\"\(recipient)\" NotOnOrAfter=\"\(Self.time(notOnOrAfter))\""
            + (inResponseTo.map { " InResponseTo=\"\($0)\"" } ?? "")
        let attributeXML = attributes.map { name, values in
            "<saml:Attribute Name=\"\(name)\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\">"
                + values.map { "<saml:AttributeValue>\($0)</saml:AttributeValue>" }.joined() + "</saml:Attribute>"
        }.joined()
        return """
        <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="\(assertionID)" Version="2.0" \
        IssueInstant="\(Self.time(issueInstant))"><saml:Issuer>\(issuer)</saml:Issuer>\
        \(signAssertion ? signatureTemplate(referencing: assertionID, certificatePEM: certificatePEM) : "")\
        <saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">\(nameID)</saml:NameID>\
        <saml:SubjectConfirmation Method="\(confirmationMethod)"><saml:SubjectConfirmationData \(confirmationData)/>\
        </saml:SubjectConfirmation></saml:Subject>\
        <saml:Conditions NotBefore="\(Self.time(notBefore))" NotOnOrAfter="\(Self.time(notOnOrAfter))">\
        <saml:AudienceRestriction><saml:Audience>\(audience)</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
        <saml:AuthnStatement AuthnInstant="\(Self.time(issueInstant))" SessionIndex="_s\(assertionID)"><saml:AuthnContext>\
        <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>\
        </saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>\(attributeXML)</saml:AttributeStatement></saml:Assertion>
        """
    }

    /// The response with its signature templates, not yet signed.
    public func xml(certificatePEM: String) -> String {
        let assertion = assertionXML(certificatePEM: certificatePEM)
        return """
        <samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" \
        ID="\(responseID)" Version="2.0" IssueInstant="\(Self.time(issueInstant))"\
        \(destination.map { " Destination=\"\($0)\"" } ?? "")\(inResponseTo.map { " InResponseTo=\"\($0)\"" } ?? "")>\
        <saml:Issuer>\(issuer)</saml:Issuer>\
        \(signResponse ? signatureTemplate(referencing: responseID, certificatePEM: certificatePEM) : "")\
        <samlp:Status><samlp:StatusCode Value="\(statusCode)"/></samlp:Status>\
        \(wrapInEncryptedAssertion ? "<saml:EncryptedAssertion>\(assertion)</saml:EncryptedAssertion>" : assertion)</samlp:Response>
        """
    }
}

/// An identity provider: signs responses with its key, and names its certificate in KeyInfo.
public struct TestIdentityProvider: Sendable {
    public let keys: TestKeyPair
    let signer: SAMLDocumentSigner

    public init(keys: TestKeyPair) {
        self.keys = keys
        signer = SAMLDocumentSigner(privateKeyPEM: keys.privateKeyPEM)!
    }

    public func signedXML(_ response: TestResponse) throws -> String {
        try signer.sign(response.xml(certificatePEM: keys.certificatePEM))
    }

    /// Signs every empty signature template in `xml`.
    public func sign(_ xml: String) throws -> String { try signer.sign(xml) }

    public func base64(_ response: TestResponse) throws -> String {
        Data(try signedXML(response).utf8).base64EncodedString()
    }
}
