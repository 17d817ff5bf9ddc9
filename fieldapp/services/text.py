"""Text the databases can store."""

from __future__ import annotations


def storable(text: str) -> bool:
    """Whether the databases can store this text: PostgreSQL text cannot hold NUL, and neither
    database driver can encode a lone surrogate (half an emoji, as a tablet cutting text at a
    length in UTF-16 units may leave)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
