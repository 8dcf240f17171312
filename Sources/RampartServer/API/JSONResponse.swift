import Foundation
import HTTPTypes
import Hummingbird
import RampartCore
import RampartStorage

/// JSON in and out of the admin API.
enum JSON {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let bytes = try JSONBodyEncoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func noContent() -> Response { Response(status: .noContent) }

    static func error(_ error: RampartError, status: HTTPResponse.Status) -> Response {
        struct Body: Encodable {
            struct Detail: Encodable { let code: String; let message: String }
            let error: Detail
        }
        var response = (try? response(Body(error: .init(code: error.code.rawValue, message: error.message)), status: status))
            ?? Response(status: status)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// `{"data": [...], "nextCursor": ...}`, the shape of every list (the CLI's `--json` too).
public struct PageBody<Item: Encodable & Sendable>: Encodable, Sendable {
    let data: [Item]
    let nextCursor: String?

    public init(_ page: Page<Item>) { data = page.items; nextCursor = page.nextCursor }
    init(items: [Item]) { data = items; nextCursor = nil }
}

/// A list without pagination: `{"data": [...]}`.
struct ListBody<Item: Encodable & Sendable>: Encodable {
    let data: [Item]
}

extension RampartError {
    var httpStatus: HTTPResponse.Status {
        switch code {
        case .invalidJSON, .unknownField, .invalidField, .invalidParameter, .malformedRequest: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .conflict, .adminLockout, .alreadyErased: return .conflict
        case .payloadTooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .databaseUnavailable: return .serviceUnavailable
        case .receiverUnreachable: return .badGateway
        case .domainNotVerified: return .unprocessableContent
        default: return .internalServerError
        }
    }
}
