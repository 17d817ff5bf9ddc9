"""Benchmark: our push against its peer, PouchDB replicating to pouchdb-server (SPEC §7,
issue 14).

The same 1,000 complete contacts (`bench.sync.contact_data`: one participant, one action and a
paragraph of notes each) go, side by side in one run:

- PouchDB → pouchdb-server: from a local PouchDB (in memory) to pouchdb-server on LevelDB on
  loopback, one replication in batches of 200 (`batch_size`: 5 `_bulk_docs` requests, with the
  replicator's `_revs_diff` and checkpoint requests), `bench/peer/replicate.mjs`;
- our push: 5 requests of 200 over HTTP on loopback to the app (werkzeug, one process), on
  SQLite and PostgreSQL, with the raw `executemany` floor (`bench.sync.measure`).

Bars: our push at least 2× faster than PouchDB, and at most 6× the raw insert. The runs are
interleaved (PouchDB, then our push on each database, round after round) so load from elsewhere
falls on both sides alike; medians, after a warm-up of each that is not counted.

The npm packages (`pouchdb-server`, `pouchdb-node`, `pouchdb-adapter-memory`, versions below)
are installed on first use into bench/.peer (ignored by git) with `npm install --prefix`.

    .venv/bin/python -m bench.peer [--runs 5] [--databases sqlite,postgresql] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from . import sync
from .common import write_section

HERE = Path(__file__).resolve().parent
PEER = HERE / ".peer"  # npm's prefix: node_modules, package.json and its lock file
REPLICATE = HERE / "peer" / "replicate.mjs"
PACKAGES = {"pouchdb-server": "4.2.0", "pouchdb-node": "9.0.0", "pouchdb-adapter-memory": "9.0.0"}
SERVER = PEER / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"


class PeerUnavailable(Exception):
    pass


def install() -> None:
    """The pinned npm packages in bench/.peer, installed if any is missing or another version."""

    def installed(name: str) -> str | None:
        manifest = PEER / "node_modules" / name / "package.json"
        return json.loads(manifest.read_text())["version"] if manifest.exists() else None

    if all(installed(name) == version for name, version in PACKAGES.items()):
        return
    PEER.mkdir(exist_ok=True)
    command = ["npm", "install", "--prefix", str(PEER), "--no-audit", "--no-fund"]
    command += ["--loglevel=error"] + [f"{name}@{version}" for name, version in PACKAGES.items()]
    print("installing", " ".join(f"{n}@{v}" for n, v in PACKAGES.items()), "into", PEER)
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except OSError as exc:  # no npm on this machine
        raise PeerUnavailable(f"cannot run npm: {exc}") from None
    if done.returncode != 0:
        raise PeerUnavailable(
            f"npm could not install the peer's packages (exit {done.returncode}):\n"
            + (done.stderr or done.stdout)[-2000:]
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def documents(total: int = sync.TOTAL) -> list[dict]:
    """The 1,000 complete contacts as PouchDB documents: our push's `data`, keyed by record id."""
    children = [uuid.uuid4() for _ in range(sync.CHILDREN)]
    return [
        {"_id": m["record_id"], "type": "contact"} | m["data"]
        for m in sync.contact_mutations(children, date.today(), total)
    ]


class PouchServer:
    """pouchdb-server on LevelDB in a temporary folder, on a free port of loopback. `run()`
    times one replication of the documents to a fresh database on it (after a warm-up
    replication in the same Node process), in milliseconds."""

    def __init__(self, docs: list[dict]):
        self.docs = docs
        self._stack = ExitStack()

    def __enter__(self) -> PouchServer:
        folder = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="pouchdb-server-"))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            ["node", str(SERVER), "--host", "127.0.0.1", "--port", str(port)]
            + ["--dir", folder, "--config", f"{folder}/config.json", "--no-stdout-logs"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stack.callback(server.wait, timeout=30)
        self._stack.callback(server.terminate)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=1) as answer:
                    json.load(answer)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    self._stack.close()
                    raise PeerUnavailable(
                        f"pouchdb-server did not start: {server.stderr.read()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        self.docs_file = Path(folder) / "docs.json"
        self.docs_file.write_text(json.dumps(self.docs))
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def run(self) -> float:
        done = subprocess.run(
            ["node", str(REPLICATE), str(PEER), self.url, str(self.docs_file), "1"]
            + [str(sync.BATCH)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise PeerUnavailable(f"replicate.mjs failed:\n{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])["ms"][0]


def measure(runs: int, kinds: list[str]) -> tuple[list[float], list[dict], list[dict]]:
    """Interleaved rounds (PouchDB, then our push on each database), so load from elsewhere on
    the machine falls on both sides alike. Returns PouchDB's milliseconds, our results
    (`bench.sync.summary`) and each round's ratios."""
    docs = documents()
    with ExitStack() as stack:
        pouch = stack.enter_context(PouchServer(docs))
        ours = {kind: stack.enter_context(sync.PushBench(kind)) for kind in kinds}
        for bench in ours.values():
            bench.run()  # warms up, not counted
            bench.required_writes.clear()
        pouch_ms: list[float] = []
        times: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
        for _ in range(runs):
            pouch_ms.append(pouch.run())
            for kind, bench in ours.items():
                times[kind].append(bench.run())
            print(
                f"round: PouchDB {pouch_ms[-1]:.0f} ms; "
                + "; ".join(f"{k} {t[-1][0] * 1000:.0f} ms" for k, t in times.items()),
                flush=True,
            )
    results = [
        sync.summary(kind, [p for p, _r in t], [r for _p, r in t])
        | {"required_ms": statistics.median(ours[kind].required_writes) * 1000}
        for kind, t in times.items()
    ]
    rounds = [
        {kind: pouch_ms[n] / (times[kind][n][0] * 1000) for kind in kinds} for n in range(runs)
    ]
    return pouch_ms, results, rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    kinds = args.databases.split(",")
    try:
        install()
        pouch_ms, ours, rounds = measure(args.runs, kinds)
    except PeerUnavailable as exc:
        print(f"bench.peer: {exc}", file=sys.stderr)
        sys.exit(1)
    pouch = statistics.median(pouch_ms)
    size = len(json.dumps(documents()).encode())
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} cores, "
        f"client, servers and databases on the one machine; load average "
        f"{os.getloadavg()[0]:.1f} at the end), Python {platform.python_version()}, Node {node}, "
        + ", ".join(f"{n} {v}" for n, v in PACKAGES.items())
        + f"; {args.runs} interleaved rounds, medians, `python -m bench.peer --write` "
        f"(`make bench`). The same 1,000 complete contacts ({size / 1000:,.0f} kB of JSON), "
        "5 batches of 200.",
        "",
        "| | 1,000 complete contacts (ms) | PouchDB ÷ this, median of rounds (bar: ≥ 2×) "
        "| this ÷ raw insert (bar: ≤ 6×) |",
        "|---|---:|---:|---:|",
        f"| PouchDB → pouchdb-server (LevelDB) | {pouch:.0f} | 1 | |",
    ]
    for r in ours:
        ratio = statistics.median(round_[r["kind"]] for round_ in rounds)
        lines.append(
            f"| our push, {r['kind']} | {r['push_ms']:.0f} | {ratio:.2f}× "
            f"| {r['ratio']:.1f}× (raw {r['raw_ms']:.0f} ms) |"
        )
    lines += [
        "",
        "The floor of what our push must write, with no work in Python at all: a raw "
        "`executemany` of the same contacts, participants and actions plus, per contact, its two "
        "audit events and its exactly-once row (5 transactions, same durability), and PouchDB's "
        "time divided by that floor (the best ratio a server keeping these guarantees could "
        "reach here):",
        "",
    ]
    lines += [
        f"- {r['kind']}: {r['required_ms']:.0f} ms; PouchDB ÷ floor "
        f"{pouch / r['required_ms']:.2f}×; our push {r['push_ms'] / r['required_ms']:.1f}× "
        "the floor."
        for r in ours
    ]
    lines += [
        "",
        "Rounds (ms): PouchDB "
        + ", ".join(f"{ms:.0f}" for ms in pouch_ms)
        + "; "
        + "; ".join(
            f"{r['kind']} " + ", ".join(f"{ms:.0f}" for ms in r["push_samples_ms"]) for r in ours
        )
        + ".",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section("peer", report)


if __name__ == "__main__":
    main()
