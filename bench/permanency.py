"""Benchmark: the coordinator's permanency page (SPEC §7).

Loads a fresh database with 10,000 children of one non-government agency, each with five years
of permanency history (one to three goals, a goal review at every interval of each goal,
consultations every few months, some extension applications and open consultation requests),
with fast bulk inserts (SQLAlchemy Core), then times, median of several runs:
- page: GET /permanency through the app for the agency's coordinator (server time: the one
  statement for the counts and the page of 100, the rules on those rows, the template);
- rows: `permanency_rows` alone (every row, as the exports: the statement and the R3 rules);
- csv: GET /permanency.csv (every row).

    .venv/bin/python -m bench.permanency [--children 10000] [--runs 7] [--databases postgresql]
        [--write] [--keep | --reuse URL]

Seeding takes about 95 s: `--keep` leaves the seeded PostgreSQL database in place and prints its
URL, `--reuse URL` measures an already seeded one (seeded the same day, since the histories run
up to today) without seeding it again. Drop a kept database with `DROP DATABASE` when done.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, create_engine, func, insert, select, text, update

from fieldapp import create_app
from fieldapp.extensions import build_engine, db
from fieldapp.migrate import upgrade
from fieldapp.models import (
    Agency,
    CasePlanGoalRecord,
    Child,
    ConsultationRequest,
    GoalExtension,
    GoalReview,
    PermanencyConsultation,
    Team,
    User,
)
from fieldapp.services import scope
from fieldapp.services.accounts import hash_password
from fieldapp.services.clock import today_in
from fieldapp.services.permanency import add_months, review_interval_months
from fieldapp.services.permanency_report import permanency_rows

from .common import PG_ADMIN_URL, fresh_database, median_ms, write_section

PASSWORD = "sync timing run 2026"
CHILDREN_PER_TEAM = 500
YEARS = 5
GOALS = ("family_preservation", "restoration", "guardianship", "adoption", "long_term_care")
BAR_MS = 200


def seed(session, children: int, today: date, seed_value: int = 11) -> dict:
    """The agency, its teams and coordinator, and the children's histories. Returns counts."""
    rng = random.Random(seed_value)
    agency = Agency(name="Bench NGO", kind="ngo")
    teams = [
        Team(name=f"bench-team-{i + 1}", agency=agency)
        for i in range(max(1, -(-children // CHILDREN_PER_TEAM)))
    ]
    session.add_all(teams)
    session.flush()
    password_hash = hash_password(PASSWORD)
    coordinator = User(
        email="coordinator@bench.example",
        name="Bench Coordinator",
        role="coordinator",
        agency=agency,
        password_hash=password_hash,
        teams=[teams[0]],
    )
    practitioner = User(
        email="practitioner@bench.example",
        name="Bench Practitioner",
        role="practitioner",
        agency=agency,
        password_hash=password_hash,
        teams=[teams[0]],
    )
    session.add_all([coordinator, practitioner])
    session.flush()

    history_start = today - timedelta(days=365 * YEARS)
    recorded = datetime.now(UTC) - timedelta(days=1)
    child_rows, goal_rows, review_rows, extension_rows = [], [], [], []
    current_goals = []  # the child's mirror of its goal in force (refresh_permanency_mirror)
    consultation_rows, request_rows = [], []
    for index in range(children):
        child_id = uuid.uuid4()
        care_start = history_start - timedelta(days=rng.randint(0, 400))
        child_rows.append(
            dict(
                id=child_id,
                external_id=f"BENCH-{index + 1}",
                given_name=f"Child{index + 1}",
                family_name=f"Family{index % 997}",
                date_of_birth=care_start - timedelta(days=rng.randint(30, 5000)),
                care_start_date=care_start,
                care_end_date=None if rng.random() > 0.03 else today - timedelta(days=40),
                team_id=teams[index // CHILDREN_PER_TEAM].id,
                primary_agency_id=agency.id,
                case_plan_goal=None,
                goal_set_date=None,
                permanency_unlikely=False,
                last_review_date=None,
            )
        )
        # One to three goals over the five years; none at all for a few children.
        if rng.random() < 0.01:
            continue
        goal_count = rng.randint(1, 3)
        set_dates = sorted(
            history_start + timedelta(days=rng.randint(0, 365 * YEARS - 30))
            for _ in range(goal_count)
        )
        set_dates[0] = history_start + timedelta(days=rng.randint(0, 60))
        last_review = None
        for number, date_set in enumerate(set_dates):
            goal_id = uuid.uuid4()
            goal = rng.choice(GOALS)
            unlikely = rng.random() < 0.2
            goal_rows.append(
                dict(
                    id=goal_id,
                    child_id=child_id,
                    goal=goal,
                    date_set=date_set,
                    permanency_unlikely=unlikely,
                    source="app",
                    # In list order, so the last goal is the one in force on equal dates too.
                    recorded_at=recorded + timedelta(microseconds=len(goal_rows)),
                )
            )
            last_review = None
            until = set_dates[number + 1] if number + 1 < goal_count else today
            review = add_months(date_set, review_interval_months(goal, unlikely))
            while review < until - timedelta(days=rng.randint(0, 60)):
                review_rows.append(
                    dict(
                        id=uuid.uuid4(),
                        child_id=child_id,
                        goal_id=goal_id,
                        review_date=review,
                        progress="on_track",
                        psp_package_reviewed=False,
                        recommendation="Continue the plan.",
                        source="app",
                    )
                )
                last_review = review
                review = add_months(review, review_interval_months(goal, unlikely))
            if goal != "long_term_care" and rng.random() < 0.05:
                extension_rows.append(
                    dict(
                        id=uuid.uuid4(),
                        child_id=child_id,
                        goal_id=goal_id,
                        applied_date=min(today, add_months(date_set, 22)),
                        reason="Exceptional circumstances.",
                        source="app",
                    )
                )
        # The mirror of the goal in force today: the last goal set and its last review.
        child_rows[-1].update(
            case_plan_goal=goal,
            goal_set_date=date_set,
            permanency_unlikely=unlikely,
            last_review_date=last_review,
        )
        current_goals.append({"child": child_id, "goal": goal_id})
        consultation_day = history_start + timedelta(days=rng.randint(0, 120))
        while consultation_day <= today:
            consultation_rows.append(
                dict(
                    id=uuid.uuid4(),
                    child_id=child_id,
                    consultation_date=consultation_day,
                    kind=rng.choice(("formal", "informal")),
                    trigger="significant_change",
                    recommendations="Keep going.",
                    source="app",
                )
            )
            consultation_day += timedelta(days=rng.randint(90, 240))
        if rng.random() < 0.02:
            request_rows.append(
                dict(
                    id=uuid.uuid4(),
                    child_id=child_id,
                    requested_by_id=practitioner.id,
                    reason="Please consult.",
                )
            )
    for model, rows in (
        (Child, child_rows),
        (CasePlanGoalRecord, goal_rows),
        (GoalReview, review_rows),
        (GoalExtension, extension_rows),
        (PermanencyConsultation, consultation_rows),
        (ConsultationRequest, request_rows),
    ):
        for start in range(0, len(rows), 5000):
            session.execute(insert(model), rows[start : start + 5000])
    children_table = Child.__table__
    session.connection().execute(
        update(children_table)
        .where(children_table.c.id == bindparam("child"))
        .values(current_goal_id=bindparam("goal")),
        current_goals,
    )
    return {
        "children": len(child_rows),
        "goals": len(goal_rows),
        "reviews": len(review_rows),
        "consultations": len(consultation_rows),
        "requests": len(request_rows),
    }


@contextmanager
def _database(kind: str, keep: bool, reuse: str | None):
    """Yields (url, seeded): a fresh database, dropped afterwards unless `keep`, or `reuse`."""
    if reuse:
        yield reuse, True
        return
    if not keep:
        with fresh_database(kind) as url:
            yield url, False
        return
    if kind != "postgresql":
        raise SystemExit("--keep is for PostgreSQL")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"fieldapp_bench_permanency_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    engine = build_engine(url)
    upgrade(engine)
    engine.dispose()
    print(f"kept database: --reuse '{url}'", flush=True)
    yield url, False


def _counts(session) -> dict:
    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model))

    return {
        "children": count(Child),
        "goals": count(CasePlanGoalRecord),
        "reviews": count(GoalReview),
        "consultations": count(PermanencyConsultation),
        "requests": count(ConsultationRequest),
    }


def measure(
    kind: str, children: int, runs: int, keep: bool = False, reuse: str | None = None
) -> dict:
    with _database(kind, keep, reuse) as (url, seeded):
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
            if seeded:
                counts = _counts(db.session)
                db.session.rollback()
            else:
                counts = seed(db.session, children, today)
                db.session.commit()
                with db.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                        text("VACUUM ANALYZE" if kind == "postgresql" else "ANALYZE")
                    )
            load_s = time.perf_counter() - started
            coordinator = db.session.scalar(
                select(User).where(User.email == "coordinator@bench.example")
            )
            children_select = scope.visible_children(coordinator)
            mirrored = permanency_rows(db.session, children_select, today, today=today)
            # The mirror (as at today) and the history (any other day) must agree.
            assert mirrored == permanency_rows(db.session, children_select, today)
            shown = len(mirrored)
            rows_ms = median_ms(
                lambda: permanency_rows(db.session, children_select, today, today=today), runs
            )
            db.session.rollback()
        client = app.test_client()
        client.post("/login", data={"email": "coordinator@bench.example", "password": PASSWORD})
        assert client.get("/permanency").status_code == 200
        page_ms = median_ms(lambda: client.get("/permanency"), runs)
        csv_ms = median_ms(lambda: client.get("/permanency.csv"), max(3, runs // 2))
        app.extensions["fieldapp_db"]["engine"].dispose()
    return counts | {
        "kind": kind,
        "shown": shown,
        "load_s": load_s,
        "page_ms": page_ms,
        "rows_ms": rows_ms,
        "csv_ms": csv_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--databases", default="postgresql")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    reuse = parser.add_mutually_exclusive_group()
    reuse.add_argument("--keep", action="store_true", help="keep the seeded database")
    reuse.add_argument("--reuse", metavar="URL", help="measure an already seeded database")
    args = parser.parse_args()
    if args.reuse and "," in args.databases:
        raise SystemExit("--reuse measures one database")
    results = []
    for kind in args.databases.split(","):
        result = measure(kind, args.children, args.runs, args.keep, args.reuse)
        results.append(result)
        print(
            f"{kind:<10} {result['children']:>6} children: page {result['page_ms']:.0f} ms, "
            f"rows {result['rows_ms']:.0f} ms, csv {result['csv_ms']:.0f} ms "
            f"(loaded in {result['load_s']:.0f} s)",
            flush=True,
        )
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, Python "
        f"{platform.python_version()}, {args.runs} runs each (median), "
        "`python -m bench.permanency --write`. Bar: page under "
        f"{BAR_MS} ms on PostgreSQL.",
        "",
        "| database | children (in care) | goals | reviews | consultations | page (ms) "
        "| rows query + rules (ms) | CSV, all rows (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['kind']} | {r['children']:,} ({r['shown']:,}) | {r['goals']:,} | "
            f"{r['reviews']:,} | {r['consultations']:,} | {r['page_ms']:.0f} | "
            f"{r['rows_ms']:.0f} | {r['csv_ms']:.0f} |"
        )
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section("permanency", report)


if __name__ == "__main__":
    main()
