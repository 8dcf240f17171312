import RampartCore
import Testing

@Suite("Identifiers")
struct IdentifierTests {
    @Test func canonicalFormIsLowercaseWithDashes() {
        let id = Identifier.make()
        #expect(Identifier.canonical(id) == id)
        #expect(Identifier.canonical(id.uppercased()) == id)
        #expect(Identifier.canonical("01A21DE4-4a4b-76FF-a994-659ecc086e71") == "01a21de4-4a4b-76ff-a994-659ecc086e71")
        for bad in ["", "not-an-id", String(id.dropLast()), id + "0", id.replacingOccurrences(of: "-", with: "_"),
                    "0" + id.replacingOccurrences(of: "-", with: "") + "000", "01a21de4-4a4b-76ff-a994-659ecc086e7g",
                    "01a21de44a4b-76ff-a994-659ecc086e71-"] {
            #expect(Identifier.canonical(bad) == nil, "\(bad)")
        }
    }

    @Test func compactAndExpandRoundTrip() {
        let id = Identifier.make()
        let compact = Identifier.compact(id)
        #expect(compact.count == 32 && !compact.contains("-"))
        #expect(Identifier.expand(compact: compact) == id)
        #expect(Identifier.expand(compact: compact.uppercased()) == id)
        #expect(Identifier.expand(compact: String(compact.dropLast()) + "x") == nil)
    }

    @Test func idsAreOrderedByCreation() {
        let earlier = Identifier.make(at: .init(timeIntervalSince1970: 1_700_000_000))
        let later = Identifier.make(at: .init(timeIntervalSince1970: 1_700_000_001))
        #expect(earlier < later)
    }
}
