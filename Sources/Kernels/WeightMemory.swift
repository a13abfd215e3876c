import Foundation

/// Zeroed memory for packed weights, given back with `freeWeightBytes`.
/// Decoding reads every weight once per token, in groups of rows that span one
/// 4 KiB page each at LLaMA's widths, so with 4 KiB pages every group also
/// costs a TLB miss (a two-level page walk under a hypervisor). A buffer of
/// 2 MiB or more is aligned to 2 MiB and offered to Linux's transparent huge
/// pages, which the system may grant or not; the contents are the same either
/// way. On a Xeon VM the binary GEMV streaming 1 GiB of signs gained 1–5 %.
func allocateWeightBytes(_ count: Int) -> UnsafeMutablePointer<UInt8> {
    let huge = 1 << 21
    var memory: UnsafeMutableRawPointer?
    guard posix_memalign(&memory, count >= huge ? huge : 64, max(1, count)) == 0, let memory else {
        fatalError("out of memory for \(count) bytes of weights")
    }
    #if os(Linux)
    if count >= huge { _ = madvise(memory, count / huge * huge, MADV_HUGEPAGE) }
    #endif
    memset(memory, 0, count)   // after the advice: the first touch is what chooses the page size
    return memory.bindMemory(to: UInt8.self, capacity: count)
}

func freeWeightBytes(_ memory: UnsafeMutablePointer<UInt8>) { free(memory) }
