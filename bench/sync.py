"""Benchmark: pushing 1,000 queued contacts (SPEC §7).

A tablet's outbox of 1,000 contacts is pushed as 5 requests of 200 over HTTP on loopback to the
real app (werkzeug server, one process), and compared side by side with the physical floor: a
raw `executemany` insert of the same 1,000 rows in 5 transactions on the same database with the
same durability settings. Bar: the push at most 25× the raw insert. Median of several runs.

    .venv/bin/python -m bench.sync [--runs 5] [--databases sqlite,postgresql] [--write]
"""

from __future__ import annotations

import argparse
import http.client
import json
import platform
import statistics
import threading
import time
import uuid
from datetime import date, timedelta

from sqlalchemy import insert
from werkzeug.serving import make_server

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.models import Child, Contact
from fieldapp.models.base import utcnow
from fieldapp.services.accounts import create_team, create_user
from fieldapp.services.allocation import allocate

from .common import fresh_database, write_section

BATCH = 200
TOTAL = 1000
PASSWORD = "sync timing run 2026"


def _contact_data(child_id: uuid.UUID, day: date) -> dict:
    return {
        "child_id": str(child_id),
        "status": "submitted",
        "contact_date": day.isoformat(),
        "mode": "face_to_face",
        "made_by": "practitioner",
        "child_seen": True,
        "seen_alone": False,
        "interpreter_used": False,
        "location": "placement",
        "child_views": "I like my new school and I want to see Nan more.",
        "views_method": "conversation",
        "worries": "Missed family time.",
        "working_well": "Settled at home.",
        "needs_to_happen": "Book family time.",
        "safety_scale": 7,
    }


class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Cookie": self.cookie}
        if self.token:
            headers["X-CSRFToken"] = self.token
        self.conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = self.conn.getresponse()
        raw = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, (json.loads(raw) if raw else {})


def measure(kind: str, runs: int) -> dict:
    with fresh_database(kind) as url:
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False}
        )
        with app.app_context():
            today = date.today()
            create_team(db.session, "Bench", "Bench Agency")
            user = create_user(
                db.session,
                email="bench@example.org",
                name="Bench",
                role="practitioner",
                password=PASSWORD,
                team_names=["Bench"],
            )
            children = []
            for number in range(20):
                child = Child(
                    external_id=f"B-{number}",
                    given_name="B",
                    family_name=str(number),
                    date_of_birth=today - timedelta(days=3000),
                    care_start_date=today - timedelta(days=400),
                    team_id=user.teams[0].id,
                    primary_agency_id=user.agency_id,
                )
                db.session.add(child)
                db.session.flush()
                allocate(db.session, child, user, child.care_start_date)
                children.append(child.id)
            db.session.commit()
            user_id = user.id
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = Client(server.server_port)
        status, body = client.request(
            "POST", "/api/auth/login", {"email": "bench@example.org", "password": PASSWORD}
        )
        assert status == 200, body
        client.token = body["csrf_token"]

        push_times, raw_times = [], []
        for run in range(runs + 1):  # the first run warms up and is not counted
            device_id = str(uuid.uuid4())
            assert (
                client.request(
                    "POST", "/api/sync/devices", {"device_id": device_id, "name": f"bench {run}"}
                )[0]
                == 201
            )
            mutations = [
                {
                    "mutation_id": str(uuid.uuid4()),
                    "seq": seq,
                    "op": "create",
                    "record_type": "contact",
                    "record_id": str(uuid.uuid4()),
                    "base_version": None,
                    "data": _contact_data(
                        children[seq % len(children)], today - timedelta(days=seq % 40)
                    ),
                }
                for seq in range(1, TOTAL + 1)
            ]
            started = time.perf_counter()
            for start in range(0, TOTAL, BATCH):
                status, body = client.request(
                    "POST",
                    "/api/sync/push",
                    {"device_id": device_id, "mutations": mutations[start : start + BATCH]},
                )
                assert status == 200 and all(r["status"] == "applied" for r in body["results"]), (
                    body
                )
            push_s = time.perf_counter() - started

            rows = [
                {
                    "id": uuid.uuid4(),
                    "child_id": children[n % len(children)],
                    "author_id": user_id,
                    "status": "submitted",
                    "contact_date": today - timedelta(days=n % 40),
                    "mode": "face_to_face",
                    "made_by": "practitioner",
                    "child_seen": True,
                    "seen_alone": False,
                    "interpreter_used": False,
                    "location": "placement",
                    "child_views": "I like my new school and I want to see Nan more.",
                    "views_method": "conversation",
                    "worries": "Missed family time.",
                    "working_well": "Settled at home.",
                    "needs_to_happen": "Book family time.",
                    "safety_scale": 7,
                    "version": 1,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for n in range(TOTAL)
            ]
            with app.app_context():
                engine = db.engine
                started = time.perf_counter()
                for start in range(0, TOTAL, BATCH):
                    with engine.begin() as conn:
                        conn.execute(insert(Contact.__table__), rows[start : start + BATCH])
                raw_s = time.perf_counter() - started
            if run:
                push_times.append(push_s)
                raw_times.append(raw_s)
        server.shutdown()
        app.extensions["fieldapp_db"]["engine"].dispose()
    ratios = [p / r for p, r in zip(push_times, raw_times, strict=True)]
    return {
        "kind": kind,
        "push_ms": statistics.median(push_times) * 1000,
        "raw_ms": statistics.median(raw_times) * 1000,
        "ratio": statistics.median(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    results = []
    for kind in args.databases.split(","):
        result = measure(kind, args.runs)
        results.append(result)
        print(
            f"{kind}: push {result['push_ms']:.0f} ms, raw insert {result['raw_ms']:.0f} ms, "
            f"ratio {result['ratio']:.1f}x",
            flush=True,
        )
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, Python "
        f"{platform.python_version()}, median of {args.runs} runs, `python -m bench.sync --write`.",
        "",
        "| database | push, 5 × 200 over HTTP (ms) | raw executemany, 5 transactions (ms) "
        "| ratio (median) |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['kind']} | {r['push_ms']:.0f} | {r['raw_ms']:.0f} | {r['ratio']:.1f}× |"
        for r in results
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section("sync", report)


if __name__ == "__main__":
    main()
