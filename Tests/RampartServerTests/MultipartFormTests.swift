@testable import RampartServer
import Testing

/// The console's file fields arrive as multipart/form-data (RFC 7578).
@Suite("Multipart console forms")
struct MultipartFormTests {
    @Test func fieldsAndAFileAreReadByName() {
        let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
        #expect(MultipartForm.boundary(ofContentType: "multipart/form-data; boundary=\(boundary)") == boundary)
        #expect(MultipartForm.boundary(ofContentType: "multipart/form-data; boundary=\"\(boundary)\"") == boundary)
        #expect(MultipartForm.boundary(ofContentType: "application/x-www-form-urlencoded") == nil)
        let body = [
            "--\(boundary)", "Content-Disposition: form-data; name=\"csrf\"", "", "token-1",
            "--\(boundary)", "Content-Disposition: form-data; name=\"metadata_file\"; filename=\"idp.xml\"",
            "Content-Type: text/xml", "", "<md:EntityDescriptor entityID=\"x\">\r\n--not-the-boundary\r\n</md:EntityDescriptor>",
            "--\(boundary)", "Content-Disposition: form-data; name=\"name\"", "", "Okta SAML",
            "--\(boundary)--", "",
        ].joined(separator: "\r\n")
        let fields = MultipartForm.fields(Array(body.utf8), boundary: boundary)
        #expect(fields["csrf"] == "token-1")
        #expect(fields["name"] == "Okta SAML")
        #expect(fields["metadata_file"] == "<md:EntityDescriptor entityID=\"x\">\r\n--not-the-boundary\r\n</md:EntityDescriptor>")
        // A body cut short yields the parts read so far, never a crash.
        #expect(MultipartForm.fields(Array(body.utf8.prefix(60)), boundary: boundary).isEmpty)
        #expect(MultipartForm.fields([], boundary: boundary).isEmpty)
    }
}
