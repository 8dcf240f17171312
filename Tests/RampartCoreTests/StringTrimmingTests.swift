import Foundation
import RampartCore
import Testing

@Suite("String trimming")
struct StringTrimmingTests {
    /// Every scalar of the whitespace and newline sets, and some that are not in them.
    static let edges: [String] = ["\t", "\n", "\u{0B}", "\u{0C}", "\r", " ", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}",
                                  "\u{200A}", "\u{200B}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}",
                                  "\u{FEFF}", "\u{0}", "x", "é", "e\u{301}", "😀", "🇫🇷"]

    @Test(arguments: [CharacterSet.whitespaces, .whitespacesAndNewlines])
    func trimsWhatFoundationTrims(_ set: CharacterSet) {
        var checked = 0
        for left in Self.edges + [""] {
            for right in Self.edges + [""] {
                for middle in ["", "a", "ada@example.com", " a b ", "\u{301}", "\t\n"] {
                    let text = left + middle + right
                    let expected = text.trimmingCharacters(in: set)
                    #expect(text.trimming(set) == expected, "\(text.unicodeScalars.map(\.value))")
                    let inner = Substring(("<" + text + ">").unicodeScalars.dropFirst().dropLast())
                    #expect(inner.trimming(set) == expected, "a substring")
                    checked += 1
                }
            }
        }
        #expect(checked == 25 * 25 * 6)
    }

    @Test func keepsInnerSpaceAndEmptiesBlankText() {
        #expect("  Ada  Lovelace \n".trimming(.whitespacesAndNewlines) == "Ada  Lovelace")
        #expect(" \t\u{3000}".trimming(.whitespaces) == "")
        #expect(" a\n".trimming(.whitespaces) == "a\n")
    }
}
