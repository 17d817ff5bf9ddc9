"""Renders static/icons/icon.svg to the PNG sizes the web manifest lists, with headless
Chromium (Playwright). Run after changing the SVG: `.venv/bin/python scripts/icons.py`."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

ICONS = ROOT / "static" / "icons"


def main() -> None:
    svg = (ICONS / "icon.svg").read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in (192, 512):
            page = browser.new_page(viewport={"width": size, "height": size})
            sized = svg.replace("<svg ", f"<svg width={size} height={size} ", 1)
            page.set_content(f'<body style="margin:0">{sized}</body>')
            page.screenshot(path=ICONS / f"icon-{size}.png", omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
