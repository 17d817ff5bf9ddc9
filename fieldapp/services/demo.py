"""A small, realistic demo organisation for trying the app (SPEC §6 `seed-demo`).

Deterministic: the same seed gives the same children and history. Names are invented.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Child, Contact, ContactAction, ContactParticipant, ReturnVisit, User
from ..models.base import utcnow
from .accounts import create_team, create_user
from .allocation import allocate

DEMO_DOMAIN = "demo.fieldapp.example"
DEFAULT_PASSWORD = "fieldapp-demo-2026"

USERS = [
    ("jo.nguyen", "Jo Nguyen", "practitioner", ["Darwin North"]),
    ("sam.wilson", "Sam Wilson", "practitioner", ["Darwin North"]),
    ("ari.thompson", "Ari Thompson", "practitioner", ["Alice Springs"]),
    ("lee.martin", "Lee Martin", "team_leader", ["Darwin North"]),
    ("casey.brown", "Casey Brown", "coordinator", ["Darwin North"]),
    ("alex.admin", "Alex Admin", "admin", []),
]
GIVEN = [
    "Mia",
    "Jayden",
    "Aaliyah",
    "Noah",
    "Kirra",
    "Liam",
    "Tahlia",
    "Cooper",
    "Jarrah",
    "Ruby",
    "Marley",
    "Isla",
    "Kai",
    "Chloe",
    "Bailey",
    "Zara",
    "Tyson",
    "Lily",
    "Eli",
    "Sienna",
    "Nathaniel",
    "Ava",
    "Darcy",
    "Jedda",
    "Oscar",
    "Matilda",
    "Lachlan",
    "Indi",
    "Harvey",
    "Skye",
    "Kobe",
    "Maya",
]
FAMILY = [
    "Anderson",
    "Baker",
    "Campbell",
    "Davies",
    "Edwards",
    "Fraser",
    "Green",
    "Harris",
    "Irving",
    "Jackson",
    "Kelly",
    "Lewis",
    "Mitchell",
    "Nelson",
    "O'Brien",
    "Parker",
    "Quinn",
    "Roberts",
    "Stewart",
    "Turner",
    "Walker",
    "Young",
]
VIEWS = [
    "I like living with Aunty. I want to see Mum more at the weekends.",
    "School is okay. I don't like the bus. I want to play footy on Saturdays.",
    "I miss my brother. Can he come for my birthday?",
    "Everything is good. I got a new bike.",
    "I don't want to talk today.",
    "I want to go back to community for the holidays and see Nanna.",
]
WORRIES = [
    "Missed two family time visits this month.",
    "Carer reports trouble sleeping.",
    "School attendance has dropped to 70%.",
    "No current worries raised.",
]
WORKING = [
    "Strong bond with carer; attending school every day.",
    "Regular contact with siblings.",
    "Engaged with cultural activities through the land council.",
    "Health checks up to date.",
]
NEEDS = [
    "Arrange family time with Mum fortnightly.",
    "Refer to speech pathology.",
    "Plan return visit with family in the school holidays.",
    "Follow up with school counsellor.",
]


def is_seeded(session: Session) -> bool:
    return (
        session.scalar(
            select(func.count()).select_from(User).where(User.email.like(f"%@{DEMO_DOMAIN}"))
        )
        > 0
    )


def holds_real_data(session: Session) -> bool:
    real_users = session.scalar(
        select(func.count()).select_from(User).where(User.email.not_like(f"%@{DEMO_DOMAIN}"))
    )
    return real_users > 0 or (
        session.scalar(select(func.count()).select_from(Child)) > 0 and not is_seeded(session)
    )


def seed_demo(
    session: Session, today: date, password: str = DEFAULT_PASSWORD, seed: int = 2026
) -> dict[str, str]:
    """Creates the demo organisation and returns {email: role}. The caller checks
    `holds_real_data` first and commits."""
    rng = random.Random(seed)
    darwin = create_team(session, "Darwin North", "Territory Families", "government")
    alice = create_team(session, "Alice Springs", "Territory Families", "government")
    from .accounts import get_or_create_agency

    ngo = get_or_create_agency(session, "Top End Kids Care", "ngo")
    users: dict[str, User] = {}
    for handle, name, role, teams in USERS:
        users[handle] = create_user(
            session,
            email=f"{handle}@{DEMO_DOMAIN}",
            name=name,
            role=role,
            password=password,
            team_names=teams,
            agency_name="Territory Families" if role == "admin" else None,
        )
    holders = (
        [(users["jo.nguyen"], darwin)] * 12
        + [(users["sam.wilson"], darwin)] * 12
        + [(users["ari.thompson"], alice)] * 6
    )
    for index, (practitioner, team) in enumerate(holders):
        child = _child(rng, index, team, ngo if index % 7 == 3 else team.agency, today)
        session.add(child)
        session.flush()
        allocate(session, child, practitioner, child.care_start_date)
        child.version = 1
        _history(session, rng, child, practitioner, today, index)
    session.flush()
    return {user.email: user.role for user in users.values()}


def _child(rng: random.Random, index: int, team, agency, today: date) -> Child:
    born = today - timedelta(days=rng.randint(1 * 365, 17 * 365))
    care_start = max(born + timedelta(days=30), today - timedelta(days=rng.randint(60, 4 * 365)))
    residence = "nt"
    if index in (4, 17):
        residence = "interstate"
    elif index in (9, 21):
        residence = "boarding_interstate"
    status = rng.choice(
        [
            "aboriginal",
            "aboriginal",
            "torres_strait_islander",
            "both",
            "neither",
            "neither",
            "unknown",
        ]
    )
    goal = rng.choice(
        ["family_preservation", "restoration", "guardianship", "long_term_care", None]
    )
    return Child(
        external_id=f"DEMO-{1000 + index}",
        given_name=GIVEN[index % len(GIVEN)],
        family_name=FAMILY[(index * 7) % len(FAMILY)],
        preferred_name="Jay" if index == 1 else None,
        date_of_birth=born,
        aboriginal_status=status,
        residence=residence,
        care_start_date=care_start,
        care_end_date=today - timedelta(days=10) if index == 29 else None,
        youth_justice_status="at_risk" if index in (6, 13) else "none",
        team=team,
        primary_agency=agency,
        case_plan_goal=goal,
        goal_set_date=care_start + timedelta(days=30) if goal else None,
        permanency_unlikely=index % 5 == 0,
    )


def _history(
    session: Session, rng: random.Random, child: Child, practitioner: User, today: date, index: int
) -> None:
    """Contacts every five to seven weeks since care start; a few children fall behind."""
    day = child.care_start_date + timedelta(days=rng.randint(5, 20))
    # Every fifth child's last contact is long ago, so the demo shows overdue children.
    stop = today - timedelta(days=60 if index % 5 == 2 else rng.randint(0, 30))
    while day <= stop:
        mode = rng.choices(["face_to_face", "phone", "video"], [8, 1, 1])[0]
        third_party = mode == "face_to_face" and rng.random() < 0.1
        views = rng.choice(VIEWS)
        contact = Contact(
            child=child,
            author_id=practitioner.id,
            status="submitted",
            contact_date=day,
            start_time=f"{rng.randint(9, 16):02d}:{rng.choice(['00', '15', '30', '45'])}",
            duration_minutes=rng.choice([30, 45, 60, 90]),
            mode=mode,
            made_by="third_party" if third_party else "practitioner",
            third_party_name="Pat Daly" if third_party else None,
            third_party_role="Interstate caseworker" if third_party else None,
            child_seen=mode != "phone",
            seen_alone=mode == "face_to_face" and rng.random() < 0.6,
            location="placement" if mode == "face_to_face" else None,
            child_views=views,
            views_method="conversation",
            language_used="English",
            interpreter_used=False,
            worries=rng.choice(WORRIES),
            working_well=rng.choice(WORKING),
            needs_to_happen=rng.choice(NEEDS),
            safety_scale=rng.randint(4, 9),
            submitted_at=utcnow(),
        )
        contact.participants = [
            ContactParticipant(
                position=0,
                role="child",
                name=child.display_name,
                took_part_in_decisions=True,
                views_and_wishes=views,
            ),
            ContactParticipant(
                position=1,
                role="carer",
                name="Carer",
                took_part_in_decisions=True,
                feedback="Things are settling down at home.",
            ),
        ]
        if child.is_first_nations and rng.random() < 0.5:
            contact.participants.append(
                ContactParticipant(
                    position=2,
                    role="aboriginal_community_worker",
                    name="Rosie Munkara",
                    took_part_in_decisions=True,
                    views_and_wishes="Keep connection to country strong.",
                )
            )
        contact.actions = [
            ContactAction(
                position=0,
                description=rng.choice(NEEDS),
                responsible=practitioner.name,
                due_date=day + timedelta(days=28),
            )
        ]
        session.add(contact)
        day += timedelta(days=rng.randint(35, 49))
    if child.is_interstate:
        arrival = today - timedelta(days=rng.randint(20, 90))
        session.add(
            ReturnVisit(
                child=child,
                arrival_date=arrival,
                departure_date=arrival + timedelta(days=10),
                arrangement_note="School holidays with family; documented in My Care Plan.",
                created_by_id=practitioner.id,
            )
        )
        upcoming = today + timedelta(days=rng.randint(5, 40))
        session.add(
            ReturnVisit(
                child=child,
                arrival_date=upcoming,
                departure_date=upcoming + timedelta(days=7),
                arrangement_note="Christmas visit; contact planned for day two.",
                created_by_id=practitioner.id,
            )
        )
