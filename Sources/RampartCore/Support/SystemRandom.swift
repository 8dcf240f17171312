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

/// Bytes from the system's generator drawn many at a time, for work that needs a few per
/// item of a batch (an event's id, its seals' nonces): `arc4random_buf` makes a system call
/// every time, which for a batch of a thousand events cost several percent of ingestion's CPU.
struct RandomBytePool {
    private static let perDraw = 16_384
    private var bytes: [UInt8] = []
    private var next = 0

    mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        precondition(count <= Self.perDraw)
        if bytes.count - next < count {
            bytes = SystemRandom.bytes(Self.perDraw)
            next = 0
        }
        defer { next += count }
        return bytes[next..<(next + count)]
    }
}
