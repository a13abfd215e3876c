import CGraphviz
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Renders DOT text to SVG inside this process through libgvc, so chapters
/// need no `dot` binary on the PATH and no temporary files.
public enum Graphviz {
    // Graphviz keeps global state (the DOT lexer, its error buffer), so one
    // render at a time.
    private static let lock = NSLock()

    // One context for the whole process, used under `lock`, as Graphviz's own
    // examples do. Creating and freeing a context per call leaked about 3.6 kB
    // a call (measured with Graphviz 2.42); one shared context leaks nothing.
    nonisolated(unsafe) private static var sharedContext: OpaquePointer?

    public static func renderSVG(dot: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }

        // Collect Graphviz's own messages instead of letting it print them, so
        // they can go into the thrown error.
        let previousLevel = agseterr(AGMAX)
        defer { agseterr(previousLevel) }

        if sharedContext == nil { sharedContext = gvContext() }
        guard let context = sharedContext else {
            throw GraphvizError.noContext
        }

        guard let graph = dot.withCString({ agmemread($0) }) else {
            throw GraphvizError.unparsable(firstLine: firstLine(of: dot), message: lastMessage())
        }
        defer { agclose(graph) }

        guard gvLayout(context, graph, "dot") == 0 else {
            // Drop the context: it is missing its plugins, and a fresh one made
            // after `dot -c` has run will find them.
            gvFreeContext(context)
            sharedContext = nil
            throw GraphvizError.layoutFailed(message: lastMessage())
        }
        defer { gvFreeLayout(context, graph) }

        var buffer: UnsafeMutablePointer<CChar>?
        var length: CUnsignedInt = 0   // `unsigned int *` in Graphviz 2.x headers
        guard gvRenderData(context, graph, "svg", &buffer, &length) == 0, let buffer else {
            throw GraphvizError.renderFailed(message: lastMessage())
        }
        defer { gvFreeRenderData(buffer) }

        let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The most recent message Graphviz recorded, trimmed; empty if none.
    private static func lastMessage() -> String {
        guard let message = aglasterr() else { return "" }
        defer { free(message) }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func firstLine(of text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }
        return line.map { String($0.prefix(120)) } ?? ""
    }
}

public enum GraphvizError: Error, CustomStringConvertible {
    case noContext
    case unparsable(firstLine: String, message: String)
    case layoutFailed(message: String)
    case renderFailed(message: String)

    public var description: String {
        switch self {
        case .noContext:
            return "Graphviz could not create a context (gvContext returned NULL)"
        case let .unparsable(firstLine, message):
            return "Graphviz could not parse the DOT text starting with \"\(firstLine)\""
                + (message.isEmpty ? "" : ": \(message)")
        case let .layoutFailed(message):
            return "Graphviz could not lay out the graph with \"dot\""
                + (message.isEmpty ? "" : " (\(message))")
                + ". The layout plugins are found through the config file that `dot -c` writes;"
                + " run `dot -c` once as root."
        case let .renderFailed(message):
            return "Graphviz could not render SVG"
                + (message.isEmpty ? "" : " (\(message))")
                + ". If the svg format is unknown, run `dot -c` once as root."
        }
    }
}

/// Helpers for writing DOT text by hand.
public enum DOT {
    /// `text` as a double-quoted DOT string whose label shows exactly that
    /// text. Backslash and quote are escaped for the DOT parser and for label
    /// escapes (`\n`, `\N`, …); `{ } | < >` are escaped so record shapes
    /// show them; `&` is written `&amp;` because labels decode HTML entities.
    /// Characters one cannot see are made visible: newline as ⏎, tab as ⇥,
    /// carriage return as ␍, other control bytes as `\x1B`, and other
    /// invisible code points (zero-width, bidi, unusual spaces) as `\u200B`.
    public static func quote(_ text: String) -> String {
        "\"" + escape(visible(text)) + "\""
    }

    /// Several lines as one DOT string, each centred on its own line.
    public static func quote(lines: [String]) -> String {
        "\"" + lines.map { escape(visible($0)) }.joined(separator: "\\n") + "\""
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "&": out += "&amp;"
            case "{", "}", "|", "<", ">": out += "\\" + String(character)
            default: out.append(character)
            }
        }
        return out
    }

    private static func visible(_ text: String) -> String {
        var out = ""
        for character in text {
            let scalars = character.unicodeScalars
            // Clusters of several code points (emoji with joiners, flags,
            // letters with accents) are shown as they are, unless they hold a
            // control character, as "\r\n" does.
            if scalars.count > 1, !scalars.contains(where: { $0.properties.generalCategory == .control }) {
                out.append(character)
                continue
            }
            for scalar in scalars { out += visible(scalar) }
        }
        return out
    }

    private static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "⏎"
        case "\t": return "⇥"
        case "\r": return "␍"
        case " ": return " "
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control:
            return "\\x" + hex(scalar.value, width: 2)
        case .format, .lineSeparator, .paragraphSeparator, .spaceSeparator,
             .privateUse, .surrogate, .unassigned:
            return "\\u" + hex(scalar.value, width: 4)
        default:
            return String(scalar)
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
