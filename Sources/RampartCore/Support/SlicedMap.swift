import Foundation

extension Array where Element: Sendable {
    /// `transform` of the array's slices, joined in order: a long array is cut into as many
    /// slices as the machine has cores, each transformed on a task of its own; one shorter than
    /// two slices of `minimumSlice` is transformed where it is. For CPU-bound work on each
    /// element of a batch, such as opening the sealed personal data of an export's page.
    public func mapInSlices<T: Sendable>(minimumSlice: Int = 200, _ transform: @escaping @Sendable (ArraySlice<Element>) -> [T])
        async -> [T]
    {
        let parts = Swift.min(ProcessInfo.processInfo.activeProcessorCount, count / Swift.max(1, minimumSlice))
        guard parts > 1 else { return transform(self[...]) }
        let size = (count + parts - 1) / parts
        return await withTaskGroup(of: (Int, [T]).self) { group in
            for start in stride(from: 0, to: count, by: size) {
                let slice = self[start..<Swift.min(start + size, count)]
                group.addTask { (start, transform(slice)) }
            }
            var done: [(start: Int, results: [T])] = []
            for await part in group { done.append(part) }
            return done.sorted { $0.start < $1.start }.flatMap(\.results)
        }
    }
}
