"""CSV downloads: the one place that writes them, so every export is safe against spreadsheet
formulas (CSV injection) and shaped the same way."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A CSV cell: booleans as true/false, numbers as numbers (a negative count of days stays a
    number), and text with a spreadsheet formula neutralised by an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_response(columns: list[str], records: Iterable[dict], filename: str) -> Response:
    """A CSV attachment: a header row of `columns`, then each record's values in that order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([csv_safe(record[column]) for column in columns])
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
