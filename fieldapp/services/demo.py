"""A small, realistic demo organisation for trying the app (SPEC §6 `seed-demo`).

Deterministic: the same seed and `today` give the same children and history. Names are invented.
Every child in care has a permanency history (R3, R4, R10, R11, R12): goals with reviews (some
overdue), a goal set three years ago past its two-year timeframe with an extension application,
consultations with follow-up actions and an open request, cultural consultations (one before an
Aboriginal child's adoption goal), transfers to the NGO with their basis, and a Youth Justice
collaboration.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    ConsultationAction,
    ConsultationRequest,
    Contact,
    ContactAction,
    ContactParticipant,
    CulturalConsultation,
    GoalExtension,
    GoalReview,
    PermanencyConsultation,
    ReturnVisit,
    User,
    YouthJusticeRecord,
)
from ..models.base import utcnow
from . import permanency as rules
from .accounts import create_team, create_user
from .allocation import allocate
from .permanency_records import refresh_permanency_mirror

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
        ngo_held = index % 7 == 3 or index in (14, 20)
        child = _child(rng, index, team, ngo if ngo_held else team.agency, today)
        session.add(child)
        session.flush()
        allocate(session, child, practitioner, child.care_start_date)
        child.version = 1
        # Darwin North's leader has read and acknowledged the contacts of all but the last three
        # weeks; Alice Springs has no team leader in the demo.
        acknowledger = users["lee.martin"] if team is darwin else None
        _history(session, rng, child, practitioner, today, index, acknowledger)
        if child.in_care:
            _permanency(session, child, index, practitioner, users, today)
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
    if index in ADOPTION_AFTER_CULTURAL + CULTURAL_ONLY:
        status = "aboriginal"
    if index == PAST_TWO_YEARS:  # in care since early three years ago: its goal dates from then
        care_start = date(today.year - 3, 1, 20)
        born = min(born, care_start - timedelta(days=6 * 365))
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
        # The goal history (_permanency) sets the goal; this is the one it starts from.
        case_plan_goal=goal or "restoration",
        permanency_unlikely=index % 5 == 0,
    )


def _history(
    session: Session,
    rng: random.Random,
    child: Child,
    practitioner: User,
    today: date,
    index: int,
    acknowledger: User | None = None,
) -> None:
    """Contacts every five to seven weeks since care start; a few children fall behind. Each is
    submitted the evening of its day; `acknowledger` (the team leader) has acknowledged those
    more than three weeks old, so the leader's queue holds the recent ones, as in practice."""
    now = utcnow()
    acknowledged_before = today - timedelta(days=21)
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
            submitted_at=min(now, datetime.combine(day, time(8), tzinfo=UTC)),
        )
        if acknowledger is not None and day < acknowledged_before:
            contact.acknowledged_by_id = acknowledger.id
            contact.acknowledged_at = contact.submitted_at + timedelta(days=2)
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


# ---------------------------------------------------------------- permanency (R3, R4, R10-R12)

PAST_TWO_YEARS = 10  # an NGO-held child whose goal was set three years ago (an extension applied)
ADOPTION_AFTER_CULTURAL = (7,)  # Aboriginal: adoption only after a cultural consultation
CULTURAL_ONLY = (8,)  # Aboriginal: cultural advice on kinship guardianship
YOUTH_JUSTICE = 6  # at risk, with a Youth Justice collaboration
OPEN_REQUEST = 3  # a practitioner's request for a consultation, not answered yet
SUPERSEDED = (1, 5, 12, 19, 26)  # an earlier goal was superseded
OVERDUE_REVIEWS = (2, 3, 12, 17, 22, 27)  # the last due review was not held
ALICE_LEADER = "Morgan Reid (Team Leader, Alice Springs)"

REASONS = {
    "family_preservation": "Mum has engaged with family support and the home is safe with a "
    "safety plan in place.",
    "restoration": "Dad has completed the parenting program; restoration planned over six "
    "months with overnight stays increasing.",
    "guardianship": "Restoration is not practicable: Mum's circumstances have not changed in "
    "two years. Nanna is a stable kinship carer and willing to take guardianship.",
    "adoption": "Preservation, restoration and guardianship are not practicable; the carers "
    "have cared for the child since infancy and support open adoption with family contact.",
    "long_term_care": "Restoration and guardianship have been assessed as not practicable; "
    "long-term care with the current carers keeps the child near siblings and school.",
}
RECOMMENDATIONS = {
    "on_track": "Continue the current plan; the goal remains in the child's best interests.",
    "progress_concerns": "Progress is slower than planned: increase family time support and "
    "review again in three months.",
    "goal_change_recommended": "Consider a change of goal to guardianship with the kinship "
    "carer; book a formal permanency consultation.",
}


def _goal(session, child, goal, date_set, unlikely, decided_by, reason=None, recommendation=None):
    record = CasePlanGoalRecord(
        child_id=child.id,
        goal=goal,
        date_set=date_set,
        permanency_unlikely=unlikely,
        reason=reason or REASONS[goal],
        coordinator_recommendation=recommendation,
        decided_by_id=decided_by.id if decided_by else None,
        decided_by_name=None if decided_by else ALICE_LEADER,
        recorded_by_id=decided_by.id if decided_by else None,
    )
    session.add(record)
    session.flush()
    return record


def _reviews(session, child, goal, until, index, coordinator, skip_last: bool) -> None:
    """R3: reviews at (or a few days before) each due date up to `until`; with `skip_last`,
    the last one due is not held, so the child's review is overdue."""
    last = None
    number = 0
    while True:
        due = rules.next_review_due(goal.goal, goal.date_set, goal.permanency_unlikely, last)
        if due > until:
            return
        following = rules.add_months(
            due, rules.review_interval_months(goal.goal, goal.permanency_unlikely)
        )
        if skip_last and following > until:
            return
        number += 1
        held = max(goal.date_set, due - timedelta(days=(index + number) % 9))
        progress = "progress_concerns" if (index + number) % 4 == 0 else "on_track"
        session.add(
            GoalReview(
                child_id=child.id,
                goal_id=goal.id,
                review_date=held,
                reviewed_by_id=coordinator.id,
                participants="Caseworker, carer, team leader; the child's views through the "
                "caseworker",
                progress=progress,
                psp_package_reviewed=number % 2 == 1,
                recommendation=RECOMMENDATIONS[progress],
                next_steps="Caseworker to update the case plan and share it with the carer.",
                recorded_by_id=coordinator.id,
            )
        )
        last = held


def _consultation(session, child, on, coordinator, trigger, kind="formal", actions=()):
    consultation = PermanencyConsultation(
        child_id=child.id,
        consultation_date=on,
        kind=kind,
        trigger=trigger,
        participants="Permanency coordinator, caseworker, team leader",
        discussion="Reviewed the child's placement stability, family time and the carer's "
        "capacity to provide permanency.",
        recommendations="Proceed with the proposed goal; keep family time fortnightly.",
        recorded_by_id=coordinator.id,
    )
    consultation.actions = [
        ConsultationAction(position=i, description=what, responsible=who, due_date=by)
        for i, (what, who, by) in enumerate(actions)
    ]
    session.add(consultation)


def _permanency(session, child, index, practitioner, users, today) -> None:
    """A goal history for a child in care (R3), with what the policy asks around it."""
    coordinator, leader = users["casey.brown"], users["lee.martin"]
    decider = leader if child.team.name == "Darwin North" else None
    ngo_held = child.primary_agency.kind == "ngo"
    unlikely = child.permanency_unlikely
    goal_name = child.case_plan_goal
    first_date = child.care_start_date + timedelta(days=30)

    if ngo_held:
        # R10 (`003` § OOHC): case management moved to the NGO on final orders.
        moved = child.care_start_date + timedelta(days=14)
        session.add(
            CaseResponsibilityTransfer(
                child_id=child.id,
                from_agency_id=child.team.agency_id,
                to_agency_id=child.primary_agency_id,
                transfer_date=moved,
                basis="final_orders_minister" if index % 2 else "other_long_term_orders",
                reason="Final orders made; case management transferred to the NGO under the "
                "out-of-home care arrangements.",
                recorded_by_id=leader.id,
            )
        )
        # R11: a goal change by an NGO follows a permanency consultation.
        _consultation(
            session,
            child,
            first_date - timedelta(days=10),
            coordinator,
            "goal_change_considered",
            actions=[
                ("Send the consultation summary to the NGO caseworker", coordinator.name,
                 first_date),
                ("Confirm family time arrangements with the carer", practitioner.name,
                 first_date + timedelta(days=21)),
            ],
        )  # fmt: skip

    if index == PAST_TWO_YEARS:
        set_on = date(today.year - 3, 3, 14)
        goal = _goal(session, child, "guardianship", set_on, unlikely, decider)
        _reviews(session, child, goal, today, index, coordinator, skip_last=False)
        deadline = rules.two_year_deadline(goal.goal, goal.date_set)
        session.add(
            GoalExtension(
                child_id=child.id,
                goal_id=goal.id,
                applied_date=deadline - timedelta(days=45),
                reason="Exceptional circumstances: the guardianship application was adjourned "
                "twice by the Court while the paternal family's assessment was completed.",
                decision="approved",
                decision_date=deadline - timedelta(days=20),
                recorded_by_id=coordinator.id,
            )
        )
    elif index in ADOPTION_AFTER_CULTURAL:
        earlier = _goal(session, child, "guardianship", first_date, unlikely, decider)
        consulted = max(first_date + timedelta(days=1), today - timedelta(days=75))
        _reviews(session, child, earlier, consulted, index, coordinator, skip_last=False)
        session.add(
            CulturalConsultation(
                child_id=child.id,
                consultation_date=consulted,
                consultant_kind="group_supervision",
                consultant_name="Aunty June Wanambi (Aboriginal Practice Advisor)",
                advice="Group Supervision with the Aboriginal consultant supports open adoption "
                "by the long-term carers only with a cultural plan: regular return to country, "
                "contact with their grandmother and language lessons.",
                recorded_by_id=leader.id,
            )
        )
        goal = _goal(session, child, "adoption", consulted + timedelta(days=14), unlikely, decider)
        _reviews(session, child, goal, today, index, coordinator, skip_last=False)
    else:
        # A goal older than about 20 months has usually been revisited: supersede it.
        revisited = first_date < today - timedelta(days=600)
        if revisited or (index in SUPERSEDED and first_date <= today - timedelta(days=230)):
            earlier_name = "restoration" if goal_name != "restoration" else "family_preservation"
            earlier = _goal(session, child, earlier_name, first_date, False, decider)
            first_date = max(
                first_date + timedelta(days=120), today - timedelta(days=90 + index * 37 % 420)
            )
            _reviews(session, child, earlier, first_date, index, coordinator, skip_last=False)
            if ngo_held:
                _consultation(session, child, first_date - timedelta(days=12), coordinator,
                              "goal_change_considered")  # fmt: skip
        goal = _goal(
            session,
            child,
            goal_name,
            first_date,
            unlikely,
            decider,
            recommendation="Coordinator supports the goal; review in line with the policy."
            if ngo_held
            else None,
        )
        _reviews(session, child, goal, today, index, coordinator, index in OVERDUE_REVIEWS)

    if index in CULTURAL_ONLY:
        session.add(
            CulturalConsultation(
                child_id=child.id,
                consultation_date=today - timedelta(days=40),
                consultant_kind="aboriginal_consultant",
                consultant_name="Uncle Ray Tipiloura",
                advice="Keep him with his grandmother's family on country; guardianship by kin "
                "is culturally the strongest plan.",
                recorded_by_id=leader.id,
            )
        )
    if index == 5:
        _consultation(
            session,
            child,
            today - timedelta(days=25),
            coordinator,
            "significant_change",
            kind="informal",
            actions=[
                ("Arrange a placement stability meeting", practitioner.name,
                 today + timedelta(days=7)),
                ("Refer to the school counsellor", practitioner.name, today - timedelta(days=3)),
            ],
        )  # fmt: skip
    if index == OPEN_REQUEST:
        session.add(
            ConsultationRequest(
                child_id=child.id,
                requested_by_id=practitioner.id,
                reason="The carer has asked about guardianship; the family wants to talk "
                "through what it would mean before the next review.",
            )
        )
    if index == YOUTH_JUSTICE:
        session.add(
            YouthJusticeRecord(
                child_id=child.id,
                status="at_risk",
                lead_practitioner=practitioner.name,
                officers=[
                    {"name": "Dana Cooper", "team": "community_support_programs",
                     "contact": "08 8999 1234"},
                    {"name": "Troy Maher", "team": "detention_operations", "contact": None},
                ],
                court_order_conditions="Good behaviour bond: attend school every day; home by "
                "8pm; no contact with co-accused.",
                plan_actions=[
                    {"description": "Enrol in the Back on Track program",
                     "due_date": (today + timedelta(days=14)).isoformat()},
                    {"description": "Weekly check-in with the Youth Justice officer at the "
                     "youth hub", "due_date": (today + timedelta(days=7)).isoformat()},
                ],
                recorded_by_id=practitioner.id,
            )
        )  # fmt: skip
    refresh_permanency_mirror(session, child, today)
