"""Profile: where a sync's time goes (issue 14), with a sampling profiler.

Through the Flask test client, in one process, on a fresh SQLite or PostgreSQL database with one
practitioner holding 20 children:

- first pull: a new tablet's first pull of the caseload (20 children, 200 complete contacts
  pushed beforehand from another tablet), every page until `has_more` is false;
- empty pull: a pull with the last cursor when nothing is new;
- push: 200 complete contacts in one request (each with one participant, one action and a
  paragraph of notes: `bench.sync.contact_data`), continuing the device's seq;
- resent push: the same 200 again, answered all `duplicate`.

Each case is first timed without the profiler (server time, around the app's WSGI callable, so
the test client's own work is left out; SQL statements timed at the cursor through SQLAlchemy's
events; Python's garbage collections through `gc.callbacks`), then run again under the sampler,
and each sample is put in one bucket by its call stack (`OWNERS`, `INNERMOST`). Samples outside
the app (the test client) are left out. The buckets' shares are reported as milliseconds of the
unprofiled median. For the push, the audit rows' whole cost is measured by leaving them out
(`audit_rows_off`), since their INSERTs run inside the ORM's flush with everything else.

    .venv/bin/python -m bench.profile_sync [--runs 5] [--databases sqlite,postgresql]
        [--sampler pyinstrument|py-spy] [--save DIR] [--write before|after]

pyinstrument (a dev dependency) runs in the process and hooks every call, so it slows
Python-heavy code more than waits on the database; py-spy (`pip install py-spy`, needs ptrace)
samples from outside. `--save DIR` writes the sampler's reports per case; `--write LABEL` puts
the tables in docs/performance.md between `<!-- bench:sync_profile_LABEL -->` markers.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pyinstrument import Profiler
from sqlalchemy import event

from .common import fresh_database, write_section
from .sync import BATCH, EMAIL, PASSWORD, bench_app, contact_mutations, seed

INTERVAL = 0.0005  # seconds between samples

# --- attributing a sample to a bucket ------------------------------------------------------------
# A frame is (function, file). A sample's stack is searched in two passes:
# 1. OWNERS, anywhere in the stack (outermost first): request overhead with its own queries and
#    commits, counted whole (the user_sessions read, the CSRF check, the device's row...).
# 2. INNERMOST, from the innermost frame out: the first frame that matches names the bucket, so
#    a flush inside the change numbering counts as the flush, and the change numbering inside a
#    commit as the change order.
# A sample matching neither is the framework's: Flask and werkzeug (routing, contexts, headers).


VALIDATORS = (
    "parse_date",
    "parse_uuid",
    "parse_contact_value",
    "_parse_list",
    "_participant",
    "_action",
    "unknown_fields",
    "parse_return_visit_data",
    "parse_contact_data",
    "unstorable_fields",
    "add",
    "update",
)
SERIALISERS = (
    "child_data",
    "contact_data",
    "return_visit_data",
    "addendum_data",
    "youth_justice_data",
    "_iso",
)


def _in(path: str):
    return lambda func, file: path in file


def _fn(path: str, *names: str):
    return lambda func, file: path in file and func in names


OWNERS = [
    (
        "session lookup (cookie, user_sessions row)",
        lambda func, file: (
            (func in ("_load_user", "_load_user_from_remember_cookie") and "flask_login/" in file)
            or (func in ("open_session", "save_session") and "flask/sessions.py" in file)
            or (func == "load_session_user" and "fieldapp/services/accounts.py" in file)
        ),
    ),
    ("CSRF check", _in("flask_wtf/csrf.py")),
    ("device lookup", _fn("fieldapp/services/sync/", "device_for")),
    ("audit rows (building them)", _fn("fieldapp/services/audit.py", "record_event")),
    (
        "connection: checkout, pre-ping, BEGIN",
        lambda func, file: (
            "sqlalchemy/pool/" in file
            or func in ("do_ping", "_sqlite_begin")
            or (func == "_connection_for_bind" and "sqlalchemy/orm/" in file)
        ),
    ),
]
INNERMOST = [
    ("change order (numbering changes)", _in("fieldapp/services/change_seq.py")),
    ("ORM flush (unit of work: INSERT/UPDATE)", _fn("sqlalchemy/orm/session.py", "flush")),
    ("COMMIT", lambda func, file: func in ("do_commit", "commit") and "sqlalchemy/" in file),
    (
        "validation (contact fields, unknown fields, envelope)",
        lambda func, file: (
            _fn("fieldapp/services/sync_records.py", *VALIDATORS)(func, file)
            or _fn("fieldapp/services/contacts.py", "validate_contact", "_blank")(func, file)
            or "fieldapp/api/bodies.py" in file
            or "fieldapp/services/record_fields.py" in file
            or _fn("fieldapp/services/sync/", "check_envelope", "_device_id")(func, file)
            or "fieldapp/services/text.py" in file
        ),
    ),
    ("exactly-once: payload hash", _fn("fieldapp/services/sync/", "payload_hash")),
    (
        "set-based inserts (contacts, participants, actions, audit rows)",
        _fn("fieldapp/services/sync/", "write_pending"),
    ),
    ("batch look-ups (children, existing ids)", _fn("fieldapp/services/sync/", "__init__")),
    (
        "per-mutation work (building contact, participant, action and audit rows)",
        lambda func, file: (
            _fn(
                "fieldapp/services/sync/",
                "apply_mutation",
                "_apply_checked",
                "_is_contact_create",
                "insert_later",
                "_create_contact",
                "result",
                "as_dict",
                "child_in_scope",
                "exists",
                "created",
            )(func, file)
            or _fn(
                "fieldapp/services/contacts.py",
                "save_contact",
                "_apply_values",
                "new_contact_rows",
                "_stored_columns",
                "_participant_rows",
                "_action_rows",
                "_check_can_record",
            )(func, file)
            or _fn("fieldapp/services/audit.py", "event_row")(func, file)
        ),
    ),
    (
        "per-mutation guard (snapshots of session.new/dirty)",
        _fn("fieldapp/services/sync/", "_pending_changes"),
    ),
    (
        "pull: serialising records (child_data, contact_data, ...)",
        lambda func, file: (
            _fn("fieldapp/services/sync_records.py", *SERIALISERS)(func, file)
            or _fn("fieldapp/services/sync/", "_change")(func, file)
        ),
    ),
    (
        "pull: records of entering children (queries)",
        lambda func, file: (
            _fn("fieldapp/services/sync/", "_full_records", "_entering_page")(func, file)
            or _fn("fieldapp/services/sync_records.py", "child_permanency")(func, file)
            or "fieldapp/services/compliance.py" in file
        ),
    ),
    (
        "pull: changes since the cursor (queries)",
        _fn("fieldapp/services/sync/", "_changes_since"),
    ),
    (
        "pull: holdings, scope, cursor check",
        _fn(
            "fieldapp/services/sync/",
            "_confirm_holdings",
            "_visible_child_ids",
            "_purges",
            "check_cursor",
        ),
    ),
    ("pull: the rest (holdings rows, cursor)", _fn("fieldapp/services/sync/", "pull")),
    ("exactly-once: sync_mutations reads and insert", _fn("fieldapp/services/sync/", "_push")),
    ("cursor signing", _in("itsdangerous/")),
    (
        "JSON decode and encode",
        lambda func, file: (
            "flask/json/" in file
            or (func in ("get_json", "json") and ("werkzeug/" in file or "flask/" in file))
        ),
    ),
]
FRAMEWORK = "Flask and werkzeug (routing, contexts, headers, teardown)"
# Listed for every case, however small, below its table.
OVERHEAD = [name for name, _match in OWNERS] + [
    "change order (numbering changes)",
    "COMMIT",
    "JSON decode and encode",
    FRAMEWORK,
]
DB_FUNCS = {
    "do_execute",
    "do_executemany",
    "do_execute_no_params",
    "do_commit",
    "do_rollback",
    "do_ping",
    "_exec_insertmany_context",
}


def attribute(frames: list[tuple[str, str]]) -> tuple[str | None, bool]:
    """(bucket, in the database driver) of one sample, its frames outermost first; bucket None:
    outside the app (the test client)."""
    in_app = any(func == "wsgi_app" and "flask/app.py" in file for func, file in frames)
    if not in_app:
        return None, False
    in_db = any(func in DB_FUNCS and "sqlalchemy/" in file for func, file in frames)
    for func, file in frames:  # outermost first
        for name, match in OWNERS:
            if match(func, file):
                return name, in_db
    for func, file in reversed(frames):  # innermost first
        for name, match in INNERMOST:
            if match(func, file):
                return name, in_db
    return FRAMEWORK, in_db


@dataclass
class Profile:
    ms: Counter = field(default_factory=Counter)
    db_ms: Counter = field(default_factory=Counter)
    total_ms: float = 0.0


def summarise(samples: list[tuple[list[tuple[str, str]], float]], ops: int) -> Profile:
    """Milliseconds per operation in each bucket, from (frames, seconds) samples."""
    profile = Profile()
    for frames, seconds in samples:
        bucket, in_db = attribute(frames)
        if bucket is None:
            continue
        ms = seconds * 1000 / ops
        profile.ms[bucket] += ms
        profile.total_ms += ms
        if in_db:
            profile.db_ms[bucket] += ms
    return profile


class Pyinstrument:
    """In-process: pyinstrument's statistical profiler (it hooks every call, so Python-heavy
    code is slowed more than time spent waiting on the database)."""

    name = "pyinstrument"

    def __init__(self):
        self.profiler = Profiler(interval=INTERVAL)

    def start(self) -> None:
        self.profiler.start()

    def stop(self) -> None:
        self.profiler.stop()

    def samples(self) -> list[tuple[list[tuple[str, str]], float]]:
        out = []
        for stack, seconds in self.profiler.last_session.frame_records:
            frames = []
            for info in stack:
                func, file, *_line = info.split("\x01", 1)[0].split("\x00")
                frames.append((func, file))
            out.append((frames, seconds))
        return out

    def save(self, stem: Path) -> None:
        stem.with_suffix(".html").write_text(self.profiler.output_html())
        stem.with_suffix(".txt").write_text(self.profiler.output_text(unicode=True))


class PySpy:
    """Out of process: py-spy attached to this process (`pip install py-spy`; needs ptrace,
    as root or with CAP_SYS_PTRACE), sampling wall-clock time (`--idle`, so waits on the
    database count) without slowing the code it samples."""

    name = "py-spy"
    RATE = 1000  # samples a second
    _FRAME = re.compile(r"^(.*) \((.*):\d+\)$")

    def __init__(self, binary: str):
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="profile_sync-"))
        self.files: list[Path] = []
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        out = self.folder / f"{len(self.files)}.txt"
        self.files.append(out)
        self.process = subprocess.Popen(
            [self.binary, "record", "--pid", str(os.getpid()), "--rate", str(self.RATE)]
            + ["--idle", "--format", "raw", "--output", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in self.process.stdout:
            if "Sampling process" in line:
                break
        else:
            raise RuntimeError(f"py-spy did not start: exit {self.process.wait()}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.communicate(timeout=120)

    def samples(self) -> list[tuple[list[tuple[str, str]], float]]:
        out = []
        for path in self.files:
            for line in path.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                frames = []
                for frame in stack.split(";"):
                    match = self._FRAME.match(frame)
                    func, file = match.groups() if match else (frame, "")
                    frames.append((func.rpartition(".")[2], file))
                out.append((frames, int(count) / self.RATE))
        return out

    def save(self, stem: Path) -> None:
        stem.with_suffix(".txt").write_text("".join(path.read_text() for path in self.files))


# --- timing without the profiler -----------------------------------------------------------------


class ServerClock:
    """Wraps the app's WSGI callable: the server's time for each request, without the test
    client's."""

    def __init__(self, app):
        self.inner = app.wsgi_app
        self.samples: list[float] = []
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        try:
            return self.inner(environ, start_response)
        finally:
            self.samples.append(time.perf_counter() - started)


_STATEMENT = re.compile(
    r"^\s*(?:(SELECT)\b.*?\bFROM\s+\"?(\w+)|(INSERT) INTO \"?(\w+)|(UPDATE) \"?(\w+)"
    r"|(DELETE) FROM \"?(\w+)|(\w+))",
    re.S | re.I,
)


def statement_kind(statement: str) -> str:
    match = _STATEMENT.match(statement)
    if not match:
        return statement[:30]
    parts = [g for g in match.groups() if g]
    return " ".join([parts[0].upper(), *parts[1:]])


class SqlClock:
    """Time in cursor.execute/executemany per statement kind (e.g. `INSERT contacts`)."""

    def __init__(self, engine):
        self.engine = engine
        self.ms: Counter = Counter()
        self.count: Counter = Counter()
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if not self.on:
            return
        kind = statement_kind(statement) + (" (executemany)" if executemany else "")
        self.ms[kind] += (time.perf_counter() - conn.info.pop("bench_started")) * 1000
        self.count[kind] += 1

    def reset(self) -> None:
        self.ms.clear()
        self.count.clear()


class GcClock:
    """Time in Python's cyclic garbage collector, by generation (a sampler puts it on whatever
    frame was running when a collection started)."""

    def __init__(self):
        self.ms = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self.on = False
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.ms, self.collections = [0.0, 0.0, 0.0], [0, 0, 0]

    def _callback(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        elif self.on:
            self.ms[info["generation"]] += (time.perf_counter() - self._started) * 1000
            self.collections[info["generation"]] += 1


# --- the cases -----------------------------------------------------------------------------------


class Tablet:
    """A signed-in test client with one registered device and its outbox's seq."""

    def __init__(self, app):
        self.client = app.test_client()
        answer = self.client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        assert answer.status_code == 200, answer.json
        self.headers = {"X-CSRFToken": answer.json["csrf_token"]}
        self.new_device()

    def new_device(self) -> None:
        self.device_id = str(uuid.uuid4())
        self.seq = 0
        self.cursor = None
        answer = self.client.post(
            "/api/sync/devices",
            json={"device_id": self.device_id, "name": "profile"},
            headers=self.headers,
        )
        assert answer.status_code == 201, answer.json

    def push(self, mutations: list[dict]) -> list[dict]:
        answer = self.client.post(
            "/api/sync/push",
            json={"device_id": self.device_id, "mutations": mutations},
            headers=self.headers,
        )
        assert answer.status_code == 200, answer.json
        return answer.json["results"]

    def pull_page(self) -> dict:
        query = f"cursor={self.cursor}" if self.cursor else f"device_id={self.device_id}"
        answer = self.client.get(f"/api/sync/pull?{query}&limit=200")
        assert answer.status_code == 200, answer.json
        self.cursor = answer.json["cursor"]
        return answer.json


@dataclass
class Case:
    name: str
    prepare: object  # () -> None, untimed
    act: object  # () -> int: does the case once, returns the number of requests
    reps: int  # repetitions per measurement (short cases run more often for enough samples)


def cases(app, children: list[uuid.UUID], today: date) -> list[Case]:
    tablet = Tablet(app)
    last_push: list[dict] = []

    def first_pull() -> int:
        pages = 0
        while True:
            pages += 1
            if not tablet.pull_page()["has_more"]:
                return pages

    def empty_pull() -> int:
        page = tablet.pull_page()
        assert not page["changes"] and not page["purge"], page
        return 1

    def push() -> int:
        mutations = contact_mutations(children, today, BATCH, first_seq=tablet.seq + 1)
        results = tablet.push(mutations)
        assert all(r["status"] == "applied" for r in results), results[:3]
        tablet.seq += BATCH
        last_push[:] = mutations
        return 1

    def resend() -> int:
        results = tablet.push(last_push)
        assert all(r["status"] == "duplicate" for r in results), results[:3]
        return 1

    def on_new_device() -> None:
        tablet.new_device()

    def ready_to_resend() -> None:
        if not last_push:
            push()

    return [
        Case("first pull of the caseload", on_new_device, first_pull, 1),
        Case("empty pull (nothing new)", lambda: None, empty_pull, 20),
        Case("push of 200 complete contacts", lambda: None, push, 1),
        Case("resent push of 200 (all duplicate)", ready_to_resend, resend, 5),
    ]


def run_case(
    case: Case, runs: int, server: ServerClock, sql: SqlClock, gc_clock: GcClock, sampler
) -> dict:
    """Median server ms per operation (unprofiled), SQL and garbage collection per operation,
    and the profile."""
    case.prepare()
    case.act()  # warm-up
    per_op, requests = [], 0
    sql.reset()
    sql.on = gc_clock.on = True
    gc_clock.reset()
    for _ in range(runs):
        case.prepare()
        server.samples.clear()
        for _ in range(case.reps):
            requests = case.act()
        per_op.append(sum(server.samples) / case.reps)
    sql.on = gc_clock.on = False
    ops = runs * case.reps
    for _ in range(runs):
        case.prepare()
        sampler.start()
        for _ in range(case.reps):
            case.act()
        sampler.stop()
    return {
        "name": case.name,
        "median_ms": statistics.median(per_op) * 1000,
        "requests": requests,
        "sql_ms": {k: v / ops for k, v in sql.ms.items()},
        "sql_count": {k: v / ops for k, v in sql.count.items()},
        "gc_ms": sum(gc_clock.ms) / ops,
        "gc_collections": sum(gc_clock.collections) / ops,
        "gc_by_generation": [
            (n / ops, ms / ops) for n, ms in zip(gc_clock.collections, gc_clock.ms, strict=True)
        ],
        "tracked_objects": len(gc.get_objects()),
        "profile": summarise(sampler.samples(), ops),
    }


@contextmanager
def audit_rows_off():
    """Every audit row of a request left unmade (record_event a no-op and the rows of new
    contacts made without theirs, in this process only): what the audit rows cost all told,
    building and inserting them."""
    from fieldapp import access
    from fieldapp.services import contacts
    from fieldapp.services.sync import handlers, pulling, pushing

    modules = (access, contacts, handlers, pulling, pushing)
    saved = [module.record_event for module in modules]
    real_rows = handlers.new_contact_rows

    def rows_without_audit(*args, **kwargs):
        rows = real_rows(*args, **kwargs)
        rows.audit = []
        return rows

    for module in modules:
        module.record_event = lambda *args, **kwargs: None
    handlers.new_contact_rows = rows_without_audit
    try:
        yield
    finally:
        for module, function in zip(modules, saved, strict=True):
            module.record_event = function
        handlers.new_contact_rows = real_rows


def measure(kind: str, runs: int, make_sampler, save: Path | None) -> list[dict]:
    with fresh_database(kind) as url:
        app = bench_app(url)
        _user_id, children = seed(app)
        today = date.today()
        server = ServerClock(app)
        with app.app_context():
            sql = SqlClock(app.extensions["fieldapp_db"]["engine"])
        gc_clock = GcClock()
        # The caseload: 10 complete contacts a child, pushed from another tablet.
        seeding = Tablet(app)
        assert all(
            r["status"] == "applied"
            for r in seeding.push(contact_mutations(children, today, 10 * len(children)))
        )
        results = []
        for case in cases(app, children, today):
            sampler = make_sampler()
            result = run_case(case, runs, server, sql, gc_clock, sampler)
            results.append(result)
            if case.name.startswith("push"):
                # The same push with no audit rows, alternating with the real one; each after
                # a full collection, so a collection striking one side only does not decide.
                with_audit, without = [], []
                for _ in range(2 * runs):
                    gc.collect()
                    server.samples.clear()
                    case.act()
                    with_audit.append(server.samples[-1] * 1000)
                    with audit_rows_off():
                        gc.collect()
                        server.samples.clear()
                        case.act()
                        without.append(server.samples[-1] * 1000)
                result["ablation_runs"] = 2 * runs
                result["with_audit_ms"] = statistics.median(with_audit)
                result["without_audit_ms"] = statistics.median(without)
            print(f"{kind}: {format_case(result)}", flush=True)
            if save is not None:
                save.mkdir(parents=True, exist_ok=True)
                sampler.save(
                    save / f"{kind}-{sampler.name}-{re.sub(r'[^a-z0-9]+', '-', case.name)}"
                )
        app.extensions["fieldapp_db"]["engine"].dispose()
        gc.callbacks.remove(gc_clock._callback)
    return results


# --- the report ----------------------------------------------------------------------------------


def _scaled(result: dict) -> tuple[list[tuple[str, float, float]], float]:
    """The profile's buckets as (bucket, ms, db ms), scaled so they add up to the unprofiled
    median; and the scale (unprofiled ÷ sampled)."""
    profile: Profile = result["profile"]
    scale = result["median_ms"] / profile.total_ms
    rows = [(b, ms * scale, profile.db_ms[b] * scale) for b, ms in profile.ms.most_common()]
    return rows, scale


def format_case(result: dict, top: int = 9) -> str:
    rows, scale = _scaled(result)
    lines = [
        f"{result['name']}: median {result['median_ms']:.1f} ms server time "
        f"({result['requests']} request(s)); sampled {result['profile'].total_ms:.1f} ms",
    ]
    for bucket, ms, db_ms in rows[:top]:
        lines.append(
            f"    {ms:7.2f} ms {100 * ms / result['median_ms']:5.1f}%  (db {db_ms:6.2f})  {bucket}"
        )
    db = sum(db_ms for _b, _ms, db_ms in rows)
    lines.append(f"    in the database driver: {db:.2f} ms ({100 * db / result['median_ms']:.0f}%)")
    if "without_audit_ms" in result:
        lines.append(
            f"    with audit rows {result['with_audit_ms']:.1f} ms, "
            f"without {result['without_audit_ms']:.1f} ms"
        )
    by_generation = ", ".join(
        f"gen{g} {n:.1f}x {ms:.1f} ms" for g, (n, ms) in enumerate(result["gc_by_generation"])
    )
    lines.append(
        f"    garbage collection: {result['gc_ms']:.2f} ms ({by_generation}); "
        f"{result['tracked_objects']} objects tracked"
    )
    lines.append("    SQL (unprofiled, per operation):")
    for kind, ms in sorted(result["sql_ms"].items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"      {ms:7.2f} ms  x{result['sql_count'][kind]:.1f}  {kind}")
    return "\n".join(lines)


def markdown(kind: str, result: dict, top: int = 7) -> str:
    rows, _scale = _scaled(result)
    total = result["median_ms"]
    db_total = sum(db_ms for _b, _ms, db_ms in rows)
    requests = result["requests"]
    lines = [
        f"**{kind}, {result['name']}**: {total:.1f} ms server time (median, {requests} "
        f"request{'s' if requests > 1 else ''}; {result['profile'].total_ms:.1f} ms while "
        f"sampled); {100 * db_total / total:.0f}% of it in the database driver.",
        "",
        "| where | ms | % | of which in the database driver (ms) |",
        "|---|---:|---:|---:|",
    ]
    for bucket, ms, db_ms in rows[:top]:
        lines.append(f"| {bucket} | {ms:.1f} | {100 * ms / total:.0f}% | {db_ms:.1f} |")
    rest = sum(ms for _b, ms, _db in rows[top:])
    if rest > 0.05:
        rest_db = sum(db for _b, _ms, db in rows[top:])
        lines.append(
            f"| everything else | {rest:.1f} | {100 * rest / total:.0f}% | {rest_db:.1f} |"
        )
    by_bucket = {b: ms for b, ms, _db in rows}
    lines += [
        "",
        "Request overhead: "
        + "; ".join(f"{b} {by_bucket.get(b, 0.0):.1f} ms" for b in OVERHEAD)
        + ".",
    ]
    statements = sorted(result["sql_ms"].items(), key=lambda kv: -kv[1])[:5]
    lines += [
        "",
        f"SQL (timed at the cursor, unprofiled): {sum(result['sql_count'].values()):.0f} "
        f"statements, {sum(result['sql_ms'].values()):.1f} ms; the largest: "
        + "; ".join(f"`{k}` ×{result['sql_count'][k]:.0f} {ms:.1f} ms" for k, ms in statements)
        + ".",
    ]
    if result["gc_ms"] >= 0.1:
        gen2_runs, gen2_ms = result["gc_by_generation"][2]
        lines[-1] += (
            f" Python's garbage collector ran {result['gc_collections']:.1f} times, "
            f"{result['gc_ms']:.1f} ms ({gen2_runs:.1f} full collections, {gen2_ms:.1f} ms; "
            f"{result['tracked_objects']:,} objects tracked in the process), counted inside "
            "the buckets above wherever it struck."
        )
    if "without_audit_ms" in result:
        lines += [
            "",
            f"Audit rows all told (built, flushed, inserted): the same push takes "
            f"{result['with_audit_ms']:.1f} ms with them and {result['without_audit_ms']:.1f} ms "
            "without (`record_event` made a no-op in the bench process; medians of "
            f"{result['ablation_runs']} "
            "alternating pushes, each after a full garbage collection).",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--sampler",
        choices=("pyinstrument", "py-spy"),
        default="pyinstrument",
        help="py-spy needs its binary on PATH (pip install py-spy) and ptrace",
    )
    parser.add_argument("--save", type=Path, help="write the sampler's reports here")
    parser.add_argument("--write", metavar="LABEL", help="update docs/performance.md")
    args = parser.parse_args()
    if args.sampler == "py-spy":
        binary = shutil.which("py-spy")
        if binary is None:
            parser.error("py-spy is not on PATH (pip install py-spy)")
        make_sampler = lambda: PySpy(binary)  # noqa: E731
        how = f"py-spy at {PySpy.RATE} samples a second, wall clock"
    else:
        make_sampler = Pyinstrument
        how = f"pyinstrument every {INTERVAL * 1000:g} ms"
    command = f"python -m bench.profile_sync --runs {args.runs} --sampler {args.sampler}"
    sections = [
        f"Measured {date.today().isoformat()} on {platform.machine()} (2 cores), Python "
        f"{platform.python_version()}, {how}, {args.runs} runs each, `{command}`. Server time "
        "is timed around the app's WSGI callable without the profiler; the buckets are the "
        "sampled shares of it.",
    ]
    for kind in args.databases.split(","):
        for result in measure(kind, args.runs, make_sampler, args.save):
            sections.append(markdown(kind, result))
    report = "\n\n".join(sections)
    print(report)
    if args.write:
        write_section(f"sync_profile_{args.write}", report)


if __name__ == "__main__":
    main()
