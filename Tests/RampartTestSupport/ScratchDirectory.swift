import Foundation

/// A new, empty directory of one test's own under the system's temporary directory. The
/// caller removes it when done.
public func makeScratchDirectory(_ prefix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
