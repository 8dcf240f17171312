import NIOHTTP1

/// HTTP framing the parser could not read (an invalid chunk size, conflicting lengths, a bare
/// LF...). Hummingbird hands it to the handler as the error of the request body stream, so it
/// reaches whichever surface was reading the body; it is always the client's error.
enum MalformedFraming {
    static func matches(_ error: any Error) -> Bool { error is HTTPParserError }

    static let message = "The request's HTTP framing is malformed (for example an invalid chunk size)."
}
