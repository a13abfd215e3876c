import Dispatch
import Foundation
import CBLAS
import CKernels

/// How many threads the numerical code uses. Every command takes `--threads N`
/// and sets this once; results are bit-for-bit reproducible at a fixed count,
/// because work is always split into the same contiguous chunks (or, where
/// every row is computed alone, handed out as threads free up: one token's
/// binary product, ck_binary_token_shared).
public enum Threads {
    nonisolated(unsafe) public private(set) static var count = 1

    /// Sets the thread count. OpenBLAS is pinned to one thread: we parallelise
    /// around it (by rows or output features), which keeps the split, and so
    /// the rounding, under our control.
    public static func use(_ n: Int) {
        count = max(1, n)
        openblas_set_num_threads(1)
    }

    public static var available: Int { System.coreCount }
}

public enum System {
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// Runs `body` over `0..<count` split into `Threads.count` contiguous chunks,
/// one chunk per thread. Chunk boundaries depend only on `count` and the
/// thread count, never on timing. The chunks go to the pool's spinning
/// workers (pool.h), or to Dispatch where the pool cannot take them (a
/// nested call, another thread's task running, more threads than cores).
@inline(__always)
public func parallelChunks(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let chunks = max(1, min(Threads.count, count / max(1, minimumChunk)))
    if chunks == 1 { body(0..<count); return }
    withoutActuallyEscaping(body) { body in
        var task = ChunkTask(count: count, chunks: chunks, body: body)
        if withUnsafeMutablePointer(to: &task, { ck_parallel(Int32(chunks), runChunk, $0) }) == 0 {
            DispatchQueue.concurrentPerform(iterations: chunks) { task.run($0) }
        }
    }
}

struct ChunkTask {
    let count: Int, chunks: Int
    let body: (Range<Int>) -> Void
    func run(_ c: Int) {
        let start = count * c / chunks, end = count * (c + 1) / chunks
        if start < end { body(start..<end) }
    }
}

private let runChunk: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Void = { task, c in
    task!.assumingMemoryBound(to: ChunkTask.self).pointee.run(Int(c))
}
