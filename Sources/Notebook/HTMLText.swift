import Foundation

/// Small text helpers shared by the weaver and the report.
enum HTMLText {
    /// Text made safe to place between tags or inside a double-quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Undoes the escaping Ink applies to the plain text of a heading, which
    /// escapes `<`, `>` and `&` and nothing else.
    static func unescapeInk(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")   // last, so "&amp;lt;" stays "&lt;"
    }

    /// A fragment id from a title: lower-case ASCII letters and digits joined
    /// by single hyphens ("2. Mixture of Scales!" → "2-mixture-of-scales").
    /// Empty when the title has no ASCII letters or digits.
    static func slug(_ title: String) -> String {
        var out = ""
        var pendingHyphen = false
        for scalar in title.lowercased().unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if pendingHyphen, !out.isEmpty { out += "-" }
                pendingHyphen = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingHyphen = true
            }
        }
        return out
    }
}
