import RampartCore

/// A CIDR block such as `192.0.2.0/24` or `2001:db8::/32`.
public struct IPNetwork: Sendable, Hashable, Codable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init(parsing text: String) throws(RampartError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(String(parts[0])) else {
            throw .invalidField("ipAllowlist", "has an entry that is not an IPv4 or IPv6 address or CIDR block")
        }
        let maximum = address.bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length) else {
            throw .invalidField("ipAllowlist", "has a CIDR prefix length out of range")
        }
        self.address = IPAddress(masking: address, to: length)
        self.prefixLength = length
    }

    private init(address: IPAddress, prefixLength: Int) {
        self.address = address; self.prefixLength = prefixLength
    }

    public func contains(_ other: IPAddress) -> Bool {
        other.bytes.count == address.bytes.count && IPAddress(masking: other, to: prefixLength) == address
    }

    /// The addresses in both blocks: CIDR blocks either nest or are disjoint.
    public func intersection(_ other: IPNetwork) -> IPNetwork? {
        if prefixLength <= other.prefixLength { return contains(other.address) ? other : nil }
        return other.contains(address) ? self : nil
    }

    public var description: String { "\(address)/\(prefixLength)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try IPNetwork(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
