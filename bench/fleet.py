"""Benchmark: many tablets syncing at once against gunicorn + PostgreSQL (SPEC §7).

Bar: 100 tablets syncing at once, p95 under 1 s, no errors, every mutation applied exactly once.

Set-up (not timed): a fresh PostgreSQL database; one practitioner per tablet, each holding
`--children` children with some history; gunicorn serving wsgi:app; every tablet signed in,
registered and holding its caseload (a first full pull).

Timed: all tablets released together from a barrier; each runs one sync as the tablet does it:
push its outbox of `--contacts` contacts recorded offline (one request), then pull to the end.
The time of a sync is from its first request to its last answer. Then every tablet sends the
same push again (as after a dropped answer): all must come back `duplicate`, and the database
must hold exactly one row per contact.

    .venv/bin/python -m bench.fleet [--tablets 100] [--contacts 10] [--workers 4] \
        [--threads 8] [--write]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.models import Child, Contact, Team, User
from fieldapp.services.accounts import create_team, hash_password
from fieldapp.services.allocation import allocate

from .common import fresh_database, write_section

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "sync timing run 2026"


def contact_data(child_id: str, day: date, number: int) -> dict:
    return {
        "child_id": child_id,
        "status": "submitted",
        "contact_date": day.isoformat(),
        "mode": "face_to_face",
        "made_by": "practitioner",
        "child_seen": True,
        "location": "placement",
        "child_views": f"Visit {number}: I want to see Nan more.",
        "views_method": "conversation",
        "worries": "Missed family time.",
        "safety_scale": 7,
        "participants": [{"role": "child", "name": "Child", "took_part_in_decisions": True}],
        "actions": [{"description": "Book family time", "responsible": "Carer", "due_date": None}],
    }


def seed(url: str, tablets: int, children: int) -> list[tuple[str, list[str]]]:
    """One practitioner per tablet, each with `children` children and a contact each."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    today = date.today()
    shared_hash = hash_password(PASSWORD)  # argon2 once: hashing 100 passwords is not the point
    accounts = []
    with app.app_context():
        team = create_team(db.session, "Fleet", "Fleet Agency")
        db.session.flush()
        for number in range(tablets):
            user = User(
                email=f"tablet{number}@example.org",
                name=f"Practitioner {number}",
                role="practitioner",
                agency_id=team.agency_id,
                password_hash=shared_hash,
            )
            user.teams.append(db.session.get(Team, team.id))
            db.session.add(user)
            db.session.flush()
            ids = []
            for index in range(children):
                child = Child(
                    external_id=f"F-{number}-{index}",
                    given_name="Fleet",
                    family_name=f"{number}-{index}",
                    date_of_birth=today - timedelta(days=3000),
                    care_start_date=today - timedelta(days=400),
                    team_id=team.id,
                    primary_agency_id=team.agency_id,
                )
                db.session.add(child)
                db.session.flush()
                allocate(db.session, child, user, child.care_start_date)
                db.session.add(
                    Contact(
                        child_id=child.id,
                        author_id=user.id,
                        status="submitted",
                        contact_date=today - timedelta(days=20),
                        mode="face_to_face",
                        made_by="practitioner",
                        child_seen=True,
                        child_views="Fine.",
                        views_method="conversation",
                        version=1,
                    )
                )
                ids.append(str(child.id))
            accounts.append((user.email, ids))
        db.session.commit()
    app.extensions["fieldapp_db"]["engine"].dispose()
    return accounts


class Tablet:
    def __init__(self, port: int, email: str, child_ids: list[str]):
        self.port, self.email, self.child_ids = port, email, child_ids
        self.cookie = self.token = self.cursor = ""
        self.device_id = str(uuid.uuid4())
        self.errors: list[str] = []

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {
            "Content-Type": "application/json",
            "Cookie": self.cookie,
            "X-CSRFToken": self.token,
        }
        # A connection per request: gunicorn closes idle keep-alive connections after 2 s.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if response.status >= 400:
            self.errors.append(f"{method} {path.split('?')[0]} answered {response.status}")
        return response.status, (json.loads(raw) if raw else {})

    def sign_in_and_fetch_caseload(self) -> None:
        status, body = self.request(
            "POST", "/api/auth/login", {"email": self.email, "password": PASSWORD}
        )
        assert status == 200, body
        self.token = body["csrf_token"]
        assert (
            self.request(
                "POST", "/api/sync/devices", {"device_id": self.device_id, "name": "fleet"}
            )[0]
            == 201
        )
        self.pull()

    def pull(self) -> int:
        changes = 0
        while True:
            query = f"cursor={self.cursor}" if self.cursor else f"device_id={self.device_id}"
            status, page = self.request("GET", f"/api/sync/pull?{query}&limit=200")
            if status != 200:
                return changes
            self.cursor, changes = page["cursor"], changes + len(page["changes"])
            if not page["has_more"]:
                return changes

    def outbox(self, contacts: int) -> list[dict]:
        today = date.today()
        return [
            {
                "mutation_id": str(uuid.uuid4()),
                "seq": seq,
                "op": "create",
                "record_type": "contact",
                "record_id": str(uuid.uuid4()),
                "base_version": None,
                "data": contact_data(
                    self.child_ids[seq % len(self.child_ids)], today - timedelta(days=seq % 10), seq
                ),
            }
            for seq in range(1, contacts + 1)
        ]

    def sync(self, mutations: list[dict]) -> tuple[float, list[str]]:
        started = time.perf_counter()
        status, body = self.request(
            "POST", "/api/sync/push", {"device_id": self.device_id, "mutations": mutations}
        )
        outcomes = [r["status"] for r in body.get("results", [])] if status == 200 else []
        self.pull()
        return time.perf_counter() - started, outcomes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FIELDAPP_SECRET_KEY": "fleet-bench-secret",
        "FIELDAPP_INSECURE_COOKIES": "1",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # The app factory, not wsgi:app: production mode would make the session cookie
            # Secure, and the bench's clients speak plain HTTP on loopback.
            "fieldapp:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def run_all(tablets: list[Tablet], work) -> list:
    barrier = threading.Barrier(len(tablets))
    results: list = [None] * len(tablets)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = work(tablets[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tablets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(count: int, contacts: int, children: int, workers: int, threads: int) -> dict:
    with fresh_database("postgresql") as url:
        accounts = seed(url, count, children)
        server, port = start_gunicorn(url, workers, threads)
        try:
            tablets = [Tablet(port, email, ids) for email, ids in accounts]
            for tablet in tablets:
                tablet.sign_in_and_fetch_caseload()
            outboxes = {id(t): t.outbox(contacts) for t in tablets}
            first = run_all(tablets, lambda t: t.sync(outboxes[id(t)]))
            again = run_all(tablets, lambda t: t.sync(outboxes[id(t)]))  # the answer was lost
        finally:
            server.terminate()
            server.wait(timeout=30)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        with app.app_context():
            record_ids = [m["record_id"] for t in tablets for m in outboxes[id(t)]]
            stored = db.session.scalar(
                select(func.count())
                .select_from(Contact)
                .where(Contact.id.in_([uuid.UUID(r) for r in record_ids]))
            )
        app.extensions["fieldapp_db"]["engine"].dispose()
    times = [seconds for seconds, _ in first]
    return {
        "tablets": count,
        "contacts": contacts,
        "children": children,
        "workers": workers,
        "threads": threads,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "max_ms": max(times) * 1000,
        "errors": sum(len(t.errors) for t in tablets),
        "applied": sum(o.count("applied") for _, o in first),
        "duplicates": sum(o.count("duplicate") for _, o in again),
        "expected": count * contacts,
        "stored": stored,
        "retry_p95_ms": percentile([s for s, _ in again], 0.95) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=100)
    parser.add_argument("--contacts", type=int, default=10, help="contacts in each tablet's outbox")
    parser.add_argument("--children", type=int, default=5, help="children each practitioner holds")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    r = measure(args.tablets, args.contacts, args.children, args.workers, args.threads)
    exactly_once = r["applied"] == r["duplicates"] == r["stored"] == r["expected"]
    report = "\n".join(
        [
            f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} "
            "cores, client and server on the same machine), Python "
            f"{platform.python_version()}, `python -m bench.fleet --write`.",
            "",
            f"- {r['tablets']} tablets released at once, each pushing {r['contacts']} contacts "
            f"(one request) and pulling to the end; each practitioner holds {r['children']} "
            f"children. gunicorn: {r['workers']} workers × {r['threads']} threads, PostgreSQL.",
            f"- Sync time per tablet: median {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
            f"max {r['max_ms']:.0f} ms (bar: p95 under 1 s). The same pushes sent again: "
            f"p95 {r['retry_p95_ms']:.0f} ms.",
            f"- Errors: {r['errors']}. Applied {r['applied']} of {r['expected']}; resent: "
            f"{r['duplicates']} `duplicate`; rows stored: {r['stored']} "
            f"({'exactly once' if exactly_once else 'NOT exactly once'}).",
        ]
    )
    print(report)
    if args.write:
        write_section("fleet", report)
    if r["errors"] or not exactly_once:
        sys.exit(1)


if __name__ == "__main__":
    main()
