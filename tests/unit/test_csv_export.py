"""CSV cells (fieldapp/csv_export.py): safe in a spreadsheet that splits on commas and in one
that splits on semicolons."""

from __future__ import annotations

import csv
import io

import pytest

from fieldapp.csv_export import csv_response, csv_safe

ATTACKS = ["=1+1", "+1", "-1+2", "@SUM(1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_formula_is_neutralised_and_quoted(attack):
    assert csv_safe(attack) == "\"'" + attack + '"'


def test_text_is_always_quoted_and_numbers_and_booleans_are_not():
    assert csv_safe("Mia Anderson") == '"Mia Anderson"'
    assert csv_safe('She said "no"') == '"She said ""no"""'
    assert (csv_safe(18), csv_safe(-3), csv_safe(1.5)) == ("18", "-3", "1.5")
    assert (csv_safe(True), csv_safe(False), csv_safe(None)) == ("true", "false", "")


def test_a_semicolon_splitting_spreadsheet_sees_no_formula():
    """A spreadsheet in a `;` locale splits each line on `;` but keeps quoted text whole: no
    cell it makes starts a formula."""
    body = csv_response(
        ["name", "note", "days"],
        [{"name": "Mia", "note": 'fine;=HYPERLINK("http://evil")', "days": 3}],
        "x.csv",
    ).get_data(as_text=True)
    for row in csv.reader(io.StringIO(body), delimiter=";"):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@"), cell
    rows = list(csv.reader(io.StringIO(body)))  # a `,` spreadsheet reads the text, defused
    assert rows == [["name", "note", "days"], ["Mia", 'fine;\'=HYPERLINK("http://evil")', "3"]]
