import Foundation
import RampartCore

extension PublicSuffixList {
    /// Debian's copy of the list (package `publicsuffix`), read once. Without it only top-level
    /// domains are refused, and the server says so at start-up (`Serve`).
    public static let systemPath = "/usr/share/publicsuffix/public_suffix_list.dat"
    public static let system: PublicSuffixList = {
        guard let data = FileManager.default.contents(atPath: systemPath) else { return .empty }
        return PublicSuffixList(text: String(decoding: data, as: UTF8.self))
    }()
}
