import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import RampartCore

/// Renders console pages from the Mustache templates in Resources/templates, with the
/// headers every console response carries.
struct ConsoleRenderer: Sendable {
    /// The `Resources` folder copied into the module's bundle.
    static let resourceDirectory: URL? = Bundle.module.url(forResource: "Resources", withExtension: nil)

    static let library: MustacheLibrary = {
        var templates: [String: MustacheTemplate] = [:]
        if let directory = resourceDirectory?.appendingPathComponent("templates"),
           let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) {
            for file in files where file.hasSuffix(".mustache") {
                // A template that does not load is a defect of the build, not a runtime condition.
                let text = try! String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                do {
                    templates[String(file.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
                } catch {
                    fatalError("Console template \(file) does not parse: \(error)")
                }
            }
        }
        return MustacheLibrary(templates: templates)
    }()

    static let stylesheet: ByteBuffer = {
        let url = resourceDirectory?.appendingPathComponent("static/app.css")
        return ByteBuffer(bytes: url.flatMap { try? Data(contentsOf: $0) } ?? Data())
    }()

    /// No script at all, styles only from our own origin, forms only to ourselves.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func securityHeaders(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "no-referrer"
        headers[.cacheControl] = "no-store"
    }

    static func page(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(values, withTemplate: template) ?? "Template \(template) is missing."
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        securityHeaders(&headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        securityHeaders(&headers)
        return Response(status: .seeOther, headers: headers)
    }
}

/// Errors inside the console become a page, not JSON.
struct ConsoleErrorRenderer: Sendable {
    func render(_ error: RampartError, request: Request, context: RampartRequestContext) -> Response {
        if error.code == .unauthorized {
            return ConsoleRenderer.redirect("/console/signin")
        }
        return ConsoleRenderer.page("error", [
            "title": "Error", "status": Int(error.httpStatus.code), "message": error.message,
            "requestId": context.requestID,
        ], status: error.httpStatus)
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
