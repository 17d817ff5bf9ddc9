"""An admin's work on accounts (issue 13): change a user's name, role and teams; deactivate and
reactivate; unlock; set a temporary password that must be changed at the next sign-in.

Every change is audited here, as made by the admin, from the address the request came from. The
last active admin can be neither deactivated nor made another role, by anyone, themselves
included: the organisation would be left with no one who can manage accounts. The caller
commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Role, User
from ..models.base import utcnow
from . import passwords
from .accounts import account_problems, end_user_sessions, hash_password
from .audit import record_event
from .devices import device_rows
from .errors import ValidationError

ROLE_LABELS = {
    Role.practitioner.value: "Practitioner",
    Role.team_leader.value: "Team leader",
    Role.coordinator.value: "Permanency coordinator",
    Role.admin.value: "Admin",
}


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from where (for the audit trail)."""

    user: User
    ip: str | None = None


def find_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def is_locked(user: User, now: datetime | None = None) -> bool:
    if user.locked_until is None:
        return False
    until = user.locked_until if user.locked_until.tzinfo else user.locked_until.replace(tzinfo=UTC)
    return until > (now or utcnow())


def last_admin_problem(session: Session, actor: User, user: User) -> str | None:
    """Why `user` may not stop being an active admin, or None when they may. The active admins'
    rows are locked until the caller commits (on PostgreSQL; SQLite runs one writer at a time),
    so two admins cannot each deactivate the other and leave none."""
    if user.role != Role.admin.value or not user.active:
        return None
    active_admins = select(User.id).where(User.role == Role.admin.value, User.active.is_(True))
    admins = session.scalars(active_admins.with_for_update()).all()
    if any(admin_id != user.id for admin_id in admins):
        return None
    who = "You are" if user.id == actor.id else f"{user.name} is"
    return (
        f"{who} the last active admin, so the organisation would have no one to manage "
        "accounts. Make another user an admin first."
    )


def update_user(
    session: Session,
    actor: Actor,
    user: User,
    *,
    name: str,
    role: str,
    team_names: list[str],
) -> dict[str, list]:
    """Changes the user's name, role and teams. Practitioners and team leaders need a team;
    a coordinator needs an agency (their team's, or the one they have). Returns what changed,
    as {field: [before, after]} (empty when nothing did); a change is audited as `update`."""
    errors, teams = account_problems(
        session, name=name, role=role, team_names=team_names, teams_field="teams"
    )
    name = name.strip()
    agency = teams[0].agency if teams else user.agency
    if role == Role.coordinator.value and agency is None:
        errors.setdefault("teams", []).append("A coordinator needs a team, for their agency.")
    if role != user.role and "role" not in errors:
        problem = last_admin_problem(session, actor.user, user)
        if problem:
            errors["role"] = [problem]
    if errors:
        raise ValidationError(errors)

    changes: dict[str, list] = {}
    if name != user.name:
        changes["name"] = [user.name, name]
    if role != user.role:
        changes["role"] = [user.role, role]
    before = sorted(team.name for team in user.teams)
    after = sorted(team.name for team in teams)
    if before != after:
        changes["teams"] = [before, after]
    if not changes:
        return changes
    user.name, user.role, user.teams, user.agency = name, role, teams, agency
    _audit(session, actor, "update", user, {"changes": changes})
    session.flush()
    return changes


def deactivate_user(session: Session, actor: Actor, user: User) -> bool:
    """Ends every session of the user at once and refuses their sign-in until reactivated.
    Their records and history stay. False when the account was already deactivated."""
    if not user.active:
        return False
    problem = last_admin_problem(session, actor.user, user)
    if problem:
        raise ValidationError({"account": [problem]})
    rows = device_rows(session, user_id=user.id)
    out_of_touch = sum(row.out_of_touch for row in rows)
    reporting_unsent = sum(row.unsent_at_risk > 0 for row in rows)
    user.active = False
    end_user_sessions(session, user.id)
    detail = {
        key: count
        for key, count in (
            ("tablets_not_synced_for_a_day", out_of_touch),
            ("tablets_with_changes_not_sent", reporting_unsent),
        )
        if count
    } or None
    _audit(session, actor, "deactivate", user, detail)
    return True


def reactivate_user(session: Session, actor: Actor, user: User) -> bool:
    """Lets the user sign in again. False when the account was already active."""
    if user.active:
        return False
    user.active = True
    _audit(session, actor, "reactivate", user)
    return True


def unlock_user(session: Session, actor: Actor, user: User) -> bool:
    """Clears the failed sign-ins and any lock they caused. False when there was nothing to
    clear."""
    if not is_locked(user) and not user.failed_logins:
        return False
    detail = {"failed_logins": user.failed_logins}
    user.failed_logins, user.locked_until = 0, None
    _audit(session, actor, "unlock", user, detail)
    return True


def set_temporary_password(session: Session, actor: Actor, user: User, password: str) -> bool:
    """Sets a password the user must change at their next sign-in (checked against the password
    policy like any other), signs them out everywhere and unlocks the account (someone locked
    out is who needs one). Returns whether the account was locked. The password itself is
    never audited."""
    passwords.check_password(password, email=user.email, name=user.name)
    was_locked = is_locked(user)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    end_user_sessions(session, user.id)
    _audit(session, actor, "temporary_password", user, {"unlocked": True} if was_locked else None)
    return was_locked


def _audit(
    session: Session, actor: Actor, action: str, user: User, detail: dict | None = None
) -> None:
    record_event(
        session,
        user_id=actor.user.id,
        action=action,
        object_type="user",
        object_id=user.id,
        ip=actor.ip,
        detail=detail,
    )
