"""CSV files the app writes for people to open in Excel or LibreOffice: ``;``-separated, and no cell
ever starts a formula (CSV/formula injection, e.g. a pseudonym ``=HYPERLINK(...)``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

#: A cell whose text starts with one of these (after blanks) is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: Plain numbers such as "-3.5" or "+49" stay numbers: they cannot run anything.
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet may read it: text that would start a formula gets a leading ``'``
    (shown as text, as OWASP advises); numbers, dates and other text stay as they are."""
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value.strip()):
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A ``;``-separated CSV text with every cell made safe (:func:`safe_cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()
