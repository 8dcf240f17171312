import Foundation
@testable import RampartServer
import Testing

/// The form reader against Foundation's percent-decoding, which it replaced, over the
/// values forms and OAuth clients send: the same answer, or nil for the same malformed input.
@Suite("Form URL encoding")
struct FormURLEncodingTests {
    @Test(arguments: ["plain", "", "a+b", "a%20b", "%2B", "100%25", "caf%C3%A9", "%E2%82%AC+%F0%9F%94%91", "%", "%4", "%zz",
                      "%C3", "%FF", "a%2", "x=y", "https%3A%2F%2Fwiki.example.com%2Fcb%3Fa%3D1%26b%3D2", "rcs_abc-_xyz"])
    func decodesLikeFoundation(_ raw: String) {
        let foundation = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        #expect(FormURLEncoding.decode(Substring(raw)) == foundation, "\(raw)")
    }

    @Test func splitsPairsInOrderWithEmptyValues() {
        let pairs = FormURLEncoding.pairs("grant_type=refresh_token&scope=openid+email&flag&=v&bad=%zz")
        #expect(pairs.map(\.name) == ["grant_type", "scope", "flag", "", "bad"])
        #expect(pairs.map(\.value) == ["refresh_token", "openid email", "", "v", nil])
    }
}
