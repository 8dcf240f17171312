import CLibXML2
import CXMLSec
import Foundation

/// A parsed XML document, parsed the one safe way: no DOCTYPE at all (so no external entities and
/// no entity expansion), no network (XML_PARSE_NONET), never XML_PARSE_NOENT or XML_PARSE_DTDLOAD.
final class SAMLDocument: @unchecked Sendable {
    let pointer: xmlDocPtr

    private init(pointer: xmlDocPtr) { self.pointer = pointer }
    deinit { xmlFreeDoc(pointer) }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, what: String) throws(SAMLRejection) -> SAMLDocument {
        guard XMLSecurityLibrary.ensureInitialised() else {
            throw SAMLRejection(.malformed, "the XML security library could not be initialised on this server")
        }
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }  // UTF-8 BOM
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        // UTF-8 only: other encodings (UTF-16, EBCDIC) would hide markup from the DOCTYPE check.
        guard start < bytes.count, bytes[start] == UInt8(ascii: "<"), !bytes.contains(0) else {
            throw SAMLRejection(.malformed, "the \(what) is not a UTF-8 XML document")
        }
        if contains(bytes, "<!DOCTYPE") || contains(bytes, "<!ENTITY") {
            throw SAMLRejection(.doctypeForbidden, "the \(what) contains a DOCTYPE or an entity declaration, which are never accepted")
        }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        guard let base = bytes.baseAddress,
              let document = base.withMemoryRebound(to: CChar.self, capacity: bytes.count, {
                  xmlReadMemory($0, Int32(bytes.count), nil, nil, options)
              })
        else {
            throw SAMLRejection(.malformed, "the \(what) is not well-formed XML")
        }
        let parsed = SAMLDocument(pointer: document)
        guard document.pointee.intSubset == nil, document.pointee.extSubset == nil else {
            throw SAMLRejection(.doctypeForbidden, "the \(what) contains a DOCTYPE, which is never accepted")
        }
        return parsed
    }

    static func parse(_ data: Data, what: String) throws(SAMLRejection) -> SAMLDocument {
        let result: Result<SAMLDocument, SAMLRejection> = data.withUnsafeBytes { raw in
            do throws(SAMLRejection) {
                return .success(try parse(raw.bindMemory(to: UInt8.self), what: what))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Finds `needle` (which starts with "<") with memchr and memcmp: a plain loop over a
    /// response's bytes costs more than parsing it.
    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let length = needle.utf8CodeUnitCount
        var offset = 0
        while offset + length <= bytes.count {
            guard let found = memchr(base + offset, Int32(needle.utf8Start.pointee), bytes.count - offset) else { return false }
            let position = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            if position + length <= bytes.count, memcmp(found, needle.utf8Start, length) == 0 { return true }
            offset = position + 1
        }
        return false
    }

    var root: SAMLNode? { xmlDocGetRootElement(pointer).map { SAMLNode(pointer: $0) } }

    /// Registers every `ID` attribute as an XML ID (what a Reference URI "#…" resolves), and
    /// refuses a document where two elements share an ID: a wrapping attack's usual trick.
    func registerIDs() throws(SAMLRejection) {
        guard let root else { return }
        try register(root)
    }

    func register(_ element: SAMLNode) throws(SAMLRejection) {
        var stack = [element]
        while let node = stack.popLast() {
            if let attribute = xmlHasProp(node.pointer, "ID"), attribute.pointee.ns == nil,
               let value = node.attribute("ID") {
                if let existing = xmlGetID(pointer, value) {
                    if existing != attribute {
                        throw SAMLRejection(.malformed, "two elements of the response have the same ID")
                    }
                } else if xmlAddID(nil, pointer, value, attribute) == nil {
                    throw SAMLRejection(.malformed, "an ID in the response could not be registered")
                }
            }
            stack.append(contentsOf: node.elements)
        }
    }
}

/// An element of a SAMLDocument (valid while the document lives).
struct SAMLNode {
    let pointer: xmlNodePtr

    var localName: String { String(cString: pointer.pointee.name) }
    var namespace: String? { pointer.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) } }

    /// Compared in place (no String made from the node): called for every element of every walk.
    func `is`(_ namespace: String, _ name: String) -> Bool {
        guard let href = pointer.pointee.ns?.pointee.href else { return false }
        return strcmp(UnsafeRawPointer(pointer.pointee.name).assumingMemoryBound(to: CChar.self), name) == 0
            && strcmp(UnsafeRawPointer(href).assumingMemoryBound(to: CChar.self), namespace) == 0
    }

    /// An attribute without a namespace.
    func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(pointer, name) else { return nil }
        defer { rampart_xml_free(value) }
        return String(cString: value)
    }

    /// The element's whole text content: every text node, however comments split them.
    var text: String {
        guard let value = xmlNodeGetContent(pointer) else { return "" }
        defer { rampart_xml_free(value) }
        return String(cString: value)
    }

    var trimmedText: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    var parent: SAMLNode? {
        guard let parent = pointer.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { return nil }
        return SAMLNode(pointer: parent)
    }

    var elements: [SAMLNode] {
        var result: [SAMLNode] = []
        var child = pointer.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { result.append(SAMLNode(pointer: node)) }
            child = node.pointee.next
        }
        return result
    }

    func children(_ namespace: String, _ name: String) -> [SAMLNode] { elements.filter { $0.is(namespace, name) } }
    func child(_ namespace: String, _ name: String) -> SAMLNode? { elements.first { $0.is(namespace, name) } }

    /// Every element below this one (not itself) with this name.
    func descendants(_ namespace: String, _ name: String) -> [SAMLNode] {
        var result: [SAMLNode] = []
        var stack = elements.reversed() as [SAMLNode]
        while let node = stack.popLast() {
            if node.is(namespace, name) { result.append(node) }
            stack.append(contentsOf: node.elements.reversed())
        }
        return result
    }
}
