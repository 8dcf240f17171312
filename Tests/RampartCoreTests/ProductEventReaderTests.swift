@testable import RampartCore
import Testing

/// `ProductEventReader` reads valid batches straight from the text; everything else goes
/// through the `JSONValue` tree. Both must accept the same batches with the same events, and a
/// batch the reader gives up on must get the tree's error.
@Suite("Product event reader")
struct ProductEventReaderTests {
    private let now = Timestamp(rfc3339: "2026-12-06T12:00:00Z")!

    private func direct(_ text: String) -> [ProductEvent]? {
        var text = text
        let window = ProductEvent.window(now: now)
        return text.withUTF8 { bytes in
            var reader = ProductEventReader(bytes, window: window)
            return reader.batch()
        }
    }

    private func throughTree(_ text: String) -> Result<[ProductEvent], RampartError> {
        do {
            let body = try JSONValue.decode(text)
            return .success(try ProductEvent.batch(body, now: now))
        } catch let error as RampartError {
            return .failure(error)
        } catch {
            return .failure(RampartError(.invalidJSON, "The body is not valid JSON."))
        }
    }

    private func batch(_ text: String) -> Result<[ProductEvent], RampartError> {
        var text = text
        let now = now
        return text.withUTF8 { bytes in Result { () throws(RampartError) in try ProductEvent.batch(text: bytes, now: now) } }
    }

    private static func event(_ fields: String) -> String { #"{"events": [{"# + fields + "}]}" }

    private static let base = #""idempotencyKey":"k1","action":"product.content_viewed","occurredAt":"2026-12-06T11:59:00Z","actor":{"email":"ada@example.com"}"#

    static let validBatches: [String] = [
        event(base),
        event(base + #","targets":[],"outcome":"failure","details":{}"#),
        event(base + #","targets":[{"type":"page","id":"p1","name":"Plan"},{"type":"space","id":"s1"}]"#),
        event(base + #","details":{"query":"a\nb\tc","n":-3,"ok":true,"none":null,"list":[1,{"x":"y"}]}"#),
        // Escapes, non-ASCII text and spaces everywhere.
        #"""
         { "events" : [ { "idempotencyKey" : "k\u00e9\ud83d\ude00" , "action":"product.searched",
        "occurredAt":"2026-12-06T11:00:00+01:00", "actor" : { "id" : "u\/1", "name":"Zoë", "ip":"2001:db8::1", "userAgent":"curl/8" } } ,
        {"idempotencyKey":"k2","action":"product.content_edited","occurredAt":"2026-12-06T11:59:59Z",
        "actor":{"email":" ADA@Example.COM ","ip":"192.0.2.1"}} ] }

        """#,
    ]

    static let refusedBatches: [String] = [
        "", "null", "[]", #"{"events": []}"#, #"{"events": {}}"#, #"{"events": [], "more": 1}"#,
        #"{"events": [{}]}"#,
        event(base + #","extra":1"#),
        event(base + #","action":"product.searched""#),  // repeated: the tree keeps the first, and accepts it
        event(base + #","outcome":"maybe""#),
        event(base + #","details":[]"#),
        event(base + #","details":{"n":1.5}"#),  // a fraction: JSONDecoder's to read, and the tree's to refuse or keep
        event(base + #","details":{"bell":"\u0007"}"#),
        event(base + #","targets":[{"type":"Page","id":"p"}]"#),
        event(base + #","targets":null"#),
        event(#""idempotencyKey":"k","action":"product.searched","occurredAt":"2026-12-06T11:59:00Z","actor":{}"#),
        event(#""idempotencyKey":"k","action":"product.searched","occurredAt":"2026-12-06T11:59:00Z","actor":{"ip":"1.2.3.4"}"#),
        event(#""idempotencyKey":"k","action":"product.searched","occurredAt":"2026-12-06T11:59:00Z","actor":{"email":"nope"}"#),
        event(#""idempotencyKey":"k","action":"user.deleted","occurredAt":"2026-12-06T11:59:00Z","actor":{"id":"u"}"#),
        event(#""idempotencyKey":"k","action":"product.searched","occurredAt":"2027-01-01T00:00:00Z","actor":{"id":"u"}"#),
        event(#""idempotencyKey":"a\rb","action":"product.searched","occurredAt":"2026-12-06T11:59:00Z","actor":{"id":"u"}"#),
        #"{"events": [{"# + base + "}",  // cut short
    ]

    @Test(arguments: validBatches)
    func validBatchesReadDirectlyGiveTheTreesEvents(text: String) throws {
        let read = try #require(direct(text))
        let tree = try throughTree(text).get()
        #expect(read == tree)
        #expect(!read.isEmpty)
    }

    @Test(arguments: refusedBatches)
    func batchesTheReaderGivesUpOnGetTheTreesAnswer(text: String) {
        #expect(direct(text) == nil)
        expectTheTreesAnswer(text)
    }

    @Test(arguments: ["192.0.2.1", "0.0.0.0", "2001:db8::1", "::1", "::ffff:192.0.2.1", "fe80::a:b:c:d"])
    func addressesAreAccepted(ip: String) {
        #expect(ProductEvent.isIPAddress(ip))
    }

    /// `:::::::` and `1:2:3` were taken by the hand-written check the C library's parser replaced.
    @Test(arguments: ["", "1.2.3", "256.1.1.1", "1.2.3.4.5", "1.2.3.x", ":::::::", "1:2:3", "2001:db8::1::2",
                      "fe80::1%eth0", " 192.0.2.1", "192.0.2.1\\n"])
    func otherAddressesAreRefusedNamingTheField(ip: String) {
        let text = Self.event(#""idempotencyKey":"k","action":"product.searched","occurredAt":"2026-12-06T11:59:00Z","actor":{"email":"ada@example.com","ip":""# + ip + #""}"#)
        guard case .failure(let error) = batch(text) else { Issue.record("\(ip) was accepted"); return }
        #expect(error.message.contains("events[0].actor.ip"), "\(error.message)")
        #expect(!ProductEvent.isIPAddress(ip))
    }

    @Test func anEventOverTheSizeLimitGetsTheTreesError() {
        let text = Self.event(Self.base + #","details":{"big":""# + String(repeating: "x", count: 17_000) + #""}"#)
        #expect(direct(text) == nil)
        expectTheTreesAnswer(text)
    }

    /// The same events, or the same error, as the tree gives.
    private func expectTheTreesAnswer(_ text: String) {
        switch (batch(text), throughTree(text)) {
        case (.success(let events), .success(let expected)):
            #expect(events == expected)
        case (.failure(let error), .failure(let expected)):
            #expect(error.code == expected.code)
            #expect(error.message == expected.message)
            #expect(error.field == expected.field)
        case (let answer, let expected):
            Issue.record("batch(text:) answered \(answer), the tree \(expected)")
        }
    }

    /// Lengths count characters (Unicode scalars), not bytes: 200 two-byte characters fit an
    /// idempotency key of at most 200, one more does not, in ASCII or not.
    @Test(arguments: [("é", 200, true), ("é", 201, false), ("k", 200, true), ("k", 201, false), ("🔐", 200, true)])
    func lengthsAreCountedInCharacters(_ character: String, _ count: Int, _ accepted: Bool) {
        let key = String(repeating: character, count: count)
        let text = Self.event(Self.base.replacingOccurrences(of: #""k1""#, with: "\"\(key)\""))
        switch batch(text) {
        case .success(let events):
            #expect(accepted && events.first?.idempotencyKey == key)
        case .failure(let error):
            #expect(!accepted && error.field == "events[0].idempotencyKey" && error.message.contains("at most 200 characters"))
        }
        expectTheTreesAnswer(text)
    }

    @Test func aBatchOfTheLargestSizeIsReadDirectlyAndOneMoreIsRefused() throws {
        let one: String = "{" + Self.base.replacingOccurrences(of: "k1", with: "KEY") + "}"
        func body(_ count: Int) -> String {
            #"{"events":["# + (0..<count).map { one.replacingOccurrences(of: "KEY", with: "k\($0)") }.joined(separator: ",") + "]}"
        }
        let full = try #require(direct(body(ProductEvent.maxBatch)))
        #expect(full.count == ProductEvent.maxBatch)
        #expect(Set(full.map(\.idempotencyKey)).count == ProductEvent.maxBatch)
        #expect(direct(body(ProductEvent.maxBatch + 1)) == nil)
        guard case .failure(let error) = batch(body(ProductEvent.maxBatch + 1)) else {
            Issue.record("a batch of \(ProductEvent.maxBatch + 1) events was accepted")
            return
        }
        #expect(error.field == "events")
        expectTheTreesAnswer(body(ProductEvent.maxBatch + 1))
    }
}
