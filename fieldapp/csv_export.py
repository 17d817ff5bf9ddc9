"""CSV downloads: the one place that writes them, so every export is safe against spreadsheet
formulas (CSV injection) and shaped the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEMICOLON_FORMULA = re.compile(r";(?=[=+\-@\t\r])")


def csv_safe(value) -> str:
    """A CSV cell: empty for nothing, booleans as true/false and numbers as numbers (a negative
    count of days stays a number), unquoted; text always in quotes (RFC 4180), with a
    spreadsheet formula neutralised by an apostrophe. Quoting every text cell matters for a
    spreadsheet that splits on `;` (its locale's separator), and since such a spreadsheet may
    still start a cell after a `;` inside the text, a formula character there gets the
    apostrophe too (`a;'=HYPERLINK(...)`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = SEMICOLON_FORMULA.sub(";'", str(value))
    if text[:1] in FORMULA_STARTS:
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def csv_response(columns: list[str], records: Iterable[dict], filename: str) -> Response:
    """A CSV attachment: a header row of `columns`, then each record's values in that order.
    Written here rather than by the csv module, which on this Python cannot quote text cells
    and leave numbers bare."""
    lines = [",".join(csv_safe(column) for column in columns)]
    lines += [",".join(csv_safe(record[column]) for column in columns) for record in records]
    return Response(
        "".join(f"{line}\r\n" for line in lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
