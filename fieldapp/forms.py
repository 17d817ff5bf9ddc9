"""Shared form helpers."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice


def select_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (plain tuples are deprecated from WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
