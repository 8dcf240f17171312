import Foundation
import RampartCore
import Testing

@Suite("Work in slices, and byte search")
struct SlicedMapTests {
    /// Whatever the length, the slices' results join in the array's order, each element once.
    @Test(arguments: [0, 1, 199, 399, 400, 500, 1000, 2001])
    func slicesJoinInOrder(_ count: Int) async {
        let numbers = Array(0..<count)
        let doubled = await numbers.mapInSlices { $0.map { $0 * 2 } }
        #expect(doubled == numbers.map { $0 * 2 })
        let sizes = await numbers.mapInSlices(minimumSlice: 100) { [$0.count] }
        #expect(sizes.reduce(0, +) == count)
        #expect(sizes.count == (count >= 200 ? min(ProcessInfo.processInfo.activeProcessorCount, count / 100) : 1))
    }

    @Test func bytesAreFoundWhereTheyAre() {
        #expect(#"[{"id":"u1","type":"user"}]"#.containsBytes(#""user""#))
        #expect(!#"[{"id":"u1","type":"users"}]"#.containsBytes(#""user""#))
        #expect("ab".containsBytes("") && !"".containsBytes("a") && !"a".containsBytes("ab"))
        #expect("xxaab".containsBytes("aab") && "é\"user\"".containsBytes("\"user\""))
    }
}
