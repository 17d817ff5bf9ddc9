"""The password policy (services/passwords.py), with no app and no database: length in Unicode
code points after normalising, no composition rules, and refusals with a reason for common,
breached and guessable passwords and for the account's own name or email."""

from __future__ import annotations

import unicodedata

import pytest

from fieldapp.services import demo, passwords
from fieldapp.services.demo import DEFAULT_PASSWORD
from fieldapp.services.errors import ValidationError
from fieldapp.services.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    RECOMMENDED_LENGTH,
    check_password,
    normalise,
    password_problems,
)

PASSPHRASE = "kia ora, tōku whānau ☀"  # spaces, punctuation, non-ASCII and a symbol


def test_the_limits():
    assert (MIN_LENGTH, RECOMMENDED_LENGTH, MAX_LENGTH) == (12, 15, 128)
    assert passwords.HINT == (
        "At least 12 characters; 15 or more recommended. Any characters, spaces too."
    )


@pytest.mark.parametrize(
    "password",
    [
        PASSPHRASE,
        "Ωμέγα αλφα βήτα",  # Greek
        "日本語のパスワードです!",  # 12 code points, 36 UTF-8 bytes
        "my dog is sam",  # lower case letters and spaces only: no composition rules
        "correct horse battery",
        DEFAULT_PASSWORD,  # the demo accounts' password
    ],
)
def test_an_uncommon_passphrase_of_any_characters_is_accepted(password):
    assert password_problems(password) == []
    check_password(password)  # does not raise


def test_the_demo_password_is_accepted_for_every_demo_account():
    for handle, name, _role, _teams in demo.USERS:
        email = f"{handle}@{demo.DEMO_DOMAIN}"
        assert password_problems(demo.DEFAULT_PASSWORD, email=email, name=name) == []


def test_length_is_counted_in_code_points_not_bytes():
    emoji = "🦘🐨🦜🐊🦎🐍🦈🐢🐬🐋🦀🦐"  # 12 code points, 48 bytes in UTF-8, 24 UTF-16 units
    assert len(emoji) == MIN_LENGTH
    assert password_problems(emoji) == []
    assert password_problems(emoji[:-1]) == [
        "Password must be at least 12 characters; this one has 11."
    ]


def test_too_short_names_the_field_and_the_minimum():
    assert password_problems("") == ["Enter a password of at least 12 characters."]
    assert password_problems("short") == [
        "Password must be at least 12 characters; this one has 5."
    ]
    assert password_problems("x7Qp 2mZr 9k") == []  # exactly 12


def test_128_characters_are_allowed_and_129_refused():
    allowed = ("Q7 vx9 Lp2 zR " * 10)[:MAX_LENGTH]
    assert len(allowed) == 128
    assert password_problems(allowed) == []
    assert password_problems(allowed + "m") == [
        "Password must be at most 128 characters; this one has 129."
    ]


@pytest.mark.parametrize(
    "password",
    ["password1234", "Qwerty123456", "1QAZ2WSX3EDC", "qwerty 123456", "justinbieber"],
)
def test_a_password_on_the_common_list_is_refused_whatever_its_case(password):
    assert password_problems(password) == [
        "This password is on a list of common or breached passwords; choose another."
    ]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("iloveyou1234", "it is a common password with small changes"),
        ("Password2026", "it is a common password with small changes"),
        ("aaaaaaaaaaaaaa", "it repeats the same few characters"),
        ("trustno1trustno1", "it repeats the same few characters"),
        ("abcdefghijklmn", "it is a run of characters like abc or 6543"),
        ("Administrator1", "it is a common word or name with little added"),
    ],
)
def test_a_guessable_password_is_refused_with_the_reason(password, reason):
    assert password_problems(password) == [
        f"This password is too easy to guess: {reason}; choose another."
    ]


def test_the_accounts_name_or_email_inside_the_password_is_refused():
    refused = (
        "This password contains the account's name or email address; choose one that does not."
    )
    who = {"email": "jo.nguyen@example.org", "name": "Jo Nguyen"}
    assert password_problems("Jo.Nguyen at home 26", **who) == [refused]
    assert password_problems("my name is JONGUYEN!", **who) == [refused]
    assert password_problems("sam.wilson rules ok", email="sam.wilson@example.org") == [refused]
    assert password_problems("paperbark and lee martin", name="Lee Martin") == [refused]
    # A short name is not refused inside every word that contains it.
    assert password_problems("enjoy the dry season", email="jo@example.org", name="Jo") == []
    assert password_problems(PASSPHRASE, **who) == []


@pytest.mark.parametrize(
    "password", ["tab\tin the middle", "nul\x00 in the middle", "\ud83e half an emoji"]
)
def test_control_characters_and_lone_surrogates_are_refused(password):
    assert password_problems(password) == [
        "Password contains a control character or half an emoji, which cannot be used; "
        "type it again without it."
    ]


def test_normalising_makes_two_keyboards_agree_and_keeps_compatibility_characters():
    composed = "café au lait à deux"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert normalise(decomposed) == normalise(composed) == composed
    assert normalise("no\u00a0break\u2003spaces") == "no break spaces"
    assert normalise("x²") == "x²"  # NFC, not NFKC: "²" stays itself
    # Counted after normalising: 12 composed characters are 12 even when typed decomposed.
    twelve = "éééééééééééé"
    assert len(unicodedata.normalize("NFD", twelve)) == 24
    assert password_problems(unicodedata.normalize("NFD", twelve)) == password_problems(twelve)


def test_check_password_raises_a_validation_error_naming_the_field():
    with pytest.raises(ValidationError) as raised:
        check_password("short")
    assert raised.value.errors == {
        "password": ["Password must be at least 12 characters; this one has 5."]
    }
