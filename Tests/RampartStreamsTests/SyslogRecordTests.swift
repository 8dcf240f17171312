import RampartCore
@testable import RampartStreams
import Testing

/// RFC 5424 records of audit events: the header, escaped structured data, the BOM, the event's
/// JSON and the octet-counting frame, so that no value can end a record or forge a field.
@Suite("Syslog records")
struct SyslogRecordTests {
    static func event(action: String = "user.created", outcome: String = "success", actorID: String? = "a\"b]c\\d",
                      details: String = "{}") -> AuditEvent {
        AuditEvent(orgID: "org-1", sequence: 42, id: "5f0c1d2e-0000-4000-8000-000000000001",
                   occurredAt: Timestamp(microseconds: 1_764_950_400_123_000), action: action, outcome: outcome,
                   actor: AuditActor(type: .apiToken, id: actorID, name: "x"), targetsJSON: "[]", requestID: nil,
                   detailsJSON: details, previousHash: "p", hash: "h")
    }

    @Test func headerStructuredDataAndMessage() throws {
        let record = SyslogRecord(hostname: "rampart.example.com")
        let message = String(decoding: record.message(Self.event(details: #"{"a":"line\nbreak"}"#), orgID: "org-1"), as: UTF8.self)
        #expect(message == "<109>1 2025-12-05T16:00:00.123Z rampart.example.com rampart - user.created "
            + #"[rampart@32473 org="org-1" seq="42" id="5f0c1d2e-0000-4000-8000-000000000001" outcome="success" "#
            + #"actorType="api_token" actorId="a\"b\]c\\d"] "# + "\u{FEFF}"
            + #"{"action":"user.created","actor":{"id":"a\"b]c\\d","ip":null,"name":"x","type":"api_token","userAgent":null},"#
            + #""details":{"a":"line\nbreak"},"hash":"h","id":"5f0c1d2e-0000-4000-8000-000000000001","#
            + #""occurredAt":"2025-12-05T16:00:00.123Z","outcome":"success","previousHash":"p","requestId":null,"sequence":42,"#
            + #""targets":[]}"#)
    }

    @Test func failuresAreWarningsAndLongActionsAreCut() {
        let record = SyslogRecord(hostname: "")
        let bytes = record.message(Self.event(action: String(repeating: "x", count: 40), outcome: "failure", actorID: nil), orgID: "o")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("<108>1 2025-12-05T16:00:00.123Z - rampart - \(String(repeating: "x", count: 32)) [rampart@32473 "))
        #expect(!text.contains("actorId"))
    }

    @Test func theFrameCountsBytesNotCharacters() {
        let record = SyslogRecord(hostname: "h")
        let event = Self.event(details: "{\"name\":\"Zoë\\r\\n<13>1 forged\"}")
        var framed: [UInt8] = []
        record.frame(event, orgID: "o", to: &framed)
        let message = record.message(event, orgID: "o")
        let prefix = Array("\(message.count) ".utf8)
        #expect(message.count > String(decoding: message, as: UTF8.self).count, "a multi-byte character is counted in bytes")
        #expect(Array(framed.prefix(prefix.count)) == prefix)
        #expect(Array(framed.dropFirst(prefix.count)) == message)
    }

    @Test(arguments: [("plain", "plain"), ("a\"b", #"a\"b"#), ("x]y", #"x\]y"#), (#"c:\d"#, #"c:\\d"#), ("l\nf", "l\nf")])
    func parameterValuesAreEscaped(raw: String, escaped: String) {
        var out: [UInt8] = []
        SyslogRecord.parameter("k", raw, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == " k=\"\(escaped)\"")
    }
}
