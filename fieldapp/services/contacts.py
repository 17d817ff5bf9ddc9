"""Recording contacts, addenda, acknowledgements and NT return visits.

Rules and their sources:
- R1 qualifying contact and third parties: `004` § Contact with child.
- R2 return visits for interstate and boarding-school children: `004` § Contact with child.
- R5 participation, R6 the child's views: `004` § Participation in decision making.
- R7 Signs of Safety: `004` § Practice approach.
- R8 records are never overwritten: SPEC §3 R8 (drafts editable by their author only; a
  submitted contact is immutable; corrections are addenda).

The web form and (later) the sync endpoint both pass plain values keyed by the SPEC §4 field
names, so both paths apply the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..models import (
    Addendum,
    Child,
    Contact,
    ContactAction,
    ContactMode,
    ContactParticipant,
    ContactStatus,
    MadeBy,
    RecordSource,
    ReturnVisit,
    Role,
    User,
)
from ..models.base import new_uuid, utcnow
from . import record_fields as fields
from . import scope
from .audit import event_row, record_event
from .errors import Forbidden, ImmutableRecord, ValidationError
from .record_fields import ADDENDUM, CONTACT, PARTICIPANT

# The contact's fields, limits and choices are said once, in record_fields.
CONTACT_FIELDS = tuple(n for n, f in CONTACT.items() if f.kind not in (fields.ID, fields.ROWS))
FREE_TEXT_FIELDS = tuple(n for n in CONTACT_FIELDS if CONTACT[n].free_text)
MAX_PARTICIPANTS = CONTACT["participants"].max_rows
MAX_ACTIONS = CONTACT["actions"].max_rows
REQUIRED_CHOICES = tuple(  # never blank, even on a draft
    n for n, f in CONTACT.items() if f.kind == fields.CHOICE and f.required == "always"
)
_CHOICES = {n: f for n, f in CONTACT.items() if f.kind == fields.CHOICE}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_contact(
    values: dict[str, Any], child: Child, today: date, *, submitting: bool
) -> dict[str, list[str]]:
    """Field-named errors for a contact. A draft may be incomplete, but never wrong; a submitted
    contact must also be complete."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field, spec in _CHOICES.items():
        value = values.get(field)
        if field in REQUIRED_CHOICES and field in values and _blank(value):
            add(field, "Choose one of the options.")
        elif not _blank(value) and value not in spec.values:
            add(field, f"{value!r} is not a valid choice.")

    contact_date = values.get("contact_date")
    if contact_date is None:
        if submitting:
            add("contact_date", "Enter the date of the contact.")
    else:
        if contact_date > today:
            add("contact_date", "The date of contact cannot be in the future.")
        if contact_date < child.care_start_date:
            add(
                "contact_date",
                "The date of contact cannot be before the child came into care "
                f"({child.care_start_date.strftime('%d/%m/%Y')}).",
            )

    scale = CONTACT["safety_scale"]
    if fields.out_of_range(scale, values.get("safety_scale")):
        add(
            "safety_scale",
            f"The safety scale must be a whole number from {scale.min} to {scale.max}.",
        )

    duration = CONTACT["duration_minutes"]
    if fields.out_of_range(duration, values.get("duration_minutes")):
        add(
            "duration_minutes",
            f"Duration must be between {duration.min} and {duration.max} minutes.",
        )

    if values.get("seen_alone") and not values.get("child_seen"):
        add("seen_alone", "A child can only be seen alone if the child was seen.")

    for index, participant in enumerate(values.get("participants") or []):
        role = participant.get("role")
        if not isinstance(role, str) or role not in PARTICIPANT["role"].values:
            add(f"participants-{index}-role", f"Participant {index + 1}: choose a role.")
    if len(values.get("participants") or []) > MAX_PARTICIPANTS:
        add("participants", f"At most {MAX_PARTICIPANTS} participants.")

    for index, action in enumerate(values.get("actions") or []):
        if _blank(action.get("description")):
            add(f"actions-{index}-description", f"Action {index + 1}: describe what will happen.")
    if len(values.get("actions") or []) > MAX_ACTIONS:
        add("actions", f"At most {MAX_ACTIONS} actions.")

    if submitting:
        if values.get("made_by") == MadeBy.third_party.value:
            if _blank(values.get("third_party_name")):
                add("third_party_name", "Enter the name of the third party who made the contact.")
            if _blank(values.get("third_party_role")):
                add("third_party_role", "Enter the role of the third party who made the contact.")
        if values.get("mode") == ContactMode.face_to_face.value and _blank(
            values.get("child_views")
        ):
            if _blank(values.get("views_not_recorded_reason")):
                add(
                    "views_not_recorded_reason",
                    "Record the child's views in their own words, or give the reason they were "
                    "not recorded (for example an infant, or the child declined).",
                )
        if not _blank(values.get("child_views")) and _blank(values.get("views_method")):
            add("views_method", "Say how the child's views were gathered.")
    return errors


def _stored_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The contact columns these values set, as stored: text trimmed, blank text as null."""
    columns = {}
    for field in CONTACT_FIELDS:
        if field in values:
            value = values[field]
            if isinstance(value, str):
                value = value.strip() or None
            columns[field] = value
    return columns


def _participant_rows(participants: list[dict]) -> list[dict[str, Any]]:
    return [
        {
            "position": position,
            "role": p["role"],
            "name": (p.get("name") or "").strip() or None,
            "took_part_in_decisions": bool(p.get("took_part_in_decisions")),
            "views_and_wishes": (p.get("views_and_wishes") or "").strip() or None,
            "feedback": (p.get("feedback") or "").strip() or None,
            "concerns": (p.get("concerns") or "").strip() or None,
        }
        for position, p in enumerate(participants)
    ]


def _action_rows(actions: list[dict]) -> list[dict[str, Any]]:
    return [
        {
            "position": position,
            "description": a["description"].strip(),
            "responsible": (a.get("responsible") or "").strip() or None,
            "due_date": a.get("due_date"),
        }
        for position, a in enumerate(actions)
    ]


def _apply_values(contact: Contact, values: dict[str, Any]) -> None:
    for field, value in _stored_columns(values).items():
        setattr(contact, field, value)
    if contact.made_by != MadeBy.third_party.value:
        contact.third_party_name = None
        contact.third_party_role = None
    if "participants" in values:
        contact.participants = [
            ContactParticipant(**row) for row in _participant_rows(values["participants"])
        ]
    if "actions" in values:
        contact.actions = [ContactAction(**row) for row in _action_rows(values["actions"])]


def _column_default(column) -> Any:
    default = column.default
    return default.arg if default is not None and default.is_scalar else None


# A new contact's row before its values: every column, so rows of many contacts can be written
# in one statement (they must all name the same columns).
_NEW_CONTACT_ROW = {
    column.name: _column_default(column)
    for column in Contact.__table__.columns
    if column.name not in ("id", "created_at", "updated_at")
}


@dataclass
class NewContactRows:
    """A new contact as the rows that store it, for a caller that writes many contacts at once
    (a tablet's push): the same checks, values and audit events as `save_contact`."""

    contact: dict[str, Any]
    participants: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    audit: list[dict[str, Any]]


def new_contact_rows(
    user: User,
    child: Child,
    values: dict[str, Any],
    today: date,
    *,
    submit: bool,
    contact_id,
    now,
) -> NewContactRows:
    """Raises ValidationError or Forbidden as `save_contact` does; returns rows, writes nothing."""
    _check_can_record(user)
    errors = validate_contact(values, child, today, submitting=submit)
    if errors:
        raise ValidationError(errors)
    row = dict(_NEW_CONTACT_ROW)
    row.update(_stored_columns(values))
    if row["made_by"] != MadeBy.third_party.value:
        row["third_party_name"] = row["third_party_role"] = None
    row.update(
        id=contact_id,
        version=1,
        child_id=child.id,
        author_id=user.id,
        status=ContactStatus.submitted.value if submit else ContactStatus.draft.value,
        submitted_at=now if submit else None,
        created_at=now,
        updated_at=now,
    )
    detail = {"child_id": str(child.id)}
    # Each event stamped as it is made, as record_event does, so the audit log keeps the order
    # in which a batch's mutations were processed.
    audit = [
        event_row(
            user_id=user.id,
            action=action,
            object_type="contact",
            object_id=contact_id,
            detail=detail,
        )
        for action in (("create", "submit") if submit else ("create",))
    ]
    return NewContactRows(
        row,
        [
            row | {"id": new_uuid(), "contact_id": contact_id}
            for row in _participant_rows(values.get("participants") or [])
        ],
        [
            row | {"id": new_uuid(), "contact_id": contact_id}
            for row in _action_rows(values.get("actions") or [])
        ],
        audit,
    )


def _check_can_record(user: User) -> None:
    if user.role != Role.practitioner.value and user.role != Role.team_leader.value:
        raise Forbidden("Only practitioners and team leaders record contacts.")


def _check_can_edit(user: User, contact: Contact) -> None:
    if contact.is_submitted:
        raise ImmutableRecord(
            "This contact has been submitted and can no longer be edited. Add an addendum to "
            "correct or add to it."
        )
    if contact.author_id != user.id:
        raise Forbidden("Only the author of a draft can edit it.")


def save_contact(
    session: Session,
    user: User,
    child: Child,
    values: dict[str, Any],
    today: date,
    *,
    submit: bool,
    contact: Contact | None = None,
    contact_id=None,
) -> Contact:
    """Creates or updates a draft, and submits it when `submit` is true.

    Raises ValidationError with field-named errors (nothing is written) or ImmutableRecord for a
    submitted contact.
    """
    _check_can_record(user)
    if contact is not None:
        _check_can_edit(user, contact)
    errors = validate_contact(values, child, today, submitting=submit)
    if errors:
        raise ValidationError(errors)
    created = contact is None
    if contact is None:
        # The id is set now, not at flush, so nothing here needs a round trip to the database
        # (a sync batch flushes once for all its mutations).
        contact = Contact(
            id=contact_id or new_uuid(),
            version=1,
            child=child,
            author_id=user.id,
            status=ContactStatus.draft.value,
        )
        session.add(contact)
    else:
        contact.version += 1
    _apply_values(contact, values)
    if submit:
        contact.status = ContactStatus.submitted.value
        contact.submitted_at = utcnow()
    if created:
        record_event(
            session,
            user_id=user.id,
            action="create",
            object_type="contact",
            object_id=contact.id,
            detail={"child_id": str(child.id)},
        )
    if submit:
        record_event(
            session,
            user_id=user.id,
            action="submit",
            object_type="contact",
            object_id=contact.id,
            detail={"child_id": str(child.id)},
        )
    return contact


def delete_draft(session: Session, user: User, contact: Contact) -> None:
    """R8: nothing is hard-deleted except a draft, by its author."""
    _check_can_edit(user, contact)
    record_event(
        session,
        user_id=user.id,
        action="delete_draft",
        object_type="contact",
        object_id=contact.id,
        detail={"child_id": str(contact.child_id)},
    )
    session.delete(contact)
    session.flush()


def add_addendum(
    session: Session, user: User, contact: Contact, reason: str, text: str, addendum_id=None
) -> Addendum:
    """R8: corrections to a submitted contact are addenda (author, time, reason, text)."""
    errors: dict[str, list[str]] = {}
    if not contact.is_submitted:
        errors["contact_id"] = [
            "A draft can be edited directly; addenda are for submitted contacts."
        ]
    if _blank(reason):
        errors["reason"] = ["Give the reason for the addendum."]
    if _blank(text):
        errors["text"] = ["Enter the text of the addendum."]
    for name, value in (("reason", reason), ("text", text)):
        if message := fields.too_long(ADDENDUM[name], value):
            errors.setdefault(name, []).append(message)
    if user.role not in (Role.practitioner.value, Role.team_leader.value):
        raise Forbidden("Only practitioners and team leaders add addenda.")
    if errors:
        raise ValidationError(errors)
    addendum = Addendum(
        id=addendum_id or new_uuid(),
        version=1,
        contact=contact,
        author_id=user.id,
        reason=reason.strip(),
        text=text.strip(),
    )
    session.add(addendum)
    record_event(
        session,
        user_id=user.id,
        action="addendum",
        object_type="contact",
        object_id=contact.id,
        detail={"addendum_id": str(addendum.id)},
    )
    return addendum


def acknowledge_contact(session: Session, user: User, contact: Contact) -> None:
    """A team leader confirms they have read a submitted contact."""
    if user.role != Role.team_leader.value:
        raise Forbidden("Only team leaders acknowledge contacts.")
    if not contact.is_submitted:
        raise ValidationError({"contact_id": ["Only submitted contacts can be acknowledged."]})
    if contact.author_id == user.id:
        raise ValidationError(
            {"contact_id": ["A contact you recorded is acknowledged by another team leader."]}
        )
    if contact.source == RecordSource.imported.value:
        raise ValidationError(
            {
                "contact_id": [
                    "An imported contact has nothing to read, so it needs no acknowledgement."
                ]
            }
        )
    if contact.acknowledged_at is None:
        contact.acknowledged_by_id = user.id
        contact.acknowledged_at = utcnow()
        record_event(
            session,
            user_id=user.id,
            action="acknowledge",
            object_type="contact",
            object_id=contact.id,
        )


def acknowledgement_refusal(exc: Forbidden | ValidationError) -> str:
    """Why `acknowledge_contact` refused, in the words the team leader sees."""
    return exc.errors["contact_id"][0] if isinstance(exc, ValidationError) else str(exc)


@dataclass(frozen=True)
class AcknowledgementQueue:
    contacts: list[Contact]  # one page, oldest submission first
    total: int


def acknowledgement_queue(
    session: Session, leader: User, *, limit: int = 100, offset: int = 0
) -> AcknowledgementQueue:
    """The submitted contacts of the leader's teams not yet acknowledged, the longest waiting
    first (`004` § Contact with child: the team leader reads and signs off each contact)."""
    waiting = scope.visible_contacts(leader).where(
        Contact.status == "submitted",
        Contact.acknowledged_at.is_(None),
        Contact.source == RecordSource.app.value,  # an imported one has nothing to read
        Contact.author_id != leader.id,  # another leader acknowledges what this one recorded
    )
    total = session.scalar(select(func.count()).select_from(waiting.subquery()))
    contacts = session.scalars(
        waiting.options(joinedload(Contact.child), joinedload(Contact.author))
        .order_by(Contact.submitted_at, Contact.contact_date, Contact.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return AcknowledgementQueue(list(contacts), total or 0)


def record_return_visit(
    session: Session, user: User, child: Child, values: dict[str, Any], visit_id=None
) -> ReturnVisit:
    """R2 (`004` § Contact with child): return visits to the NT of a child who lives or attends
    boarding school interstate, with the arrangement documented in My Care Plan."""
    errors: dict[str, list[str]] = {}
    arrival, departure = values.get("arrival_date"), values.get("departure_date")
    if not child.is_interstate:
        errors["child_id"] = [
            "Return visits are recorded for children who live or board interstate."
        ]
    if arrival is None:
        errors["arrival_date"] = ["Enter the arrival date."]
    if departure is None:
        errors["departure_date"] = ["Enter the departure date."]
    if arrival and departure and departure < arrival:
        errors["departure_date"] = ["The departure date cannot be before the arrival date."]
    if user.role not in (Role.practitioner.value, Role.team_leader.value):
        raise Forbidden("Only practitioners and team leaders record return visits.")
    if errors:
        raise ValidationError(errors)
    visit = ReturnVisit(
        id=visit_id or new_uuid(),
        version=1,
        child=child,
        arrival_date=arrival,
        departure_date=departure,
        arrangement_note=(values.get("arrangement_note") or "").strip() or None,
        created_by_id=user.id,
    )
    session.add(visit)
    record_event(
        session,
        user_id=user.id,
        action="create",
        object_type="return_visit",
        object_id=visit.id,
        detail={"child_id": str(child.id)},
    )
    return visit
