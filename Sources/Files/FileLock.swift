import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a file, held from `init` until `release` (or the end
/// of the process). It is flock(2): the kernel drops the lock when its holder
/// dies, even by kill -9, so a lock is never left stale and a killed run never
/// blocks the next. The file stays after release: removing it while another
/// process waits on it would let a third take a second lock on a new file.
/// The holder writes who it is into the file, so a waiter can name it.
public final class FileLock {
    private var descriptor: Int32

    /// Takes the lock on `url`, waiting for it if another process holds it;
    /// `waiting` is told who holds it (pid, host, since when) before the wait.
    public init(_ url: URL, waiting: (String) -> Void) throws {
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileError(path: url.path, code: errno) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            // The holder writes its name just after taking the lock: give it a moment to.
            var holder = ""
            for _ in 0..<25 where holder.isEmpty {
                holder = ((try? String(contentsOf: url, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                if holder.isEmpty { usleep(20_000) }
            }
            waiting(holder.isEmpty ? "another process" : holder)
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let code = errno
                    close(descriptor)
                    throw FileError(path: url.path, code: code)
                }
            }
        }
        let me = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(descriptor, 0)
        _ = me.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    public func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        close(descriptor)              // closing the descriptor drops the lock
        descriptor = -1
    }

    deinit { release() }
}
