import Foundation

/// A `multipart/form-data` body (RFC 7578), as a console form with a file field sends it: each
/// part's name and its content as text. Only what the console's forms use: no nested parts,
/// no transfer encodings; a part that is not well-formed ends the reading.
enum MultipartForm {
    /// The boundary of a `multipart/form-data` Content-Type, or nil for any other type.
    static func boundary(ofContentType type: String) -> String? {
        let parts = type.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("boundary=") {
            let value = parameter.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    static func fields(_ body: [UInt8], boundary: String) -> [String: String] {
        let delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body without the CRLF before it.
        let bytes = Array("\r\n".utf8) + body
        var fields: [String: String] = [:]
        guard var start = find(delimiter, in: bytes, from: 0) else { return fields }
        while true {
            let afterDelimiter = start + delimiter.count
            // "--" after a delimiter closes the body.
            guard afterDelimiter + 2 <= bytes.count, bytes[afterDelimiter] != UInt8(ascii: "-"),
                  let headersEnd = find(Array("\r\n\r\n".utf8), in: bytes, from: afterDelimiter),
                  let next = find(delimiter, in: bytes, from: headersEnd + 4) else { break }
            let headers = String(decoding: bytes[afterDelimiter..<headersEnd], as: UTF8.self)
            if let name = name(inHeaders: headers) {
                fields[name] = String(decoding: bytes[(headersEnd + 4)..<next], as: UTF8.self)
            }
            start = next
        }
        return fields
    }

    /// The `name` parameter of the part's Content-Disposition.
    private static func name(inHeaders headers: String) -> String? {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            for parameter in line.split(separator: ";").dropFirst() {
                let pair = parameter.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0].lowercased() == "name" {
                    return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from offset: Int) -> Int? {
        guard needle.count <= haystack.count, offset <= haystack.count - needle.count else { return nil }
        var index = offset
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
