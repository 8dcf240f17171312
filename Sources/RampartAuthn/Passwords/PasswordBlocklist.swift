import Foundation
import RampartCore

/// Common and breached passwords that may not be chosen, held in a hash set so a lookup
/// costs the same whatever the list's size. The shipped list and its licence are described
/// in docs/password-blocklist.md.
public struct PasswordBlocklist: Sendable {
    private let entries: Set<String>

    public var count: Int { entries.count }

    /// Entries are folded as lookups are, so the list's own spelling does not matter.
    public init(entries: some Sequence<String>) {
        self.entries = Set(entries.lazy.map(Self.fold).filter { !$0.isEmpty })
    }

    /// One password a line, UTF-8.
    public init(contentsOf url: URL) throws(RampartError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RampartError(.configuration, "The password blocklist could not be read.")
        }
        self.init(entries: String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init))
    }

    /// The list shipped with Rampart, read once per process.
    public static let shipped: PasswordBlocklist = {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil)?
                .appendingPathComponent("password-blocklist.txt"),
              let list = try? PasswordBlocklist(contentsOf: url)
        else { preconditionFailure("the password blocklist resource is missing from the build") }
        return list
    }()

    public func contains(_ password: String) -> Bool {
        entries.contains(Self.fold(password))
    }

    /// Case differences do not make a listed password safe.
    static func fold(_ text: String) -> String {
        PasswordPolicy.normalize(text).lowercased()
    }
}
