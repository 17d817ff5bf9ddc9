"""Tablet screenshots for the docs, taken from a running fieldapp with the demo data loaded.

    flask --app fieldapp db upgrade && flask --app fieldapp seed-demo
    FIELDAPP_INSECURE_COOKIES=1 flask --app fieldapp run --port 5000 &
    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:5000]

Signs in as the demo practitioner with headless Chromium (Playwright) at 768x1024 and writes
docs/screenshots/caseload-tablet.png, contact-form-tablet.png (viewport only, so the files stay
small), as the demo team leader, compliance-tablet.png and acknowledgements-tablet.png (the
acknowledgement queue), as the demo permanency coordinator, permanency-tablet.png; then the tablet
app offline: offline-caseload-tablet.png and offline-contact-form-tablet.png; and last, as the demo
admin, audit-log-tablet.png (last, so the sign-ins above are in it). Pages are found by the
accessible names of SPEC §5, like the browser tests. The server must send the session cookie
over plain HTTP (FIELDAPP_INSECURE_COOKIES=1 or FLASK_DEBUG=1) unless it is behind HTTPS.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TABLET = {"width": 768, "height": 1024}
DEMO_EMAIL = "jo.nguyen@demo.fieldapp.example"
DEMO_PASSWORD = "fieldapp-demo-2026"
DEMO_LEADER = "lee.martin@demo.fieldapp.example"
DEMO_COORDINATOR = "casey.brown@demo.fieldapp.example"
DEMO_ADMIN = "alex.admin@demo.fieldapp.example"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000", help="the running server")
    parser.add_argument("--email", default=DEMO_EMAIL)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "screenshots",
        help="directory for the PNG files",
    )
    parser.add_argument(
        "--chromium",
        default=CHROMIUM,
        help="Chromium executable (empty for Playwright's own browser)",
    )
    return parser.parse_args(argv)


def new_tablet_context(browser, args: argparse.Namespace):
    """A fresh browser context the size of a tablet, in the organisation's locale and zone."""
    return browser.new_context(
        base_url=args.url.rstrip("/"),
        viewport=TABLET,
        device_scale_factor=1,
        locale="en-AU",
        timezone_id="Australia/Darwin",
    )


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def take(args: argparse.Namespace) -> list[Path]:
    args.out.mkdir(parents=True, exist_ok=True)
    caseload_png = args.out / "caseload-tablet.png"
    form_png = args.out / "contact-form-tablet.png"
    dashboard_png = args.out / "compliance-tablet.png"
    permanency_png = args.out / "permanency-tablet.png"
    offline_png = args.out / "offline-caseload-tablet.png"
    offline_form_png = args.out / "offline-contact-form-tablet.png"
    acknowledgements_png = args.out / "acknowledgements-tablet.png"
    audit_png = args.out / "audit-log-tablet.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium or None, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = new_tablet_context(browser, args)
            page = context.new_page()
            sign_in(page, args.email, args.password)
            heading = page.get_by_role("heading", name="My caseload")
            try:
                expect(heading).to_be_visible()
            except AssertionError:
                sys.exit(
                    f"Could not sign in as {args.email} at {args.url}: is the demo data "
                    "loaded (flask --app fieldapp seed-demo) and are cookies allowed over "
                    "HTTP (FIELDAPP_INSECURE_COOKIES=1)?"
                )
            # Signing in at /login opens the offline app; its first sync fetches the caseload.
            expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=30_000)
            page.screenshot(path=caseload_png)

            # The most urgent child is first; open it and its contact form.
            page.get_by_role("table").get_by_role("link").first.click()
            page.get_by_role("link", name="Record contact", exact=True).click()
            expect(page.get_by_label("Date of contact", exact=True)).to_be_visible()
            page.screenshot(path=form_png)

            # The team leader's dashboard, in a fresh context.
            leader = new_tablet_context(browser, args).new_page()
            sign_in(leader, DEMO_LEADER, args.password)
            expect(leader.get_by_role("heading", name="My team's children")).to_be_visible()
            leader.goto("/team/compliance")
            expect(leader.get_by_role("heading", name="Contact compliance")).to_be_visible()
            leader.wait_for_load_state("networkidle")
            leader.screenshot(path=dashboard_png)

            # The leader's acknowledgement queue, from the main navigation.
            leader.get_by_role("navigation", name="Main").get_by_role(
                "link", name="To acknowledge", exact=True
            ).click()
            expect(leader.get_by_role("heading", name="Contacts to acknowledge")).to_be_visible()
            leader.screenshot(path=acknowledgements_png)

            # The permanency coordinator lands on "Permanency reviews".
            coordinator = new_tablet_context(browser, args).new_page()
            sign_in(coordinator, DEMO_COORDINATOR, args.password)
            expect(coordinator.get_by_role("heading", name="Permanency reviews")).to_be_visible()
            coordinator.wait_for_load_state("networkidle")
            coordinator.screenshot(path=permanency_png)

            # The tablet app, offline: signed in once online, then the network goes away.
            tablet_context = new_tablet_context(browser, args)
            tablet = tablet_context.new_page()
            tablet.goto("/tablet")
            tablet_sign_in(tablet, args)
            tablet.evaluate("navigator.serviceWorker.ready.then(() => true)")
            expect(tablet.get_by_role("status")).to_have_text("All changes synced", timeout=30_000)
            tablet_context.set_offline(True)
            tablet.reload()
            tablet_sign_in(tablet, args)
            expect(tablet.get_by_role("table").get_by_role("link").first).to_be_visible()
            tablet.screenshot(path=offline_png)

            # Still offline: a contact under way, with a second participant added.
            tablet.get_by_role("table").get_by_role("link").first.click()
            tablet.get_by_role("link", name="Record contact", exact=True).click()
            tablet.get_by_label("Start time", exact=True).fill("10:30")
            tablet.get_by_label("Duration (minutes)", exact=True).fill("45")
            tablet.get_by_label("Child seen", exact=True).check()
            tablet.get_by_label("Location", exact=True).select_option(
                label="Placement (where the child lives)"
            )
            tablet.get_by_role("button", name="Add participant", exact=True).click()
            carer = tablet.get_by_role("group", name="Participant 2")
            carer.get_by_label("Role", exact=True).select_option(label="Carer")
            tablet.get_by_label("Child's views (in their own words)", exact=True).fill(
                "I like living here. I want to see my brother more."
            )
            tablet.get_by_role("group", name="Who took part").evaluate(
                "e => e.scrollIntoView({block: 'start'})"
            )
            tablet.screenshot(path=offline_form_png)

            # The admin's audit log, newest first: it now holds the sign-ins above.
            admin = new_tablet_context(browser, args).new_page()
            sign_in(admin, DEMO_ADMIN, args.password)
            expect(admin.get_by_role("heading", name="Users", exact=True)).to_be_visible()
            admin.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Audit log", exact=True
            ).click()
            expect(admin.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
            admin.screenshot(path=audit_png)
        finally:
            browser.close()
    return [
        caseload_png,
        form_png,
        dashboard_png,
        acknowledgements_png,
        permanency_png,
        offline_png,
        offline_form_png,
        audit_png,
    ]


def tablet_sign_in(page, args) -> None:
    page.get_by_label("Email", exact=True).fill(args.email)
    page.get_by_label("Password", exact=True).fill(args.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible(timeout=30_000)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for path in take(args):
        print(
            f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
            f"({path.stat().st_size // 1024} KiB)"
        )


if __name__ == "__main__":
    main()
