"""axe-core (bundled with axe-playwright-python) run in the page: the WCAG 2.1 A and AA rules and
axe's best practices, reported as one line per failing node so a test failure says what to fix."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    }
}


def violations(page) -> list[str]:
    results = _AXE.run(page, options={**RULES, "resultTypes": ["violations"]})
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} — {violation['help']}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


def page_scrolls_sideways(page) -> list[str]:
    """What must be scrolled sideways to be read: the page itself when it is wider than the
    window, or a box scrolling its own content (a wide table in an `overflow-x: auto` box)."""
    return page.evaluate(
        """() => {
            const wide = [];
            const root = document.documentElement;
            if (root.scrollWidth > root.clientWidth) wide.push("the page");
            for (const element of document.querySelectorAll("body *")) {
                const overflow = getComputedStyle(element).overflowX;
                if ((overflow === "auto" || overflow === "scroll")
                    && element.scrollWidth > element.clientWidth + 1) {
                    wide.push(element.tagName.toLowerCase() + "." + element.className);
                }
            }
            return wide;
        }"""
    )
