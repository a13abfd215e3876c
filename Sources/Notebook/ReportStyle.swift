/// The report's style sheet, inlined into the page. Only fonts every system
/// has: nothing is fetched.
enum ReportStyle {
    static let css = """
    body {
      max-width: 50rem; margin: 0 auto; padding: 2rem 1.25rem 5rem;
      font-family: Charter, "Bitstream Charter", Georgia, "DejaVu Serif", serif;
      font-size: 17px; line-height: 1.6; color: #1f1f1f; background: #ffffff;
    }
    h1, h2, h3, h4, nav.toc, table, figcaption {
      font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
    }
    h1, h2, h3, h4 { line-height: 1.25; margin: 2rem 0 0.75rem; }
    header.report h1 { font-size: 2.1rem; margin-top: 0; }
    section.chapter { border-top: 2px solid #d8d8d8; margin-top: 3.5rem; padding-top: 0.5rem; }
    section.chapter h1 { font-size: 1.7rem; }
    section.chapter h2 { font-size: 1.3rem; }
    a { color: #1a56a8; }
    nav.toc { background: #f7f7f9; border: 1px solid #e2e2e6; border-radius: 6px; padding: 0.5rem 1.25rem; margin: 1.5rem 0; }
    nav.toc h2 { font-size: 1.1rem; margin: 0.5rem 0; }
    nav.toc ol { margin: 0.25rem 0 0.75rem; padding-left: 1.5rem; }
    table { border-collapse: collapse; margin: 1rem 0; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
    th, td { border: 1px solid #c6c6cc; padding: 0.3rem 0.65rem; text-align: left; vertical-align: top; }
    thead th { background: #f0f0f3; }
    .num { text-align: right; }
    div.table { overflow-x: auto; }
    table.meta th { background: #f0f0f3; font-weight: 600; }
    table.meta td { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
    figure { margin: 1.5rem 0; text-align: center; }
    svg { max-width: 100%; height: auto; }
    pre {
      background: #f5f7f9; border: 1px solid #e1e5ea; border-radius: 5px;
      padding: 0.75rem 1rem; overflow-x: auto; font-size: 0.84rem; line-height: 1.45;
    }
    code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
    :not(pre) > code { background: #f0f0f3; border-radius: 3px; padding: 0.1em 0.3em; font-size: 0.9em; }
    blockquote { margin: 1rem 0; padding: 0 1rem; border-left: 3px solid #d0d0d6; color: #4a4a4a; }
    @media print {
      pre { white-space: pre-wrap; }
      section.chapter { break-before: page; }
    }
    """
}
