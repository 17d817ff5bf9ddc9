"""Benchmark: pushing 1,000 queued complete contacts (SPEC §7).

A tablet's outbox of 1,000 complete contacts (each with one participant, one action and a
paragraph of notes) is pushed as 5 requests of 200 over HTTP on loopback to the real app
(werkzeug server, one process), and compared side by side with the physical floor: a raw
`executemany` insert of the same rows (contacts, participants, actions) in 5 transactions on the
same database with the same durability settings. Bar: the push at most 6× the raw insert
(SPEC §7; 25× until issue 14). Median of several runs.

    .venv/bin/python -m bench.sync [--runs 5] [--databases sqlite,postgresql] [--write]

`bench.peer` and `bench.profile_sync` build their contacts and their caseload with the
functions here, so the three measure the same documents.
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
from contextlib import ExitStack
from datetime import date, timedelta

from sqlalchemy import insert
from werkzeug.serving import make_server

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.models import (
    AuditEvent,
    Child,
    Contact,
    ContactAction,
    ContactParticipant,
    SyncMutation,
)
from fieldapp.models.base import utcnow
from fieldapp.services.accounts import create_team, create_user
from fieldapp.services.allocation import allocate

from .common import fresh_database, write_section

BATCH = 200
TOTAL = 1000
CHILDREN = 20
PASSWORD = "sync timing run 2026"
EMAIL = "bench@example.org"

# A paragraph of notes, about 100 words (600-odd characters), as a practitioner writes them.
NOTES = (
    "Visited Mia at her placement after school. Her carer Sandra said the week had been "
    "settled, with one difficult evening after Mia's phone call with her mother was cut short. "
    "Mia showed me the drawing she made at school of her family and talked about wanting to see "
    "her Nan more often; she asked whether her brother could come to the next family time. We "
    "went through the safety plan together and she could name two adults she would go to if she "
    "felt unsafe. Sandra will keep the daily diary going and let me know if the night waking "
    "comes back. I will follow up the family time request with the team leader this week."
)


def contact_data(child_id: uuid.UUID | str, day: date) -> dict:
    """A complete submitted contact as a tablet pushes it: every section filled, one
    participant, one action and a paragraph of notes."""
    return {
        "child_id": str(child_id),
        "status": "submitted",
        "contact_date": day.isoformat(),
        "start_time": "15:30",
        "duration_minutes": 60,
        "mode": "face_to_face",
        "made_by": "practitioner",
        "child_seen": True,
        "seen_alone": False,
        "interpreter_used": False,
        "language_used": "English",
        "location": "placement",
        "location_detail": "Carer's home, lounge room.",
        "child_views": "I like my new school and I want to see Nan more.",
        "views_method": "conversation",
        "worries": "Missed family time.",
        "working_well": "Settled at home.",
        "needs_to_happen": "Book family time.",
        "safety_scale": 7,
        "notes": NOTES,
        "participants": [
            {
                "role": "carer",
                "name": "Sandra Lee",
                "took_part_in_decisions": True,
                "views_and_wishes": "Happy for Mia to stay; wants more respite.",
                "feedback": "The visit was helpful.",
                "concerns": "Night waking after phone calls.",
            }
        ],
        "actions": [
            {
                "description": "Book family time with Nan and her brother.",
                "responsible": "Caseworker",
                "due_date": (day + timedelta(days=14)).isoformat(),
            }
        ],
    }


def contact_mutations(
    children: list, today: date, total: int = TOTAL, first_seq: int = 1
) -> list[dict]:
    """`total` create mutations of complete contacts, spread over the children and the last 40
    days, with consecutive seqs from `first_seq`."""
    return [
        {
            "mutation_id": str(uuid.uuid4()),
            "seq": first_seq + n,
            "op": "create",
            "record_type": "contact",
            "record_id": str(uuid.uuid4()),
            "base_version": None,
            "data": contact_data(children[n % len(children)], today - timedelta(days=n % 40)),
        }
        for n in range(total)
    ]


def raw_rows(children: list, author_id: int, today: date, total: int = TOTAL) -> list[dict]:
    """The same contacts as table rows, for the raw insert: [{contacts, participants, actions}]
    per contact."""
    rows = []
    for n in range(total):
        data = contact_data(children[n % len(children)], today - timedelta(days=n % 40))
        contact_id = uuid.uuid4()
        participant, action = data["participants"][0], data["actions"][0]
        contact = {
            key: value for key, value in data.items() if key not in ("participants", "actions")
        }
        contact |= {
            "id": contact_id,
            "child_id": uuid.UUID(data["child_id"]),
            "author_id": author_id,
            "contact_date": date.fromisoformat(data["contact_date"]),
            "version": 1,
            "created_at": utcnow(),
            "updated_at": utcnow(),
            "submitted_at": utcnow(),
        }
        rows.append(
            {
                "contact": contact,
                "participant": participant | {"id": uuid.uuid4(), "contact_id": contact_id},
                "action": action
                | {
                    "id": uuid.uuid4(),
                    "contact_id": contact_id,
                    "due_date": date.fromisoformat(action["due_date"]),
                },
            }
        )
    return rows


def bookkeeping_rows(rows: list[dict], author_id: int, device_id: uuid.UUID, first_seq: int):
    """What a push must write besides the records, for the same contacts: two audit events
    each (created, submitted) and the exactly-once row with its answer. Added to `rows`."""
    for n, row in enumerate(rows):
        contact_id = row["contact"]["id"]
        detail = {"child_id": str(row["contact"]["child_id"])}
        row["audit"] = [
            {"at": utcnow(), "user_id": author_id, "action": action, "object_type": "contact",
             "object_id": str(contact_id), "outcome": "ok", "ip": None, "detail": detail}
            for action in ("create", "submit")
        ]  # fmt: skip
        mutation_id = uuid.uuid4()
        row["mutation"] = {
            "device_id": device_id,
            "seq": first_seq + n,
            "mutation_id": mutation_id,
            "payload_hash": uuid.uuid4().hex * 2,
            "status": "applied",
            "result": {"mutation_id": str(mutation_id), "seq": first_seq + n,
                       "status": "applied", "version": 1, "record_id": str(contact_id),
                       "op": "create"},
            "received_at": utcnow(),
        }  # fmt: skip
    return rows


def seed(app, children: int = CHILDREN) -> tuple[int, list[uuid.UUID]]:
    """One team, one practitioner (EMAIL, PASSWORD) and `children` children allocated to them.
    Returns the user's id and the children's ids."""
    with app.app_context():
        today = date.today()
        create_team(db.session, "Bench", "Bench Agency")
        user = create_user(
            db.session,
            email=EMAIL,
            name="Bench",
            role="practitioner",
            password=PASSWORD,
            team_names=["Bench"],
        )
        ids = []
        for number in range(children):
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
            ids.append(child.id)
        db.session.commit()
        return user.id, ids


def bench_app(url: str):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False})


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


class PushBench:
    """One fresh database, the app on a werkzeug server (one process, threads) and a signed-in
    client. `run()` pushes 1,000 new complete contacts from a new device, 5 requests of 200, then
    raw-inserts the same rows; it returns both times in seconds."""

    def __init__(self, kind: str):
        self.kind = kind
        self._stack = ExitStack()

    def __enter__(self) -> PushBench:
        url = self._stack.enter_context(fresh_database(self.kind))
        self.app = bench_app(url)
        self._stack.callback(self.app.extensions["fieldapp_db"]["engine"].dispose)
        self.user_id, self.children = seed(self.app)
        server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._stack.callback(server.shutdown)
        self.client = Client(server.server_port)
        status, body = self.client.request(
            "POST", "/api/auth/login", {"email": EMAIL, "password": PASSWORD}
        )
        assert status == 200, body
        self.client.token = body["csrf_token"]
        self.runs = 0
        self.required_writes: list[float] = []  # seconds, one per run (see `run`)
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def run(self) -> tuple[float, float]:
        self.runs += 1
        today = date.today()
        device_id = str(uuid.uuid4())
        status, body = self.client.request(
            "POST", "/api/sync/devices", {"device_id": device_id, "name": f"bench {self.runs}"}
        )
        assert status == 201, body
        mutations = contact_mutations(self.children, today)
        started = time.perf_counter()
        for start in range(0, TOTAL, BATCH):
            status, body = self.client.request(
                "POST",
                "/api/sync/push",
                {"device_id": device_id, "mutations": mutations[start : start + BATCH]},
            )
            assert status == 200 and all(r["status"] == "applied" for r in body["results"]), body
        push_s = time.perf_counter() - started

        raw_s = self._raw_insert(raw_rows(self.children, self.user_id, today))
        # The floor of what a push must write (records, audit events, exactly-once rows): the
        # best any server keeping these guarantees could do, with no work in Python at all.
        rows = bookkeeping_rows(
            raw_rows(self.children, self.user_id, today), self.user_id, uuid.UUID(device_id),
            first_seq=TOTAL + 1,
        )  # fmt: skip
        self.required_writes.append(self._raw_insert(rows, bookkeeping=True))
        return push_s, raw_s

    def _raw_insert(self, rows: list[dict], bookkeeping: bool = False) -> float:
        """Seconds to insert the rows with `executemany`, 5 transactions of 200 contacts."""
        tables = [
            (Contact, "contact"),
            (ContactParticipant, "participant"),
            (ContactAction, "action"),
        ]
        if bookkeeping:
            tables += [(AuditEvent, "audit"), (SyncMutation, "mutation")]
        with self.app.app_context():
            engine = db.engine
            started = time.perf_counter()
            for start in range(0, TOTAL, BATCH):
                batch = rows[start : start + BATCH]
                with engine.begin() as conn:
                    for model, key in tables:
                        values = [r[key] for r in batch]
                        if values and isinstance(values[0], list):
                            values = [item for items in values for item in items]
                        conn.execute(insert(model.__table__), values)
            return time.perf_counter() - started


def summary(kind: str, push_times: list[float], raw_times: list[float]) -> dict:
    ratios = [p / r for p, r in zip(push_times, raw_times, strict=True)]
    return {
        "kind": kind,
        "push_ms": statistics.median(push_times) * 1000,
        "raw_ms": statistics.median(raw_times) * 1000,
        "ratio": statistics.median(ratios),
        "push_samples_ms": [t * 1000 for t in push_times],
    }


def measure(kind: str, runs: int) -> dict:
    with PushBench(kind) as bench:
        bench.run()  # warms up, not counted
        times = [bench.run() for _ in range(runs)]
    return summary(kind, [p for p, _r in times], [r for _p, r in times])


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
        f"{platform.python_version()}, median of {args.runs} runs, `python -m bench.sync --write`. "
        "Complete contacts (one participant, one action, a paragraph of notes); the raw insert "
        "writes the same contacts, participants and actions. Bar: at most 6×.",
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
