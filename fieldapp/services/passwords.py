"""The password policy: the one place that decides whether a new password is acceptable.

Every way of setting a password goes through `check_password` (the admin's user form, `flask users
create`, `seed-demo --password` and the user's own password change), and every form hint comes
from `HINT` and the limits below. The policy follows NIST SP 800-63B and OWASP ASVS:

- at least `MIN_LENGTH` characters (`RECOMMENDED_LENGTH` or more advised), at most `MAX_LENGTH`;
- any Unicode characters, spaces included, and no composition rules (no "one digit, one symbol");
  only control characters (a tab, a NUL) and half an emoji (a lone surrogate) are refused, as
  RFC 8265 refuses them and sign-in could not take them;
- refused when on a list of common or breached passwords (compared case-insensitively), when
  only a small variation of one, or a repeat, run or keyboard pattern (guessable in under
  `MAX_REFUSED_GUESSES` tries), or when it contains the account's name or the part of its
  email address before the @.

The lists and the guess estimate come from the `zxcvbn` package (Dropbox's estimator, its 30,000
most common passwords from breach corpora and common words and names), shipped with it: no
network call is ever made.

Lengths are counted in Unicode code points after `normalise`, which is also what is hashed and
what a sign-in is compared with, so the same passphrase typed on two keyboards (a precomposed
"é" or "e" plus a combining accent; a no-break space) is the same password. `normalise` follows
the OpaqueString profile of RFC 8265: every Unicode space becomes an ASCII space, then NFC. NFKC
is not used, so compatibility characters such as "²" stay distinct from "2".
"""

from __future__ import annotations

import threading
import unicodedata

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from .errors import ValidationError
from .text import storable

MIN_LENGTH = 12
RECOMMENDED_LENGTH = 15
MAX_LENGTH = 128
# zxcvbn's estimate below which a password falls to an online guessing attack (its scores 0 and
# 1): 10**6 guesses.
MAX_REFUSED_GUESSES = 10**6
# The account's name, or its email address before the @, is refused inside a password only from
# this length, so a short name ("Jo") does not rule out every word that contains it.
MIN_PERSONAL_LENGTH = 4

HINT = (
    f"At least {MIN_LENGTH} characters; {RECOMMENDED_LENGTH} or more recommended. "
    "Any characters, spaces too."
)

EMPTY = "Enter a password of at least {minimum} characters."
TOO_SHORT = "Password must be at least {minimum} characters; this one has {length}."
TOO_LONG = "Password must be at most {maximum} characters; this one has {length}."
COMMON = "This password is on a list of common or breached passwords; choose another."
GUESSABLE = "This password is too easy to guess: {reason}; choose another."
UNUSABLE = (
    "Password contains a control character or half an emoji, which cannot be used; "
    "type it again without it."
)
PERSONAL = "This password contains the account's name or email address; choose one that does not."

_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# zxcvbn stores the user inputs of each call in a module-level dictionary that every call
# iterates: one call at a time.
_ZXCVBN_LOCK = threading.Lock()


def normalise(password: str) -> str:
    """The form of a password that is counted, checked and hashed (RFC 8265 OpaqueString)."""
    spaced = "".join(" " if unicodedata.category(char) == "Zs" else char for char in password)
    return unicodedata.normalize("NFC", spaced)


def password_problems(
    password: str, *, email: str | None = None, name: str | None = None
) -> list[str]:
    """Why this password may not be set, one message per reason; empty when it may. `email` and
    `name` are the account's, when known."""
    password = normalise(password)
    length = len(password)
    if length == 0:
        return [EMPTY.format(minimum=MIN_LENGTH)]
    if length < MIN_LENGTH:
        return [TOO_SHORT.format(minimum=MIN_LENGTH, length=length)]
    if length > MAX_LENGTH:
        return [TOO_LONG.format(maximum=MAX_LENGTH, length=length)]
    if not storable(password) or any(unicodedata.category(char) == "Cc" for char in password):
        return [UNUSABLE]
    problems = []
    folded = password.casefold()
    if folded in _COMMON_PASSWORDS or "".join(folded.split()) in _COMMON_PASSWORDS:
        problems.append(COMMON)
    else:
        reason = _guessable(password)
        if reason:
            problems.append(GUESSABLE.format(reason=reason))
    if _contains_personal_words(password, email=email, name=name):
        problems.append(PERSONAL)
    return problems


def check_password(password: str, *, email: str | None = None, name: str | None = None) -> None:
    """Raises ValidationError({"password": [...]}) unless the password may be set."""
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise ValidationError({"password": problems})


def _guessable(password: str) -> str | None:
    """Why zxcvbn finds the password guessable in under MAX_REFUSED_GUESSES tries, else None."""
    with _ZXCVBN_LOCK:
        estimate = zxcvbn(password, max_length=MAX_LENGTH)
    if estimate["guesses"] >= MAX_REFUSED_GUESSES:
        return None
    patterns = {
        "common password" if match.get("dictionary_name") == "passwords" else match["pattern"]
        for match in estimate["sequence"]
    }
    for pattern, reason in (
        ("common password", "it is a common password with small changes"),
        ("repeat", "it repeats the same few characters"),
        ("sequence", "it is a run of characters like abc or 6543"),
        ("spatial", "it is a pattern of neighbouring keys"),
        ("dictionary", "it is a common word or name with little added"),
        ("date", "it is mostly a date"),
    ):
        if pattern in patterns:
            return reason
    return "it follows a common pattern"


def _contains_personal_words(password: str, *, email: str | None, name: str | None) -> bool:
    """Whether the password contains the part of the email address before the @ or the name,
    compared as letters and digits only, case-insensitively ("Jo.Nguyen-2026" contains both
    "jo.nguyen@example.org" and "Jo Nguyen")."""
    letters = _letters(password)
    words = ((email or "").strip().partition("@")[0], name or "")
    return any(
        len(word) >= MIN_PERSONAL_LENGTH and word in letters
        for word in (_letters(normalise(word)) for word in words)
    )


def _letters(text: str) -> str:
    return "".join(char for char in text.casefold() if char.isalnum())
