"""Benchmark: the tablet's app shell and its offline cold start (SPEC §7).

- Shell size: the JavaScript and CSS the service worker caches (bar: under 150 KB, no framework).
- Offline cold start: with the network off, a fresh page of the installed app opens from the
  service worker cache, the practitioner unlocks with their password (PBKDF2, 600,000
  iterations) and the caseload is on screen. Timed from navigation to the caseload's first
  child link, median of several runs in headless Chromium (bars: under 1 s with 150 children
  and about 1,050 contacts; under 1.5 s with 500 children and 5,000 contacts).

    .venv/bin/python -m bench.tablet [--runs 7] [--children 25 150 500] [--contacts 7 7 10]
        [--write]

One cold-start measurement per `--children` value, each on its own fresh server database; each
child has the matching `--contacts` value of submitted face-to-face contacts, six weeks apart
(one `--contacts` value applies to every size). `--write` puts every size's line in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import threading
import time
from datetime import date, timedelta

from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from fieldapp import create_app
from fieldapp.extensions import build_engine
from fieldapp.web import ROOT, SHELL_FILES
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

from .common import fresh_database, write_section

PASSWORD = "sync timing run 2026"


def shell_size() -> dict[str, int]:
    code = [name for name in SHELL_FILES if name.endswith((".js", ".css"))]
    return {name: (ROOT / name).stat().st_size for name in code}


# Marks in the page's own clock (ms from navigation start): the sign-in form shown, the form
# submitted, the caseload's first child link shown. Between the first two, Playwright types.
MARKS = """
window.__bench = {};
document.addEventListener("submit", () => { window.__bench.submit ??= performance.now(); }, true);
new MutationObserver(() => {
    const [marks, now] = [window.__bench, performance.now()];
    if (!marks.form && document.querySelector("input[type=password]")) marks.form = now;
    if (!marks.link && document.querySelector("table a")) marks.link = now;
}).observe(document, { childList: true, subtree: true });
"""


def cold_start(runs: int, children: int, contacts: int) -> dict[str, list[float]]:
    """Seconds per run, from navigation to the caseload's first child link: as the harness
    times it (its polling included), by the page's own clock, and the app's own part of that
    (the page's clock less the time the harness spends typing the password)."""
    from tests.factories import gen_child, gen_contact, gen_team, gen_user  # test factories

    with fresh_database("sqlite") as url:
        engine = build_engine(url)
        with Session(engine) as session:
            team = gen_team(session)
            user = gen_user(session, "practitioner", team, email="bench@example.org")
            from fieldapp.services.accounts import hash_password

            user.password_hash = hash_password(PASSWORD)
            for _ in range(children):
                # In care since before the oldest contact.
                care_start = date.today() - timedelta(days=max(300, 42 * contacts))
                child = gen_child(session, team, user, care_start_date=care_start)
                for number in range(contacts):
                    gen_contact(
                        session,
                        child,
                        user,
                        contact_date=date.today() - timedelta(weeks=6 * number),
                    )
            session.commit()
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False}
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        timings = {"harness": [], "page": [], "app": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=base, viewport={"width": 768, "height": 1024})
            page = context.new_page()
            page.goto("/tablet")
            # The first sync fetches the whole caseload: minutes for the largest one.
            sign_in(page, timeout=300_000)
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=300_000)
            expect(page.get_by_role("table").get_by_role("link")).to_have_count(children)
            page.close()
            context.set_offline(True)
            context.add_init_script(MARKS)
            for _ in range(runs + 1):
                page = context.new_page()
                started = time.perf_counter()
                page.goto("/tablet")
                sign_in(page)
                expect(page.get_by_role("table").get_by_role("link").first).to_be_visible()
                timings["harness"].append(time.perf_counter() - started)
                marks = page.evaluate("window.__bench")
                timings["page"].append(marks["link"] / 1000)
                timings["app"].append((marks["form"] + marks["link"] - marks["submit"]) / 1000)
                page.close()
            browser.close()
        server.shutdown()
        app.extensions["fieldapp_db"]["engine"].dispose()
        engine.dispose()
    # The first run warms the browser's own caches.
    return {name: values[1:] for name, values in timings.items()}


def sign_in(page, timeout: int = 30_000) -> None:
    page.get_by_label("Email", exact=True).fill("bench@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible(timeout=timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--children", type=int, nargs="+", default=[25])
    parser.add_argument("--contacts", type=int, nargs="+", default=[7])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    contacts = args.contacts if len(args.contacts) > 1 else args.contacts * len(args.children)
    if len(contacts) != len(args.children):
        parser.error("give one --contacts value, or one per --children value")
    sizes = shell_size()
    total = sum(sizes.values())
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, headless Chromium, "
        f"`python -m bench.tablet --runs {args.runs} --children "
        f"{' '.join(map(str, args.children))} --contacts {' '.join(map(str, contacts))} --write`.",
        "",
        f"- App shell JavaScript and CSS: {total:,} bytes ({total / 1024:.1f} KiB) uncompressed "
        f"in {len(sizes)} files, no framework (bar: under 150 KB).",
        "- Offline cold start to a usable caseload, password unlock with PBKDF2 at 600,000 "
        "iterations included:",
    ]
    for children, per_child in zip(args.children, contacts, strict=True):
        timings = cold_start(args.runs, children, per_child)
        ms = {name: statistics.median(values) * 1000 for name, values in timings.items()}
        harness = timings["harness"]
        line = (
            f"  - {children} children, {children * per_child:,} contacts, medians over "
            f"{len(harness)} runs: the app's own part {ms['app']:.0f} ms; by the page's clock "
            f"{ms['page']:.0f} ms (the harness typing the password included); as the harness "
            f"times it {ms['harness']:.0f} ms (min {min(harness) * 1000:.0f}, "
            f"max {max(harness) * 1000:.0f})."
        )
        print(line, flush=True)
        lines.append(line)
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section("tablet", report)


if __name__ == "__main__":
    main()
