import Files
import Foundation

/// A sweep's points as one Slurm array job: task K runs point K with
/// `mos sweep … --point K` on one CPU and writes its record into the sweep's
/// folder, which the cluster's machines share. Then the records are gathered:
/// a chapter waits for the array (`sbatch --wait`) and gathers them itself;
/// `mos sweep --slurm` returns at once, leaving a collect job that starts when
/// every task has succeeded (`--dependency=afterok`). A failed or cancelled
/// task leaves its point without a record, and the same command run again
/// submits only those. Slurm schedules; this project keeps no queue of its own.
public struct Slurm: Sendable {
    public var partition: String?
    public var time: String?            // per task, in sbatch's forms (e.g. 1:00:00)
    public var cpusPerTask = 1
    public var throttle: Int?           // tasks running at once (--array=…%N)

    public init() {}

    /// Submits `todo` as an array job. With `wait`, returns when every task
    /// has ended; otherwise submits `collect` to run after them, returns at once
    /// and says how to follow both. Returns the job ids.
    @discardableResult
    func submit(_ sweep: Sweep, _ todo: [Sweep.Point], csv: URL, wait: Bool, collect: [String]? = nil,
                log: (String) -> Void) throws -> [String] {
        let folder = Sweep.pointFolder(csv)
        let name = "mos-" + csv.deletingPathExtension().lastPathComponent
        var script = ["#!/bin/bash", "# \(todo.count) point(s) of \(csv.path), one per array task (written by mos).",
                      "case \"$SLURM_ARRAY_TASK_ID\" in"]
        for point in todo { script.append("  \(point.index)) exec \(Self.shellLine(sweep.command(for: point, csv: csv))) ;;") }
        script += ["  *) echo \"no point $SLURM_ARRAY_TASK_ID in this sweep\" >&2; exit 2 ;;", "esac", ""]
        let file = folder.appendingPathComponent("array.sh")
        do { try AtomicFile.write(script.joined(separator: "\n"), to: file) }
        catch let error as FileError { throw SweepError(error.description) }

        let array = Self.ranges(todo.map(\.index)) + (throttle.map { "%\($0)" } ?? "")
        let id = try Self.sbatch(options(name) + ["--array=" + array, "--output=" + folder.path + "/slurm-%A_%a.out"]
                                 + (wait ? ["--wait"] : []) + [file.path], wait: wait, log: log)
        guard let collect else { return [id] }
        let collectID = try Self.sbatch(options(name + "-collect")
                                        + ["--dependency=afterok:" + id, "--kill-on-invalid-dep=yes",
                                           "--output=" + folder.path + "/slurm-collect-%j.out",
                                           "--wrap=" + Self.shellLine(collect)], wait: false, log: log)
        log("""
            sweep: \(todo.count) point(s) submitted as array job \(id) (tasks \(array)), and collect job \(collectID) after them
            follow them with: squeue -j \(id),\(collectID)   (and afterwards, where accounting is on: sacct -j \(id))
            logs: \(folder.path)/slurm-\(id)_K.out for task K
            when the collect job has run, \(csv.path) holds the records; if a task failed, run this command again: it submits only the points without one
            """)
        return [id, collectID]
    }

    func options(_ name: String) -> [String] {
        ["--job-name=" + name, "--cpus-per-task=\(cpusPerTask)"]
            + (partition.map { ["--partition=" + $0] } ?? []) + (time.map { ["--time=" + $0] } ?? [])
    }

    /// Runs sbatch and returns the job id. Waiting, its own lines go to
    /// standard error as they come; otherwise --parsable's "id[;cluster]" is read.
    static func sbatch(_ arguments: [String], wait: Bool, log: (String) -> Void) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch"] + (wait ? [] : ["--parsable"]) + arguments
        let output = Pipe()
        process.standardOutput = wait ? FileHandle.standardError : output
        do { try process.run() } catch { throw SweepError("sbatch could not be started: \(error)") }
        if wait { log("sweep: waiting for the array job (squeue --me shows it)") }
        let text = wait ? "" : String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let status = process.terminationStatus
        if status == 127 {
            throw SweepError("sbatch is not on PATH: run Slurm sweeps on a cluster's login node (or start scripts/slurm-local.sh)")
        }
        // Waiting, a failed task makes sbatch fail too; the points without a record say which.
        guard status == 0 || wait else { throw SweepError("sbatch \(arguments.joined(separator: " ")) failed (exit \(status))") }
        return String(text.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Indices as sbatch's --array takes them: 1,2,3,5,7,8 as 1-3,5,7-8.
    public static func ranges(_ indices: [Int]) -> String {
        var parts: [String] = [], i = 0
        let sorted = indices.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// A command as one shell line: each argument as is where that is safe, else in single quotes.
    public static func shellLine(_ arguments: [String]) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+%")
        return arguments.map { a in
            !a.isEmpty && a.allSatisfy(safe.contains) ? a : "'" + a.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

extension Sweep {
    /// Submits the points without a record to `slurm` with `collect` after
    /// them, and returns at once (the records of points already run are gathered first).
    public func submit(on slurm: Slurm, into csv: URL, collect: [String], log: (String) -> Void) throws {
        try check(csv)
        let fileLock = try lock(csv, log: log)
        defer { fileLock.release() }
        let (records, todo) = try gather(csv, teacher: teacherName)
        guard !todo.isEmpty else {
            log("sweep: nothing to submit: \(csv.lastPathComponent) holds every point (\(own(records).count))")
            return
        }
        try slurm.submit(self, todo, csv: csv, wait: false, collect: collect, log: log)
    }
}
