"""A large synthetic organisation for benchmarks (`flask seed-large`): bulk inserts in chunks,
so 10,000 children with 50 contacts each take seconds, not minutes."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ..models import Allocation, Child, Contact, Team, User
from ..models.base import utcnow
from .accounts import get_or_create_agency, hash_password

CHILDREN_PER_TEAM = 500
CHILDREN_PER_PRACTITIONER = 20
CHUNK = 5000


def _chunks(rows, size=CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def seed_large(
    session: Session,
    children: int,
    contacts_per_child: int,
    today: date,
    password: str,
    seed: int = 7,
    prefix: str = "large",
) -> User:
    """Creates teams, practitioners, one team leader for every team, children in care and their
    contact histories. Returns the team leader."""
    rng = random.Random(seed)
    agency = get_or_create_agency(session, f"{prefix.title()} Agency")
    team_count = max(1, -(-children // CHILDREN_PER_TEAM))
    teams = [Team(name=f"{prefix}-team-{i + 1}", agency=agency) for i in range(team_count)]
    session.add_all(teams)
    session.flush()
    password_hash = hash_password(password)
    leader = User(
        email=f"leader@{prefix}.example",
        name="Large Leader",
        role="team_leader",
        agency=agency,
        password_hash=password_hash,
        teams=teams,
    )
    practitioner_count = max(1, -(-children // CHILDREN_PER_PRACTITIONER))
    practitioners = [
        User(
            email=f"practitioner{i + 1}@{prefix}.example",
            name=f"Practitioner {i + 1}",
            role="practitioner",
            agency=agency,
            password_hash=password_hash,
            teams=[teams[(i * CHILDREN_PER_PRACTITIONER) // CHILDREN_PER_TEAM]],
        )
        for i in range(practitioner_count)
    ]
    session.add(leader)
    session.add_all(practitioners)
    session.flush()

    now = utcnow()
    child_rows, allocation_rows, contact_rows = [], [], []
    for index in range(children):
        child_id = uuid.uuid4()
        practitioner = practitioners[index // CHILDREN_PER_PRACTITIONER]
        team = teams[index // CHILDREN_PER_TEAM]
        # Histories long enough to hold the contacts at five-to-seven-week spacing.
        span = contacts_per_child * 49 + rng.randint(30, 400)
        care_start = today - timedelta(days=span)
        child_rows.append(
            dict(
                id=child_id,
                external_id=f"{prefix.upper()}-{index + 1}",
                given_name=f"Child{index + 1}",
                family_name=f"Family{index % 997}",
                date_of_birth=care_start - timedelta(days=rng.randint(30, 5000)),
                aboriginal_status=rng.choice(
                    ["aboriginal", "neither", "unknown", "torres_strait_islander"]
                ),
                residence="interstate" if index % 25 == 0 else "nt",
                care_start_date=care_start,
                youth_justice_status="none",
                team_id=team.id,
                practitioner_id=practitioner.id,
                primary_agency_id=agency.id,
                permanency_unlikely=False,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        allocation_rows.append(
            dict(
                child_id=child_id,
                practitioner_id=practitioner.id,
                start_date=care_start,
                created_at=now,
            )
        )
        day = care_start + timedelta(days=rng.randint(3, 30))
        for _ in range(contacts_per_child):
            mode = "face_to_face" if rng.random() < 0.85 else rng.choice(["phone", "video"])
            contact_rows.append(
                dict(
                    id=uuid.uuid4(),
                    child_id=child_id,
                    author_id=practitioner.id,
                    status="submitted",
                    contact_date=min(day, today),
                    mode=mode,
                    made_by="practitioner",
                    child_seen=mode != "phone",
                    seen_alone=False,
                    interpreter_used=False,
                    child_views="Synthetic benchmark contact.",
                    views_method="conversation",
                    version=1,
                    created_at=now,
                    updated_at=now,
                    submitted_at=now,
                )
            )
            day += timedelta(days=rng.randint(28, 56))
    for model, rows in (
        (Child, child_rows),
        (Allocation, allocation_rows),
        (Contact, contact_rows),
    ):
        bulk_insert(session, model.__table__, rows)
    return leader


def bulk_insert(session: Session, table, rows: list[dict]) -> None:
    """The fastest load each driver offers: COPY on PostgreSQL, a prepared executemany on SQLite.
    Values go through the columns' own bind processors, so they are stored exactly as the ORM
    would store them."""
    if not rows:
        return
    columns = [table.c[name] for name in rows[0]]
    connection = session.connection()
    dialect = connection.dialect
    raw = connection.connection.driver_connection
    if dialect.name == "postgresql":
        names = ", ".join(f'"{column.name}"' for column in columns)
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(tuple(row.values()))
        return
    processors = [column.type.bind_processor(dialect) for column in columns]
    placeholders = ", ".join("?" for _ in columns)
    statement = (
        f'INSERT INTO "{table.name}" ({", ".join(c.name for c in columns)}) VALUES ({placeholders})'
    )
    cursor = raw.cursor()
    for chunk in _chunks(rows):
        cursor.executemany(
            statement,
            [
                tuple(
                    p(v) if p and v is not None else v
                    for p, v in zip(processors, row.values(), strict=True)
                )
                for row in chunk
            ],
        )
    cursor.close()
