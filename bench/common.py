"""Shared benchmark plumbing: fresh databases, timing, and writing results into
docs/performance.md between markers."""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from fieldapp.extensions import build_engine
from fieldapp.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "FIELDAPP_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PERFORMANCE_DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


@contextmanager
def fresh_database(kind: str):
    """Yields the URL of a new, migrated, empty database, dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.sqlite3"
            engine = build_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"fieldapp_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = build_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def median_ms(action, runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def write_section(name: str, body: str) -> None:
    """Replaces the text between <!-- bench:NAME --> and <!-- /bench:NAME --> in
    docs/performance.md."""
    doc = PERFORMANCE_DOC.read_text()
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    replacement = f"{start}\n{body.strip()}\n{end}"
    if pattern.search(doc):
        doc = pattern.sub(lambda _m: replacement, doc)
    else:
        doc = doc.rstrip() + "\n\n" + replacement + "\n"
    PERFORMANCE_DOC.write_text(doc)
