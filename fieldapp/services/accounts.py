"""Accounts: password hashing, sign-in with lockout, server-side sessions, users and teams.

SPEC §7 Security: argon2id hashes; an account is locked after 10 failed sign-ins; sessions are
invalidated on the server at sign-out and password change.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from ..models import Agency, Role, Team, User, UserSession
from ..models.base import utcnow
from . import passwords
from .audit import record_event
from .errors import ValidationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    """The argon2id hash of the password in its normal form (see `passwords.normalise`)."""
    return _hasher.hash(passwords.normalise(password))


def _verify(password_hash: str, password: str) -> bool:
    normal = passwords.normalise(password)
    # A hash made before passwords were normalised holds the password exactly as typed.
    return _matches(password_hash, normal) or (
        normal != password and _matches(password_hash, password)
    )


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 10
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInCheck:
    """What a sign-in attempt found. `user` is set only when the credentials are right and the
    account is usable. `account_locked` says the account named was locked, before this attempt
    or by it: for the audit trail only, never for the person signing in."""

    user: User | None
    account_locked: bool = False


def check_sign_in(
    session: Session,
    email: str,
    password: str,
    policy: LockoutPolicy = LockoutPolicy(),
    now: datetime | None = None,
    *,
    ip: str | None = None,
) -> SignInCheck:
    """Checks the credentials and counts a failure on the account (the caller must commit
    even when the check fails). The failure that locks the account writes a `lockout` audit
    event (from `ip`, the client's address, when known).

    The caller shows one generic error for every failure, so a locked, unknown or disabled
    account cannot be told apart from a wrong password.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        _verify(_DUMMY_HASH, password)
        return SignInCheck(None)
    if user.locked_until is not None:
        locked_until = _aware(user.locked_until)
        if now < locked_until:
            _verify(_DUMMY_HASH, password)
            return SignInCheck(None, account_locked=True)
        user.locked_until = None
        user.failed_logins = 0
    if not _verify(user.password_hash, password) or not user.active:
        # One atomic statement, so parallel guesses cannot overwrite each other's count.
        failures = session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        user.failed_logins = failures
        if failures < policy.max_failures:
            return SignInCheck(None)
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=now + policy.lockout)
            .execution_options(synchronize_session=False)
        )
        user.locked_until = now + policy.lockout
        record_event(
            session,
            user_id=None,
            action="lockout",
            object_type="user",
            object_id=user.id,
            ip=ip,
            detail={"failures": failures, "until": user.locked_until.isoformat()},
        )
        return SignInCheck(None, account_locked=True)
    user.failed_logins = 0
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignInCheck(user)


def authenticate(
    session: Session,
    email: str,
    password: str,
    policy: LockoutPolicy = LockoutPolicy(),
    now: datetime | None = None,
) -> User | None:
    """The user if the credentials are right and the account is usable, else None: `check_sign_in`
    for a caller that needs no more (the caller must commit even when this returns None)."""
    return check_sign_in(session, email, password, policy, now).user


# What RFC 5321 lets an address be at most; accounts are never longer.
MAX_EMAIL_LENGTH = 254


def is_email_address(text: str) -> bool:
    """The one rule for what passes as an email address: one `@`, something before it, a
    domain with a dot inside it after it, no white space, at most 254 characters. Accounts are
    made only with such addresses; a failed sign-in is audited with what was typed only if it
    is one (`sign_in_name_for_audit`)."""
    local, _, domain = text.partition("@")
    return (
        len(text) <= MAX_EMAIL_LENGTH
        and bool(local)
        and "@" not in domain
        and "." in domain
        and not domain.startswith(".")
        and not domain.endswith(".")
        and not any(character.isspace() for character in text)
    )


def sign_in_name_for_audit(typed: str, key: str | bytes) -> dict[str, str]:
    """What the audit trail keeps of the name typed at a failed sign-in. An email address
    (normalised as sign-in compares it) is kept as it is. Anything else may be a password typed
    into the email box, so only its HMAC-SHA-256 under `key` (the app's secret key) is kept:
    attempts with the same text can still be matched, but without the key no one can test
    guesses of a short password against it."""
    name = typed.strip().lower()
    if is_email_address(name):
        return {"email": name}
    key_bytes = key.encode() if isinstance(key, str) else key
    digest = hmac.new(
        key_bytes, b"fieldapp sign-in name\0" + name.encode("utf-8", "surrogatepass"), sha256
    )
    return {"email_hmac_sha256": digest.hexdigest()}


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a signed-in session lives (SPEC §7 Security; ASVS 4.0.3 V3.3): it ends after
    `idle` without a request and `lifetime` after sign-in, whatever it does in between."""

    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)


# A session's last request is written at most this often, so a busy tablet's syncs do not
# write a row each; the idle timeout is exact to within this much.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


def start_session(session: Session, user: User, now: datetime | None = None) -> UserSession:
    now = now or utcnow()
    user_session = UserSession(user_id=user.id, created_at=now, last_seen_at=now)
    session.add(user_session)
    session.flush()
    return user_session


@dataclass(frozen=True)
class SessionCheck:
    """The user a session cookie stands for (None when the session is over), and whether the
    check wrote to the database (the caller commits: a touch or an expiry must outlast a
    request that writes nothing else)."""

    user: User | None
    wrote: bool = False


def load_session_user(
    session: Session,
    session_id: str,
    policy: SessionPolicy = SessionPolicy(),
    now: datetime | None = None,
) -> SessionCheck:
    """The signed-in user of a live session. A session idle for longer than the policy allows,
    or older than its lifetime, is ended here (revoked, so it cannot come back)."""
    now = now or utcnow()
    row = session.scalar(  # the user with it: one round trip on every request, not two
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return SessionCheck(None)
    last_seen = _aware(row.last_seen_at)
    if now - last_seen > policy.idle or now - _aware(row.created_at) > policy.lifetime:
        row.revoked_at = now
        session.flush()
        return SessionCheck(None, wrote=True)
    wrote = False
    if now - last_seen >= SESSION_TOUCH_INTERVAL:
        row.last_seen_at = now
        session.flush()
        wrote = True
    row.user.current_session_id = row.id
    return SessionCheck(row.user, wrote)


def end_session(session: Session, session_id: str | None) -> None:
    if session_id:
        session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_user_sessions(session: Session, user_id: int) -> None:
    """Signs a user out everywhere: after a password change, or when a tablet of theirs is
    revoked (whoever holds it may hold the password too)."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


TEMPORARY_PASSWORD_KEPT = "Choose a new password of your own, not the temporary one you were given."


def change_password(session: Session, user: User, new_password: str) -> None:
    """Sets a new password and signs the user out everywhere. A temporary password from an
    admin (services/user_admin.py) is done with: the user made their own."""
    passwords.check_password(new_password, email=user.email, name=user.name)
    if user.must_change_password and _verify(user.password_hash, new_password):
        # The admin who set the temporary password knows it.
        raise ValidationError({"password": [TEMPORARY_PASSWORD_KEPT]})
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    end_user_sessions(session, user.id)


def get_or_create_agency(session: Session, name: str, kind: str = "government") -> Agency:
    agency = session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        if kind not in ("government", "ngo"):
            raise ValidationError({"agency_kind": ["Agency kind must be government or ngo."]})
        agency = Agency(name=name, kind=kind)
        session.add(agency)
        session.flush()
    return agency


def create_team(
    session: Session, name: str, agency_name: str, agency_kind: str = "government"
) -> Team:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Team name is required."]})
    if len(name) > 200 or len(agency_name.strip()) > 200:
        raise ValidationError({"name": ["Team and agency names are at most 200 characters."]})
    agency = get_or_create_agency(session, agency_name.strip(), agency_kind)
    existing = session.scalar(select(Team).where(Team.name == name, Team.agency_id == agency.id))
    if existing is not None:
        raise ValidationError({"name": [f"Team {name!r} already exists in {agency.name}."]})
    team = Team(name=name, agency=agency)
    session.add(team)
    session.flush()
    return team


def find_team(session: Session, name: str) -> Team | None:
    return session.scalar(select(Team).where(Team.name == name.strip()))


def account_problems(
    session: Session, *, name: str, role: str, team_names: list[str], teams_field: str = "team"
) -> tuple[dict[str, list[str]], list[Team]]:
    """The rules an account's name, role and teams keep, for a new account and an edited one
    alike: a name of 1 to 200 characters, a known role, teams that exist, and a team for
    practitioners and team leaders (SPEC §2). Returns the problems by field (teams under
    `teams_field`, the form's name for them) and the teams found."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["Name is required."]
    elif len(name) > 200:
        errors["name"] = ["Name is at most 200 characters."]
    if role not in {r.value for r in Role}:
        errors["role"] = [f"Role must be one of: {', '.join(r.value for r in Role)}."]
    teams: list[Team] = []
    for team_name in dict.fromkeys(team_names):
        team = find_team(session, team_name)
        if team is None:
            errors.setdefault(teams_field, []).append(f"No team named {team_name!r}.")
        else:
            teams.append(team)
    if role in (Role.practitioner.value, Role.team_leader.value) and not team_names:
        errors.setdefault(teams_field, []).append("Practitioners and team leaders need a team.")
    return errors, teams


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    team_names: list[str] | None = None,
    agency_name: str | None = None,
) -> User:
    """Creates an account. Practitioners and team leaders belong to teams; their agency is the
    team's. Coordinators need an agency (given, or their team's)."""
    errors, teams = account_problems(session, name=name, role=role, team_names=team_names or [])
    email = email.strip().lower()
    if not is_email_address(email):
        errors["email"] = ["Enter a valid email address."]
    elif session.scalar(select(User.id).where(func.lower(User.email) == email)):
        errors["email"] = [f"A user with email {email} already exists."]
    if len(email) > 254:
        errors["email"] = ["Email is at most 254 characters."]
    password_problems = passwords.password_problems(password, email=email, name=name)
    if password_problems:
        errors["password"] = password_problems
    agency = None
    if agency_name:
        agency = session.scalar(select(Agency).where(Agency.name == agency_name))
        if agency is None:
            errors["agency"] = [f"No agency named {agency_name!r}."]
    elif teams:
        agency = teams[0].agency
    if role == Role.coordinator.value and agency is None and "agency" not in errors:
        errors["agency"] = ["A coordinator needs an agency (or a team)."]
    if errors:
        raise ValidationError(errors)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        agency=agency,
        teams=teams,
    )
    session.add(user)
    session.flush()
    return user
