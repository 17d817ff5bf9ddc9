"""A push body's text told storable from its bytes (api/bodies.py `text_is_storable`), so a
batch of 200 contacts is not searched string by string. It may say "look closer" when all is
well; it must never say "storable" when a string holds a NUL or half a surrogate pair."""

from __future__ import annotations

import json

import pytest

from fieldapp.api.bodies import text_is_storable
from fieldapp.services.text import storable

WORDS = {"child_views": "Kai said: «I like my room» 😀 — ngayu", "notes": 'a "quoted" \\ path'}


def as_a_tablet_sends_it(value) -> bytes:
    """JSON.stringify: non-ASCII as UTF-8, a lone surrogate as an escape."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def test_a_tablets_body_with_any_storable_text_needs_no_closer_look():
    assert text_is_storable(as_a_tablet_sends_it({"mutations": [{"data": WORDS}]}))


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"v": "I am\x00fine"}).encode(),  # NUL as an escape
        json.dumps({"v": "Happy \ud83d"}).encode(),  # half an emoji as an escape
        json.dumps({"v": "Happy \ude00"}, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        json.dumps({"v\x00": "key"}).encode(),  # in a key
        json.dumps({"v": "Happy \ud83d"}).replace("d83d", "D83D").encode(),  # hex in capitals
        json.dumps({"v": "I am\x00fine"}).encode("utf-16"),  # another encoding JSON allows
    ],
    ids=["nul", "lone-high", "raw-low-surrogate", "key", "capital-hex", "utf-16"],
)
def test_a_body_whose_text_cannot_be_stored_is_never_called_storable(raw):
    decoded = json.loads(raw)
    texts = [text for pair in decoded.items() for text in pair]
    assert not all(storable(text) for text in texts)  # the case is real
    assert not text_is_storable(raw)


def test_a_backslash_u_without_four_hex_digits_gets_a_closer_look():
    """Python's C decoder refuses `\\u+000`, but a lenient one reads it as NUL: never trusted."""
    assert not text_is_storable(rb'{"v": "I am\u+000fine"}')
    assert not text_is_storable(rb'{"v": "C:\\users"}')  # only slower: looked at closely
