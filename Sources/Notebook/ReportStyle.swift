/// The report's style sheet, inlined into the page. Only fonts every system
/// has: nothing is fetched.
enum ReportStyle {
    static let css = """
    :root { color-scheme: light dark; }
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
    figure.source { text-align: left; margin: 1.25rem 0; }
    figure.source figcaption { font-size: 0.85rem; margin-bottom: 0.3rem; }
    figure.source pre { margin: 0; }
    pre.numbered .ln {
      display: inline-block; width: 3.2em; margin-left: -0.4rem; padding-right: 0.8em; text-align: right;
      color: #8a9099; user-select: none;
    }
    details.harness, details.file, details.data { margin: 0.75rem 0; }
    details.harness > summary, details.file > summary, details.data > summary {
      cursor: pointer; font-family: system-ui, "DejaVu Sans", sans-serif; font-size: 0.85rem; color: #5a6270;
    }
    math { font-size: 1.08em; }
    math[display="block"] { margin: 0.9rem 0; overflow-x: auto; overflow-y: hidden; }
    figure figcaption { font-size: 0.9rem; color: #4a4a4a; margin-top: 0.4rem; }
    main { counter-reset: figure; }
    figure.numbered { counter-increment: figure; }
    figure.numbered > figcaption::before { content: "Figure " counter(figure) ". "; font-weight: 600; }
    @media (prefers-color-scheme: dark) {
      body { color: #e3e3e3; background: #16181c; }
      a { color: #8ab4f8; }
      nav.toc, thead th, table.meta th { background: #23262c; border-color: #3a3e46; }
      th, td { border-color: #3a3e46; }
      pre { background: #1e2127; border-color: #343841; }
      :not(pre) > code { background: #2a2d34; }
      section.chapter { border-top-color: #3a3e46; }
      blockquote, figure figcaption { color: #b8b8b8; }
      /* Plots and diagrams are drawn on white; keep them on a light card. */
      figure svg { background: #ffffff; border-radius: 4px; }
    }
    @media print {
      body { max-width: none; font-size: 11pt; color: #000; background: #fff; }
      pre { white-space: pre-wrap; overflow: visible; }
      section.chapter { break-before: page; }
      figure, table, pre { break-inside: avoid; }
      a { color: inherit; text-decoration: none; }
    }
    """
}
