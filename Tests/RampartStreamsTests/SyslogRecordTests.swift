import RampartCore
import RampartStreams
import Testing

/// RFC 5424 records of audit events: the header, escaped structured data, the BOM and the
/// octet-counting frame, so that no value can end a record or forge a field.
@Suite("Syslog records")
struct SyslogRecordTests {
    static func event(action: String = "user.created", outcome: String = "success", actorID: String? = "a\"b]c\\d") -> AuditEvent {
        AuditEvent(orgID: "org-1", sequence: 42, id: "5f0c1d2e-0000-4000-8000-000000000001",
                   occurredAt: Timestamp(microseconds: 1_764_950_400_123_000), action: action, outcome: outcome,
                   actor: AuditActor(type: .apiToken, id: actorID, name: "x"), targetsJSON: "[]", requestID: nil,
                   detailsJSON: "{}", previousHash: "p", hash: "h")
    }

    @Test func headerStructuredDataAndMessage() throws {
        let record = SyslogRecord(hostname: "rampart.example.com")
        let json = Array(#"{"a":"line\nbreak"}"#.utf8)
        let message = String(decoding: record.message(Self.event(), orgID: "org-1", json: json), as: UTF8.self)
        #expect(message == "<109>1 2025-12-05T16:00:00.123Z rampart.example.com rampart - user.created "
            + #"[rampart@32473 org="org-1" seq="42" id="5f0c1d2e-0000-4000-8000-000000000001" outcome="success" "#
            + #"actorType="api_token" actorId="a\"b\]c\\d"] "# + "\u{FEFF}" + #"{"a":"line\nbreak"}"#)
    }

    @Test func failuresAreWarningsAndLongActionsAreCut() {
        let record = SyslogRecord(hostname: "")
        let bytes = record.message(Self.event(action: String(repeating: "x", count: 40), outcome: "failure", actorID: nil),
                                   orgID: "o", json: [])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("<108>1 2025-12-05T16:00:00.123Z - rampart - \(String(repeating: "x", count: 32)) [rampart@32473 "))
        #expect(!text.contains("actorId"))
    }

    @Test func theFrameCountsBytesNotCharacters() {
        let record = SyslogRecord(hostname: "h")
        let json = Array("{\"name\":\"Zoë\\r\\n<13>1 forged\"}".utf8)
        let framed = record.framed(Self.event(), orgID: "o", json: json)
        let message = record.message(Self.event(), orgID: "o", json: json)
        let prefix = Array("\(message.count) ".utf8)
        #expect(Array(framed.prefix(prefix.count)) == prefix)
        #expect(Array(framed.dropFirst(prefix.count)) == message)
    }

    @Test(arguments: [("plain", "plain"), ("a\"b", #"a\"b"#), ("x]y", #"x\]y"#), (#"c:\d"#, #"c:\\d"#), ("l\nf", "l\nf")])
    func parameterValuesAreEscaped(raw: String, escaped: String) {
        #expect(SyslogRecord.escapeParameterValue(raw) == escaped)
    }
}
