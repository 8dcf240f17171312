#if canImport(Glibc)
import Glibc
#endif

/// Bytes from the operating system's generator.
enum SystemRandom {
    /// The C library's arc4random_buf (getrandom underneath) fills them in one call.
    static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        #if canImport(Glibc)
        bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, count) }
        #else
        var rng = SystemRandomNumberGenerator()
        for i in 0..<count { bytes[i] = rng.next() }
        #endif
        return bytes
    }
}
