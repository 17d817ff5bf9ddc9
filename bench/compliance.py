"""Benchmark: the team leader's contact compliance page (SPEC §7).

For each database and each organisation size (children × 50 contacts each), loads a fresh
database with `seed-large`, then times, median of several runs:
- page: GET /team/compliance through the app (server time: query, template, response);
- overview: the one-statement query behind it (counts per practitioner and one page of rows);
- csv: GET /team/compliance.csv (every row).
It also loads 10,000 children with 10 contacts each and reports the ratio
time(50 contacts) / time(10 contacts): the cost must grow with children, not contacts.

    .venv/bin/python -m bench.compliance [--sizes 1000,10000,50000] [--runs 7] [--write]
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

from sqlalchemy import text

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.services.clock import today_in
from fieldapp.services.compliance_report import team_overview
from fieldapp.services.large_seed import seed_large

from .common import fresh_database, median_ms, write_section

PASSWORD = "sync timing run 2026"


def measure(kind: str, children: int, contacts: int, runs: int) -> dict:
    with fresh_database(kind) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "SESSION_COOKIE_SECURE": False,
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            started = time.perf_counter()
            today = today_in(app.config["FIELDAPP_TIMEZONE"])
            leader = seed_large(db.session, children, contacts, today, PASSWORD, prefix="bench")
            db.session.commit()
            load_s = time.perf_counter() - started
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE" if kind == "postgresql" else "ANALYZE")
                )
            team_ids = leader.team_ids
            overview_ms = median_ms(
                lambda: team_overview(db.session, team_ids, today, 7, current=True), runs
            )
        client = app.test_client()
        client.post("/login", data={"email": "leader@bench.example", "password": PASSWORD})
        assert client.get("/team/compliance").status_code == 200
        page_ms = median_ms(lambda: client.get("/team/compliance"), runs)
        csv_ms = median_ms(lambda: client.get("/team/compliance.csv"), max(3, runs // 2))
        app.extensions["fieldapp_db"]["engine"].dispose()
    return {
        "kind": kind,
        "children": children,
        "contacts": children * contacts,
        "load_s": load_s,
        "page_ms": page_ms,
        "overview_ms": overview_ms,
        "csv_ms": csv_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results, growth = [], []
    for kind in args.databases.split(","):
        for size in sizes:
            result = measure(kind, size, 50, args.runs)
            results.append(result)
            print(
                f"{kind:<10} {size:>6} children {result['contacts']:>8} contacts: "
                f"page {result['page_ms']:.0f} ms, overview {result['overview_ms']:.0f} ms, "
                f"csv {result['csv_ms']:.0f} ms (loaded in {result['load_s']:.0f} s)",
                flush=True,
            )
        few = measure(kind, 10_000, 10, args.runs)
        many = next(
            (r for r in results if r["kind"] == kind and r["children"] == 10_000), None
        ) or measure(kind, 10_000, 50, args.runs)
        growth.append((kind, few, many))
        print(
            f"{kind}: 10,000 children, 10 vs 50 contacts each: page {few['page_ms']:.0f} vs "
            f"{many['page_ms']:.0f} ms (ratio {many['page_ms'] / few['page_ms']:.2f})",
            flush=True,
        )

    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, Python "
        f"{platform.python_version()}, {args.runs} runs each (median), "
        "`python -m bench.compliance --write`.",
        "",
        "| database | children | contacts | page (ms) | overview query (ms) | CSV, all rows (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['kind']} | {r['children']:,} | {r['contacts']:,} | {r['page_ms']:.0f} | "
            f"{r['overview_ms']:.0f} | {r['csv_ms']:.0f} |"
        )
    lines += [
        "",
        "Growth with contacts, 10,000 children (page time, 50 contacts each ÷ 10 each):",
        "",
    ]
    for kind, few, many in growth:
        lines.append(
            f"- {kind}: {few['page_ms']:.0f} ms with 100,000 contacts, "
            f"{many['page_ms']:.0f} ms with 500,000: ratio "
            f"{many['page_ms'] / few['page_ms']:.2f}"
        )
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section("compliance", report)


if __name__ == "__main__":
    main()
