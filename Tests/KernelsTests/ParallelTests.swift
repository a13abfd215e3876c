import XCTest
import Foundation
import Kernels

/// parallelChunks on the spinning pool: every index once, whatever the thread
/// count, and calls the pool cannot take (nested, or from two threads at once)
/// still run in full.
final class ParallelTests: XCTestCase {
    override func tearDown() { Threads.use(2) }

    /// Counts how often each index of 0..<count is visited by `visit`.
    func visits(_ count: Int, _ visit: (@escaping (Range<Int>) -> Void) -> Void) -> [Int] {
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: count)
        seen.initialize(repeating: 0, count: count)
        defer { seen.deallocate() }
        let lock = NSLock()
        visit { range in lock.lock(); for i in range { seen[i] += 1 }; lock.unlock() }
        return Array(UnsafeBufferPointer(start: seen, count: count))
    }

    func testEveryIndexOnceAtEveryThreadCount() {
        for threads in [1, 2, 3, 8] {
            Threads.use(threads)
            for count in [1, 2, 7, 1000] {
                for _ in 0..<200 {   // back to back, as layers call it
                    XCTAssertEqual(visits(count) { body in parallelChunks(count, body) }, Array(repeating: 1, count: count),
                                   "threads \(threads), count \(count)")
                }
            }
        }
    }

    func testNestedAndSimultaneousCallsRunInFull() {
        Threads.use(2)
        let nested = visits(400) { body in
            parallelChunks(4) { outer in
                for o in outer { parallelChunks(100) { inner in body((o * 100 + inner.lowerBound)..<(o * 100 + inner.upperBound)) } }
            }
        }
        XCTAssertEqual(nested, Array(repeating: 1, count: 400))
        let simultaneous = visits(2000) { body in
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                for _ in 0..<50 { parallelChunks(1000) { r in body((half * 1000 + r.lowerBound)..<(half * 1000 + r.upperBound)) } }
            }
        }
        XCTAssertEqual(simultaneous, Array(repeating: 50, count: 2000))
    }
}
