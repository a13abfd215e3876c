import Foundation

extension CSVTable {
    /// The table as an HTML `<table>`. Cells that read as numbers get
    /// `class="num"` (right-aligned by the report's style, so digits line up),
    /// and so does the header of a column that holds only numbers.
    public func htmlTable() -> String {
        let numericColumn = columns.indices.map { index in
            let cells = rows.map { $0[index] }.filter { !$0.isEmpty }
            return !cells.isEmpty && cells.allSatisfy(CSVTable.isNumber)
        }

        var html = "<table>\n<thead><tr>"
        for (index, name) in columns.enumerated() {
            html += cell("th", name, numeric: numericColumn[index])
        }
        html += "</tr></thead>\n<tbody>\n"
        for row in rows {
            html += "<tr>"
            for field in row { html += cell("td", field, numeric: CSVTable.isNumber(field)) }
            html += "</tr>\n"
        }
        html += "</tbody>\n</table>\n"
        return html
    }

    private func cell(_ tag: String, _ text: String, numeric: Bool) -> String {
        "<\(tag)\(numeric ? " class=\"num\"" : "")>\(HTMLText.escape(text))</\(tag)>"
    }

    static func isNumber(_ field: String) -> Bool {
        Double(field.trimmingCharacters(in: .whitespaces)) != nil
    }
}
