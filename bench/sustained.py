"""Benchmark: tablets syncing every few seconds for minutes, with PostgreSQL's wait events.

Issue 14: no global hot row on PostgreSQL. Under sustained load no backend may queue on a single
row (the old global change counter, `sync_state`, had 84-88% of the active backends waiting on
it). This benchmark shows what the backends wait on.

Set-up (not timed), as `bench.fleet` does it: a fresh PostgreSQL database; one practitioner per
tablet, each holding `--children` children with a contact each; gunicorn serving the app; every
tablet signed in, registered and holding its caseload (a first full pull).

Measured: for `--seconds`, each tablet in its own thread loops: push `--contacts` new complete
contacts (participant, action, a paragraph of notes: `bench.sync.contact_mutations`) in one
request, pull until `has_more` is false, sleep `--interval` seconds ± 25%. A push that gets no
answer is sent again at the next sync, as the tablet's outbox does. Meanwhile a sampler with its
own connection reads `pg_stat_activity` every 50 ms and tallies, for the active backends of the
bench database, their wait events, and for those waiting on a lock, their statement.

Checked afterwards: every mutation answered `applied` is stored exactly once (and nothing else
was stored), no answer was an error, and every tablet, after a last pull, holds exactly the
contacts the database holds for its children.

    .venv/bin/python -m bench.sustained [--tablets 60] [--seconds 60] [--interval 2.0] \
        [--contacts 5] [--workers 4 --threads 8] [--write]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import date

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.models import Contact

from .common import PERFORMANCE_DOC, fresh_database, write_section
from .fleet import Tablet, percentile, seed, start_gunicorn
from .sync import contact_mutations

SAMPLE_EVERY = 0.05  # seconds between two reads of pg_stat_activity
JITTER = 0.25  # a tablet sleeps the interval ± this share of it
HOT_ROW = ("Lock/transactionid", "Lock/tuple")  # what backends queueing on one row wait on
ON_CPU = "none (running)"
HOT_ROW_BAR = 0.05  # share of active-backend samples waiting on a row lock that still counts as
# "no queue": an occasional wait on a row two tablets really share is not a global hot row.
SECTION = "sustained"
HEADING = "## Sustained load (issue 14)"
INTRO = """\
Bar: under sustained load no PostgreSQL backend queues on a single row. Before issue 14, with
60 and 150 tablets syncing every couple of seconds for 3-4 minutes, nothing was lost or
duplicated and there were no errors, but 84-88% of the active PostgreSQL backends were waiting
on one row: the global change counter (`sync_state`).

How it is measured: `bench/sustained.py` sets up like `bench/fleet.py` (a fresh PostgreSQL
database, one practitioner and a few children per tablet, gunicorn, every tablet signed in with
its caseload), then each tablet, in its own thread, pushes a few new complete contacts
(participant, action, a paragraph of notes), pulls to the end and sleeps about the interval,
over and over. Meanwhile a separate connection reads `pg_stat_activity` every 50 ms and counts
what each active backend of the bench database is waiting on; for a backend waiting on a lock
it also notes the start of its statement. A row lock held by another transaction shows as
`Lock/transactionid` (or `Lock/tuple` for the next in line): that is what a hot row looks like.
Afterwards it checks that every mutation answered `applied` is stored exactly once and that
every tablet holds exactly the contacts the database holds for its children. The bar is read
as met when fewer than 5% of the active-backend samples wait on a row lock.

Command: `.venv/bin/python -m bench.sustained --write` (`make bench` runs it last; PostgreSQL at
`FIELDAPP_BENCH_PG_URL`, default the local `test` database)."""

ACTIVITY = """
SELECT state, wait_event_type, wait_event, query
FROM pg_stat_activity
WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


class SustainedTablet(Tablet):
    """bench.fleet's tablet, keeping an outbox until it is answered, the contact ids it holds,
    every answer that was not 2xx and the time of every sync."""

    def __init__(self, port: int, email: str, child_ids: list[str], contacts: int):
        super().__init__(port, email, child_ids)
        self.batch = contacts
        self.next_seq = 1
        self.pending: list[dict] = []  # the outbox: sent again until answered
        self.pushed: dict[str, str] = {}  # mutation id -> record id
        self.first_status: dict[str, str] = {}  # mutation id -> status of its first processing
        self.answers: Counter[str] = Counter()  # every result's status, duplicates included
        self.held: set[str] = set()  # contact ids the tablet holds
        self.sync_times: list[float] = []
        self.requests = 0

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        self.requests += 1
        before = len(self.errors)
        try:
            status, answer = super().request(method, path, body)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # No answer, or one that is not JSON (the base class has noted a 4xx/5xx already).
            if len(self.errors) == before:
                self.errors.append(f"{method} {path.split('?')[0]} failed: {exc!r}")
            return 0, {}
        if not 200 <= status < 300 and len(self.errors) == before:
            self.errors.append(f"{method} {path.split('?')[0]} answered {status}")
        return status, answer

    def pull(self) -> int:
        """Pulls to the end, keeping track of the contacts held."""
        changes = 0
        while True:
            query = f"cursor={self.cursor}" if self.cursor else f"device_id={self.device_id}"
            status, page = self.request("GET", f"/api/sync/pull?{query}&limit=200")
            if status != 200:
                return changes
            for change in page["changes"]:
                if change["record_type"] == "contact":
                    if change["op"] == "delete":
                        self.held.discard(change["record_id"])
                    else:
                        self.held.add(change["record_id"])
            for purged in page.get("purge", []):
                if purged["record_type"] == "contact":
                    self.held.discard(purged["record_id"])
            self.cursor, changes = page["cursor"], changes + len(page["changes"])
            if not page["has_more"]:
                return changes

    def push(self) -> None:
        """Sends the outbox (new contacts when it is empty) and notes the answers."""
        if not self.pending:
            self.pending = contact_mutations(
                self.child_ids, date.today(), self.batch, first_seq=self.next_seq
            )
            self.next_seq += self.batch
            self.pushed.update({m["mutation_id"]: m["record_id"] for m in self.pending})
        status, body = self.request(
            "POST", "/api/sync/push", {"device_id": self.device_id, "mutations": self.pending}
        )
        if status != 200:
            return  # kept in the outbox: sent again at the next sync
        for result in body["results"]:
            self.answers[result["status"]] += 1
            first = result.get("first_status", result["status"])
            self.first_status.setdefault(result["mutation_id"], first)
        self.pending = [m for m in self.pending if m["mutation_id"] not in self.first_status]

    def sync(self) -> None:
        started = time.perf_counter()
        self.push()
        self.pull()
        self.sync_times.append(time.perf_counter() - started)

    def run_until(self, deadline: float, interval: float) -> None:
        rng = random.Random()
        time.sleep(rng.uniform(0, interval))  # tablets sync from their own sign-in time
        while time.perf_counter() < deadline:
            self.sync()
            pause = interval * rng.uniform(1 - JITTER, 1 + JITTER)
            time.sleep(max(0.0, min(pause, deadline - time.perf_counter())))


def statement(query: str | None) -> str:
    return " ".join((query or "").split())[:60]


class Sampler(threading.Thread):
    """Reads pg_stat_activity every SAMPLE_EVERY seconds on its own connection."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        parsed = make_url(url)
        self.database = parsed.database
        self.conn = psycopg.connect(
            parsed.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
        )
        self.server_version = self.conn.execute("SHOW server_version").fetchone()[0]
        self.halt = threading.Event()
        self.samples = 0
        self.active: list[int] = []  # per sample
        self.idle_in_transaction: list[int] = []  # per sample
        self.lock_waiters: list[int] = []  # per sample: active backends waiting on Lock/*
        self.row_waiters: list[int] = []  # per sample: waiting on Lock/transactionid or tuple
        self.events: Counter[str] = Counter()  # over active-backend samples
        self.queued: Counter[str] = Counter()  # statements of backends waiting on Lock/*
        self.holding: Counter[str] = Counter()  # last statement of idle-in-transaction backends
        self.started = self.stopped = 0.0

    def run(self) -> None:
        self.started = next_at = time.perf_counter()
        while not self.halt.is_set():
            self.sample(self.conn.execute(ACTIVITY, (self.database,)).fetchall())
            next_at += SAMPLE_EVERY
            delay = next_at - time.perf_counter()
            if delay < 0:
                next_at, delay = time.perf_counter(), 0  # fell behind: no burst to catch up
            self.halt.wait(delay)
        self.stopped = time.perf_counter()

    def sample(self, rows: list[tuple]) -> None:
        self.samples += 1
        active = locks = rows_locked = idle_in_transaction = 0
        for state, wait_type, wait_event, query in rows:
            if state == "idle in transaction":
                idle_in_transaction += 1
                self.holding[statement(query)] += 1
            if state != "active":
                continue
            active += 1
            event = f"{wait_type}/{wait_event}" if wait_type else ON_CPU
            self.events[event] += 1
            if wait_type == "Lock":
                locks += 1
                rows_locked += event in HOT_ROW
                self.queued[f"{event}: {statement(query)}"] += 1
        self.active.append(active)
        self.idle_in_transaction.append(idle_in_transaction)
        self.lock_waiters.append(locks)
        self.row_waiters.append(rows_locked)

    def stop(self) -> None:
        self.halt.set()
        self.join()
        self.conn.close()


def check(url: str, tablets: list[SustainedTablet], seeded: int) -> dict:
    """What the database holds against what the tablets were told and what they pulled."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        rows = [
            (str(i), str(c)) for i, c in db.session.execute(select(Contact.id, Contact.child_id))
        ]
    app.extensions["fieldapp_db"]["engine"].dispose()
    pushed = {r for t in tablets for r in t.pushed.values()}
    applied = {
        t.pushed[m] for t in tablets for m, status in t.first_status.items() if status == "applied"
    }
    in_database = {contact_id for contact_id, _child in rows}
    stored = pushed & in_database
    by_child: dict[str, set[str]] = {}
    for contact_id, child_id in rows:
        by_child.setdefault(child_id, set()).add(contact_id)
    mismatched = sum(
        set().union(*(by_child.get(c, set()) for c in t.child_ids)) != t.held for t in tablets
    )
    unanswered = sum(len(t.pending) for t in tablets)
    result = {
        "pushed": len(pushed),
        "applied": len(applied),
        "answers": sum((t.answers for t in tablets), Counter()),
        "stored": len(stored),
        "duplicate_ids": len(rows) - len(in_database),
        "total": len(rows),
        "seeded": seeded,
        "unanswered": unanswered,
        "tablets_mismatched": mismatched,
    }
    result["exactly_once"] = (
        stored == applied
        and len(rows) == len(in_database) == seeded + len(applied)
        and unanswered == 0
        and mismatched == 0
    )
    return result


def measure(args: argparse.Namespace) -> dict:
    with fresh_database("postgresql") as url:
        accounts = seed(url, args.tablets, args.children)
        server, port = start_gunicorn(url, args.workers, args.threads)
        try:
            tablets = [SustainedTablet(port, email, ids, args.contacts) for email, ids in accounts]
            for tablet in tablets:
                tablet.sign_in_and_fetch_caseload()
                tablet.errors.clear()  # set-up is not measured
            sampler = Sampler(url)
            sampler.start()
            started = time.perf_counter()
            deadline = started + args.seconds
            threads = [
                threading.Thread(target=t.run_until, args=(deadline, args.interval))
                for t in tablets
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            sampler.stop()
            for tablet in tablets:  # answers lost at the end: the outbox is sent again
                for _ in range(3):
                    if not tablet.pending:
                        break
                    tablet.push()
                tablet.pull()  # a last pull, to compare what it holds with the database
        finally:
            server.terminate()
            server.wait(timeout=30)
        checked = check(url, tablets, args.tablets * args.children)
    times = [s for t in tablets for s in t.sync_times]
    return {
        "elapsed": elapsed,
        "syncs": len(times),
        "requests": sum(t.requests for t in tablets),
        "p50_ms": statistics.median(times) * 1000 if times else 0.0,
        "p95_ms": percentile(times, 0.95) * 1000 if times else 0.0,
        "max_ms": max(times) * 1000 if times else 0.0,
        "errors": [e for t in tablets for e in t.errors],
        "sampler": sampler,
        **checked,
    }


def share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def report(args: argparse.Namespace, r: dict) -> str:
    s: Sampler = r["sampler"]
    observed = sum(s.active)  # active-backend samples: one per active backend per sample
    locked = sum(s.lock_waiters)
    on_row = sum(s.row_waiters)
    rate = s.samples / (s.stopped - s.started) if s.stopped > s.started else 0.0
    met = observed > 0 and on_row / observed < HOT_ROW_BAR
    errors = Counter(r["errors"])
    answers = ", ".join(f"{n} `{status}`" for status, n in r["answers"].most_common())
    command = " ".join(["python -m bench.sustained", *sys.argv[1:]])
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} cores; "
        "the tablets, gunicorn and PostgreSQL on the same machine), Python "
        f"{platform.python_version()}, PostgreSQL {s.server_version}, `{command}`.",
        "",
        f"- {args.tablets} tablets (one practitioner each, {args.children} children each) synced "
        f"for {r['elapsed']:.0f} s against gunicorn ({args.workers} workers × {args.threads} "
        f"threads): each pushed {args.contacts} new complete contacts, pulled to the end and "
        f"slept {args.interval:g} s ± {JITTER:.0%}.",
        f"- {r['syncs']} syncs ({r['syncs'] / r['elapsed']:.1f} a second, {r['requests']} "
        f"requests); sync time median {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max "
        f"{r['max_ms']:.0f} ms.",
        f"- Errors (answers not 2xx, or no answer): {len(r['errors'])}"
        + (" (" + "; ".join(f"{n} × {e}" for e, n in errors.most_common(3)) + ")" if errors else "")
        + ".",
        f"- Exactly once: {'yes' if r['exactly_once'] else '**NO**'}. {r['pushed']} contacts "
        f"pushed, {r['applied']} answered `applied` (answers: {answers or 'none'}), "
        f"{r['stored']} stored, {r['total']} contacts in the database with the "
        f"{r['seeded']} seeded ({r['duplicate_ids']} ids twice); {r['unanswered']} left "
        "unanswered; "
        f"{args.tablets - r['tablets_mismatched']} of {args.tablets} tablets hold exactly the "
        "contacts the database holds for their children.",
        f"- PostgreSQL, sampled every {SAMPLE_EVERY * 1000:.0f} ms ({s.samples} samples, "
        f"{rate:.0f} a second): on average {statistics.fmean(s.active or [0]):.1f} backends "
        f"active (at most {max(s.active or [0])}) and "
        f"{statistics.fmean(s.idle_in_transaction or [0]):.1f} idle in a transaction (at most "
        f"{max(s.idle_in_transaction or [0])}).",
        f"- Of the {observed} active-backend samples, {share(locked, observed)} were waiting on "
        f"a lock, {share(on_row, observed)} on a row lock (`Lock/transactionid` or "
        f"`Lock/tuple`, what a hot row looks like). At most {max(s.lock_waiters or [0])} "
        f"backends waited on a lock at once; {sum(1 for n in s.lock_waiters if n >= 2)} of "
        f"{s.samples} samples caught two or more waiting.",
        f"- Bar (fewer than {HOT_ROW_BAR:.0%} of active-backend samples waiting on a row lock): "
        + ("**met**." if met else "**not met**."),
        "",
        "| wait event of active backends | share of active-backend samples |",
        "|---|---:|",
    ]
    lines += [
        f"| `{event}` | {share(n, observed)} |"
        if event != ON_CPU
        else f"| {event} | {share(n, observed)} |"
        for event, n in s.events.most_common(10)
    ]
    lines.append("")
    if s.queued:
        lines += [
            "Statements of the backends waiting on a lock (first 60 characters):",
            "",
            "| wait event: statement | share of lock-waiting samples |",
            "|---|---:|",
        ]
        lines += [
            f"| `{statement}` | {share(n, locked)} |" for statement, n in s.queued.most_common(8)
        ]
    else:
        lines.append("No backend was caught waiting on a lock.")
    if s.holding:
        idle = sum(s.holding.values())
        lines += [
            "",
            "Last statement of the backends idle in a transaction (open while the application "
            "works):",
            "",
            "| statement | share of idle-in-transaction samples |",
            "|---|---:|",
        ]
        lines += [f"| `{text}` | {share(n, idle)} |" for text, n in s.holding.most_common(3)]
    return "\n".join(lines)


def write_report(text: str) -> None:
    """The section's heading and how it is measured are written once, the figures every run."""
    doc = PERFORMANCE_DOC.read_text()
    if f"<!-- bench:{SECTION} -->" not in doc:
        PERFORMANCE_DOC.write_text(f"{doc.rstrip()}\n\n{HEADING}\n\n{INTRO}\n")
    write_section(SECTION, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=60, help="how long the tablets sync")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between syncs")
    parser.add_argument("--contacts", type=int, default=5, help="new contacts in each push")
    parser.add_argument("--children", type=int, default=5, help="children each practitioner holds")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    r = measure(args)
    text = report(args, r)
    print(text)
    if args.write:
        write_report(text)
    if r["errors"] or not r["exactly_once"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
