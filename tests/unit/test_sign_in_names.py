"""One rule for what passes as an email address (accounts are made only with such addresses), and
what the audit trail keeps of a name typed at a failed sign-in: the address, or else only a hash
keyed with the app's secret, which no one without the key can test password guesses against."""

from __future__ import annotations

import hashlib

import pytest

from fieldapp.services.accounts import is_email_address, sign_in_name_for_audit


@pytest.mark.parametrize(
    "text",
    [
        "pat@example.org",
        "jo.nguyen+work@demo.fieldapp.example",
        "a@b.co",
        "x" * 242 + "@example.org",
    ],
)
def test_email_addresses(text):
    assert is_email_address(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "someone",
        "@example.org",
        "pat@",
        "pat@localhost",
        "pat@.org",
        "pat@example.",
        "pat@@example.org",
        "pat@exa@mple.org",
        "pat @example.org",
        "pat@example.org\n",
        "pat@exam\tple.org",
        "x" * 243 + "@example.org",  # 255 characters
        "correct horse battery",
    ],
)
def test_not_email_addresses(text):
    assert not is_email_address(text)


def test_an_address_is_kept_as_sign_in_compares_it():
    assert sign_in_name_for_audit("  Pat@Example.ORG ", "key") == {"email": "pat@example.org"}


def test_anything_else_is_kept_only_as_a_keyed_hash():
    kept = sign_in_name_for_audit("hunter2", "key")
    assert set(kept) == {"email_hmac_sha256"}
    digest = kept["email_hmac_sha256"]
    assert len(digest) == 64 and "hunter2" not in digest
    # Not a plain hash that a list of common passwords would reverse.
    assert digest != hashlib.sha256(b"hunter2").hexdigest()
    assert sign_in_name_for_audit(" HUNTER2", "key") == kept  # same text, same hash
    assert sign_in_name_for_audit("hunter2", b"key") == kept
    assert sign_in_name_for_audit("hunter2", "another key") != kept
    assert sign_in_name_for_audit("hunter3", "key") != kept


def test_text_no_encoder_takes_is_hashed_too():
    kept = sign_in_name_for_audit("half an emoji \ud83d", "key")
    assert len(kept["email_hmac_sha256"]) == 64
