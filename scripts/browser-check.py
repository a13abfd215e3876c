#!/usr/bin/env python3
"""Opens the report in headless Chromium and checks what a reader would see.

    scripts/browser-check.py REPORT.html SCREENSHOT_DIR

At 1280 and 800 px wide: no element reaches past the viewport (wide tables and
code scroll inside their own boxes), every SVG and MathML element has a size,
the console is free of errors, and every internal link has its target. One
screenshot per width goes to SCREENSHOT_DIR, and one of the router chapter at
1280 px. Exits 0 when all hold; otherwise prints each failure on one line.
It skips (exit 0, with a message) when selenium or chromium is missing and
BROWSER_CHECK_REQUIRED is not set.
"""
import os
import sys

def main():
    if len(sys.argv) != 3:
        print("usage: browser-check.py REPORT.html SCREENSHOT_DIR", file=sys.stderr)
        return 2
    report, shots = os.path.abspath(sys.argv[1]), sys.argv[2]
    if not os.path.isfile(report):
        print(f"browser-check: {report} does not exist", file=sys.stderr)
        return 2
    required = bool(os.environ.get("BROWSER_CHECK_REQUIRED"))
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        print("browser-check: skipped, python3 has no selenium (pip install selenium)", file=sys.stderr)
        return 1 if required else 0
    driver_path = next((p for p in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] if os.path.exists(p)), None)
    if driver_path is None:
        print("browser-check: skipped, no chromedriver (apt-get install chromium chromium-driver)", file=sys.stderr)
        return 1 if required else 0

    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.makedirs(shots, exist_ok=True)
    failures = []
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        for width in (1280, 800):
            browser.set_window_size(width, 900)
            browser.get("file://" + report)
            viewport = browser.execute_script("return document.documentElement.clientWidth")
            # Elements whose right edge passes the viewport, outside any box that scrolls them.
            wide = browser.execute_script("""
                const limit = arguments[0], out = [];
                const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
                    const s = getComputedStyle(p).overflowX;
                    if ((s === 'auto' || s === 'scroll') && p.scrollWidth > p.clientWidth - 1) return true; }
                    return false; };
                for (const e of document.body.querySelectorAll('*')) {
                    const r = e.getBoundingClientRect();
                    if (r.width > 0 && r.right > limit + 1 && !scrolls(e))
                        out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + Math.round(r.right) + 'px');
                }
                return out.slice(0, 10);""", viewport)
            failures += [f"{width}px: {w} reaches past the viewport ({viewport}px)" for w in wide]
            if browser.execute_script("return document.documentElement.scrollWidth") > viewport + 1:
                failures.append(f"{width}px: the page scrolls sideways")
            empty = browser.execute_script("""
                const out = [];
                for (const e of document.querySelectorAll('svg, math')) {
                    if (e.closest('details:not([open])')) continue;
                    const r = e.getBoundingClientRect();
                    if (r.width === 0 || r.height === 0) out.push(e.tagName + ' in ' + (e.closest('section') || {}).id);
                }
                return out;""")
            failures += [f"{width}px: {e} has no size" for e in empty]
            browser.save_screenshot(os.path.join(shots, f"report-{width}.png"))
        counts = browser.execute_script("""return [document.querySelectorAll('svg').length,
                                                   document.querySelectorAll('math').length]""")
        missing = browser.execute_script("""
            const out = [];
            for (const a of document.querySelectorAll('a[href^="#"]')) {
                const id = decodeURIComponent(a.getAttribute('href').slice(1));
                if (id && !document.getElementById(id)) out.push(id);
            }
            return out;""")
        failures += [f"the link #{m} has no target" for m in missing]
        for entry in browser.get_log("browser"):
            if entry.get("level") == "SEVERE":
                failures.append("console: " + entry.get("message", "")[:200])
        browser.set_window_size(1280, 900)
        router = browser.execute_script("return document.getElementById('what-the-router-does') !== null")
        if router:
            browser.get("file://" + report + "#what-the-router-does")
            browser.save_screenshot(os.path.join(shots, "router-1280.png"))
    finally:
        browser.quit()
    for f in failures:
        print("browser-check: " + f)
    print(f"browser-check: {counts[0]} SVG and {counts[1]} MathML elements, {len(failures)} problem(s); screenshots in {shots}")
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main())
