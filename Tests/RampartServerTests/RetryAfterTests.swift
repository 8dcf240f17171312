import Foundation
@testable import RampartServer
import Testing

/// A 429's `Retry-After` (RFC 9110 §10.2.3) as the HTTP log streams read it: seconds or an HTTP
/// date, never negative, at most an hour, and nothing for what is neither.
@Suite("Retry-After")
struct RetryAfterTests {
    @Test func secondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_764_950_400)  // Fri, 05 Dec 2025 16:00:00 GMT
        #expect(HTTPDelivery.retryAfter("7", now: now) == 7)
        #expect(HTTPDelivery.retryAfter(" 0 ", now: now) == 0)
        #expect(HTTPDelivery.retryAfter("86400", now: now) == 3600, "at most an hour")
        #expect(HTTPDelivery.retryAfter("-5", now: now) == 0)
        #expect(HTTPDelivery.retryAfter("Fri, 05 Dec 2025 16:00:30 GMT", now: now) == 30)
        #expect(HTTPDelivery.retryAfter("Fri, 05 Dec 2025 15:00:00 GMT", now: now) == 0, "a date in the past: at once")
        #expect(HTTPDelivery.retryAfter("soon", now: now) == nil)
        #expect(HTTPDelivery.retryAfter(nil, now: now) == nil)
    }
}
