import Foundation
import Hummingbird
import RampartCore

/// A submitted console form: URL-encoded fields, its CSRF token already checked.
struct ConsoleForm: Sendable {
    let fields: [String: String]

    subscript(name: String) -> String { fields[name] ?? "" }

    /// Parses the body and checks the CSRF field against the expected token in constant time.
    static func read(_ request: Request, expectedCSRF: String) async throws -> ConsoleForm {
        let form = try await read(request)
        guard constantTimeEquals(form["csrf"], expectedCSRF), !expectedCSRF.isEmpty else { throw expired }
        return form
    }

    static let expired = RampartError(.forbidden,
                                      "The form expired or did not come from this console; reload the page and try again.")

    /// Parses the body without a CSRF check, for forms that carry their own proof. A form with a
    /// file field (multipart, such as an IdP's metadata document) may be larger than a typed one.
    static func read(_ request: Request) async throws -> ConsoleForm {
        let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(ofContentType:))
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: boundary == nil ? 64 * 1024 : 1024 * 1024)
        } catch {
            if MalformedFraming.matches(error) { throw RampartError(.malformedRequest, MalformedFraming.message) }
            throw RampartError(.payloadTooLarge, "The form is too large.")
        }
        if let boundary { return ConsoleForm(fields: MultipartForm.fields(Array(buffer.readableBytesView), boundary: boundary)) }
        return ConsoleForm(fields: parse(String(buffer: buffer)))
    }

    static func parse(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in FormURLEncoding.pairs(body) { fields[name ?? ""] = value ?? "" }
        return fields
    }
}

/// Cookies of the console and sign-in pages: HttpOnly, SameSite=Strict, Secure under TLS. The
/// session cookie covers the whole server: one sign-in serves the console and My account.
enum ConsoleCookie {
    static let session = "rampart_session"
    static let signinCSRF = "rampart_signin_csrf"

    static func make(_ name: String, _ value: String, secure: Bool, maxAge: Int? = nil) -> String {
        var cookie = "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        if secure { cookie += "; Secure" }
        return cookie
    }

    static func clear(_ name: String, secure: Bool) -> String { make(name, "", secure: secure, maxAge: 0) }

    static func value(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == name { return String(pair[1]) }
            }
        }
        return nil
    }
}
