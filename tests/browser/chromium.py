"""The one place that says how to launch Debian's Chromium headless: the browser tests, the
benchmarks and the docs scripts all import it."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
