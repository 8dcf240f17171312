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

    private init(folded entries: Set<String>) { self.entries = entries }

    /// One password a line, UTF-8. `folded: true` trusts that every line is folded already,
    /// as in the shipped list, which then loads without normalising 377,000 lines.
    public init(contentsOf url: URL, folded: Bool = false) throws(RampartError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RampartError(.configuration, "The password blocklist could not be read.")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        if folded { self.init(folded: Set(lines)) } else { self.init(entries: lines) }
    }

    /// The list shipped with Rampart, read once per process.
    public static let shipped: PasswordBlocklist = {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil)?
                .appendingPathComponent("password-blocklist.txt"),
              let list = try? PasswordBlocklist(contentsOf: url, folded: true)
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
