import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress of a long loop such as training, written to stderr so stdout stays
/// clean for results and JSON.
///
/// On a terminal one status line is redrawn in place; in a log file (CI, `make
/// report > log`) a plain line is printed for the first step, then at most
/// every `logInterval` seconds, then for the last step.
///
///     let progress = Progress(total: steps, label: "train")
///     for step in 1...steps {
///         …
///         progress.update(step: step, fields: [("loss", CSVTable.format(loss, digits: 4))])
///     }
///     progress.finish()
public final class Progress {
    public let total: Int
    public let label: String

    private let isTerminal: Bool
    private let output: (String) -> Void
    private let now: () -> Double
    private let start: Double
    private let logInterval: Double
    private var lastPrinted: Double = -.infinity
    private var lastLine: String?
    private var lastLineWasPrinted = false
    private var finished = false

    public convenience init(total: Int, label: String) {
        self.init(total: total, label: label,
                  isTerminal: isatty(STDERR_FILENO) != 0,
                  output: { text in FileHandle.standardError.write(Data(text.utf8)) },
                  now: { Date().timeIntervalSinceReferenceDate })
    }

    /// The full initializer lets tests supply the clock and catch the output.
    init(total: Int, label: String, isTerminal: Bool, logInterval: Double = 5,
         output: @escaping (String) -> Void, now: @escaping () -> Double) {
        self.total = total
        self.label = label
        self.isTerminal = isTerminal
        self.logInterval = logInterval
        self.output = output
        self.now = now
        self.start = now()
    }

    /// Reports that `step` of `total` steps are done, with named values such as
    /// ("loss", "2.31") or ("tok/s", "5400").
    public func update(step: Int, fields: [(String, String)] = []) {
        let time = now()
        let isFirst = lastLine == nil
        let isLast = step >= total
        let line = render(step: step, fields: fields, elapsed: time - start)
        lastLine = line

        // A terminal can take ten redraws a second; a log file wants few lines.
        let interval = isTerminal ? 0.1 : logInterval
        guard isFirst || isLast || time - lastPrinted >= interval else {
            lastLineWasPrinted = false
            return
        }
        lastPrinted = time
        lastLineWasPrinted = true
        output(isTerminal ? "\r" + line + "\u{1B}[K" : line + "\n")
    }

    /// Prints the latest state if it was held back, and ends the status line.
    public func finish() {
        guard !finished else { return }
        finished = true
        guard let lastLine else { return }
        if isTerminal {
            output("\r" + lastLine + "\u{1B}[K\n")
        } else if !lastLineWasPrinted {
            output(lastLine + "\n")
        }
    }

    private func render(step: Int, fields: [(String, String)], elapsed: Double) -> String {
        var parts = ["\(label) \(step)/\(total)"]
        parts += fields.map { "\($0.0) \($0.1)" }
        parts.append("elapsed \(Progress.duration(elapsed))")
        if step > 0, step < total {
            let remaining = elapsed / Double(step) * Double(total - step)
            parts.append("eta \(Progress.duration(remaining))")
        }
        return parts.joined(separator: "  ")
    }

    /// "4.2s", "3m05s", "1h02m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return String(format: "%dh%02dm", whole / 3600, (whole % 3600) / 60)
    }
}
