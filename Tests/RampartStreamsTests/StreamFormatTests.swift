import Foundation
import RampartCore
@testable import RampartStreams
import Testing

/// The record formats and batch bodies of the stream kinds: CEF and LEEF escaping (no value
/// ends a record, starts a field or forges a key), the OCSF mapping, Splunk HEC, Sentinel and
/// webhook bodies, and the webhook signature against a vector from Python's hmac.
@Suite("Stream formats")
struct StreamFormatTests {
    static let hostile = "a|b\\c=d\ne\rf\tg"

    static func event(action: String = "user.created", outcome: String = "success", name: String? = hostile,
                      targets: String = #"[{"id":"u-1","name":"Ada","type":"user"}]"#) -> AuditEvent {
        AuditEvent(orgID: "org-1", sequence: 7, id: "5f0c1d2e-0000-4000-8000-000000000001",
                   occurredAt: Timestamp(microseconds: 1_764_950_400_123_000), action: action, outcome: outcome,
                   actor: AuditActor(type: .apiToken, id: "t-1", name: name, ip: "192.0.2.1", userAgent: "curl/8"),
                   targetsJSON: targets, requestID: "r-1", detailsJSON: #"{"k":"v=w"}"#, previousHash: "p", hash: "h")
    }

    static func text(_ format: LogStreamFormat, _ event: AuditEvent) -> String {
        var out: [UInt8] = []
        format.write(event, orgID: "org-1", to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func cefEscapesHeaderAndExtensionValues() {
        let line = Self.text(.cef, Self.event(action: "x|y\\z\nw", name: Self.hostile))
        #expect(line.hasPrefix(#"CEF:0|Rampart|Rampart|1|x\|y\\z w|x\|y\\z w|3|rt=1764950400123 externalId=5f0c1d2e-0000-4000-8000-000000000001 outcome=success "#))
        #expect(line.contains(#" suser=a|b\\c\=d\ne\rf"# + "\tg "))
        #expect(line.contains(#" cs4Label=details cs4={"k":"v\=w"} "#))
        #expect(line.contains(" src=192.0.2.1 requestClientApplication=curl/8 "))
        #expect(line.hasSuffix(" cs5Label=requestId cs5=r-1"))
        #expect(!line.contains("\n") && !line.contains("\r"), "one line whatever the values hold")
    }

    @Test func csvQuotesWhatNeedsItAndDefusesFormulas() {
        func cell(_ value: String) -> String {
            var out: [UInt8] = []
            AuditCSV.cell(value, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(cell("plain") == "plain")
        #expect(cell("") == "")
        #expect(cell("Zoë Müller") == "Zoë Müller")
        #expect(cell("a,b") == #""a,b""#)
        #expect(cell(#"say "hi""#) == #""say ""hi""""#)
        #expect(cell("two\nlines") == "\"two\nlines\"")
        #expect(cell("=SUM(A1:A2)") == "'=SUM(A1:A2)")
        #expect(cell("+1") == "'+1")
        #expect(cell("-1") == "'-1")
        #expect(cell("@cmd") == "'@cmd")
        #expect(cell("\tx") == "'\tx")
        #expect(cell("=HYPERLINK(\"x\",1)") == #""'=HYPERLINK(""x"",1)""#)
        #expect(cell("\r\n") == "\"'\r\n\"", "a cell starting with CR is defused and quoted")
    }

    @Test func csvRowHasEveryColumnInOrder() {
        var out: [UInt8] = []
        AuditCSV.write(Self.event(name: "Ada, \"the\" Countess"), to: &out)
        let row = String(decoding: out, as: UTF8.self)
        #expect(row.hasSuffix("\r\n"))
        #expect(row == #"7,2025-12-05T16:00:00.123Z,user.created,success,api_token,t-1,"Ada, ""the"" Countess",192.0.2.1,curl/8,"[{""id"":""u-1"",""name"":""Ada"",""type"":""user""}]",r-1,"{""k"":""v=w""}",h"# + "\r\n")
    }

    @Test func cefSeverityAndIPv6() {
        var event = Self.event(outcome: "failure")
        event.actor.ip = "2001:db8::1"
        let line = Self.text(.cef, event)
        #expect(line.contains("|7|rt=") && line.contains(" c6a2=2001:db8::1 ") && !line.contains(" src="))
    }

    @Test func leefEscapesHeaderAndAttributeValues() {
        let line = Self.text(.leef, Self.event(action: "a|b", name: Self.hostile))
        #expect(line.hasPrefix(#"LEEF:2.0|Rampart|Rampart|1|a\|b|x09|devTime=2025-12-05T16:00:00.123Z"# + "\t"))
        let attributes = line.split(separator: "|", maxSplits: 6, omittingEmptySubsequences: false)[6].split(separator: "\t")
        let pairs = Dictionary(uniqueKeysWithValues: attributes.map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), String(parts[1]))
        })
        #expect(pairs["usrName"] == #"a|b\\c=d\ne\rf\tg"#)
        #expect(pairs["sev"] == "3" && pairs["eventId"] == "5f0c1d2e-0000-4000-8000-000000000001" && pairs["sequence"] == "7")
        #expect(pairs["devTimeFormat"] == LEEFRecord.timeFormat && pairs["src"] == "192.0.2.1")
        #expect(!line.contains("\n") && !line.contains("\r"))
    }

    @Test(arguments: [("auth.signin_failed", 3002, 1, 3), ("user.created", 3001, 1, 1), ("group.member_added", 3006, 3, 1),
                      ("role.assigned", 3005, 1, 1), ("log_stream.created", 3004, 1, 1), ("product.deleted", 3004, 4, 1),
                      ("document.viewed", 0, 99, 1), ("product.content_viewed", 6001, 2, 1),
                      ("product.content_shared_publicly", 6001, 8, 1), ("product.permissions_changed", 3004, 3, 1)])
    func ocsfClassesAndActivities(action: String, classUID: Int, activity: Int, severity: Int) throws {
        let outcome = action == "auth.signin_failed" ? "failure" : "success"
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Self.text(.ocsf, Self.event(action: action, outcome: outcome)).utf8))
            as? [String: Any])
        #expect(object["class_uid"] as? Int == classUID && object["activity_id"] as? Int == activity)
        #expect(object["type_uid"] as? Int == classUID * 100 + activity && object["severity_id"] as? Int == severity)
        #expect(object["time"] as? Int == 1_764_950_400_123 && object["status_id"] as? Int == (outcome == "failure" ? 2 : 1))
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["uid"] as? String == "5f0c1d2e-0000-4000-8000-000000000001" && metadata["sequence"] as? Int == 7)
        #expect(metadata["version"] as? String == OCSFEvent.version && metadata["tenant_uid"] as? String == "org-1")
        let unmapped = try #require(object["unmapped"] as? [String: Any])
        #expect((unmapped["details"] as? [String: Any])?["k"] as? String == "v=w")
        if classUID == 3001 || classUID == 3002 { #expect((object["user"] as? [String: Any])?["uid"] as? String == "u-1") }
        if classUID == 3004 { #expect((object["entity"] as? [String: Any])?["type"] as? String == "user") }
    }

    /// A product's event names what it acted on as web resources; the source product, which
    /// ingestion appends as the last target, is not one of them.
    @Test func productEventsNameTheirOwnTargetsAsWebResources() throws {
        let targets = #"[{"id":"doc-9","name":"Roadmap","type":"page"},{"id":"p-1","name":"Wiki","type":"product"}]"#
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Self.text(.ocsf, Self.event(
            action: "product.content_exported", targets: targets)).utf8)) as? [String: Any])
        let resources = try #require(object["web_resources"] as? [[String: Any]])
        #expect(resources.count == 1 && resources[0]["uid"] as? String == "doc-9" && resources[0]["type"] as? String == "page")
        #expect(object["category_uid"] as? Int == 6 && object["activity_id"] as? Int == 7)
    }

    @Test func everyCatalogueActionHasAClass() {
        for action in AuditAction.catalogue {
            #expect(OCSFMapping.classify(action.rawValue).0.uid != 0, "\(action) falls to Base Event")
        }
    }

    @Test func splunkHECBatchIsConcatenatedEventObjects() throws {
        let batch = HTTPBatch.splunkHEC([Self.event(), Self.event(action: "group.created")], orgID: "org-1", format: .json,
                                        host: "rampart.example.com", index: "security")
        let lines = String(decoding: batch.body, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect((first["time"] as? NSNumber)?.doubleValue == 1_764_950_400.123)
        #expect(first["host"] as? String == "rampart.example.com" && first["index"] as? String == "security")
        #expect(first["source"] as? String == "rampart" && first["sourcetype"] as? String == "rampart:audit")
        #expect((first["event"] as? [String: Any])?["sequence"] as? Int == 7)
        let ocsf = HTTPBatch.splunkHEC([Self.event()], orgID: "o", format: .ocsf, host: "h", index: nil)
        #expect(String(decoding: ocsf.body, as: UTF8.self).contains(#""sourcetype":"rampart:ocsf""#))
    }

    @Test func sentinelRecordsCarryTimeGenerated() throws {
        let batch = HTTPBatch.sentinel([Self.event(), Self.event()], orgID: "org-1", format: .json)
        let records = try #require(try JSONSerialization.jsonObject(with: Data(batch.body)) as? [[String: Any]])
        #expect(records.count == 2 && records[0]["TimeGenerated"] as? String == "2025-12-05T16:00:00.123Z")
        #expect(records[0]["id"] as? String == "5f0c1d2e-0000-4000-8000-000000000001")
    }

    @Test func webhookBodies() throws {
        let json = HTTPBatch.webhook([Self.event(), Self.event()], orgID: "org-1", format: .json)
        #expect(json.contentType == "application/json")
        #expect((try JSONSerialization.jsonObject(with: Data(json.body)) as? [Any])?.count == 2)
        let cef = HTTPBatch.webhook([Self.event(), Self.event()], orgID: "org-1", format: .cef)
        #expect(cef.contentType.hasPrefix("text/plain"))
        #expect(String(decoding: cef.body, as: UTF8.self).split(separator: "\n").count == 2)
    }

    @Test func webhookSignatureMatchesPythonHMAC() {
        let signature = WebhookSignature(secret: "whsec_test", timestamp: 1_700_000_000, body: Array(#"[{"a":1}]"#.utf8))
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test", b"1700000000." + b"[{\"a\":1}]", hashlib.sha256).hexdigest())'
        #expect(signature.header == "t=1700000000,v1=2857462d29c04ed0799b9523fece763578a8694f48b10f619b3068970ccf0588")
        #expect(WebhookSignature(secret: "whsec_other", timestamp: 1_700_000_000, body: Array(#"[{"a":1}]"#.utf8)) != signature)
    }

    @Test func syslogCarriesCEFWithoutTheByteOrderMark() {
        let message = String(decoding: SyslogRecord(hostname: "h", format: .cef).message(Self.event(), orgID: "org-1"), as: UTF8.self)
        #expect(message.contains("] CEF:0|Rampart|"))
        #expect(!message.contains("\u{FEFF}"))
    }
}
