"""Layout of a CSV export from its first lines: separator, preamble, header row(s), number notation."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from contest.errors import CsvFormatError
from ingest.csv_columns import find_units, is_empty_cell, is_number_cell
from ingest.csv_time import is_datetime_cell, is_epoch_cell

SEPARATORS = (";", ",", "\t", "|")  # order breaks ties: ';' first, because ',' is the German decimal mark
_SEP_HINT = re.compile(r'^\s*"?sep=(.)"?[,;]*\s*$', re.IGNORECASE)  # Excel's "sep=," first line
_LETTER = re.compile(r"[^\W\d_]")
_DE_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}")
_SAMPLE_ROWS = 50

# Number notations, told apart by their shape.
_DOT_GROUPS_COMMA = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})+,\d*$")  # 1.234,56
_COMMA_GROUPS_DOT = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+\.\d*$")  # 1,234.56
_COMMA_DECIMAL = re.compile(r"^[-+]?\d*,\d+$")  # 0,063 (unless it is 1,234 below)
_DOT_DECIMAL = re.compile(r"^[-+]?\d*\.\d+(?:[eE][-+]?\d+)?$")  # 0.196
_DOT_GROUPS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:\.\d{3})+$")  # 1.234: thousands or three decimals
_COMMA_GROUPS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+$")  # 1,234: thousands or three decimals


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """Where the table of a CSV file is and how it is written.

    separator: field separator
    decimal: decimal mark of numbers
    thousands: thousands separator (None when numbers carry none)
    header_line: 1-based line of the header row (the names); 0 when the file has none
    first_data_line: 1-based line of the first data row (everything before is preamble or header)
    names: column names (unique; unnamed columns are "column_<n>")
    units_row: cells of a units row below the names (SMA's "[Wh]" row), aligned with names, or None
    header_text: the header row as written ("" when none), to recognize repeated header rows
    sample: the first data rows split into cells, each as long as ``names``
    """

    separator: str
    decimal: str
    thousands: str | None
    header_line: int
    first_data_line: int
    names: tuple[str, ...]
    units_row: tuple[str, ...] | None
    header_text: str
    sample: tuple[tuple[str, ...], ...]

    def column(self, index: int) -> list[str]:
        """Sample cells of one column."""
        return [row[index] for row in self.sample]


def split_line(line: str, separator: str) -> list[str]:
    """Cells of one line (quotes honoured, blanks around cells removed)."""
    try:
        cells = next(csv.reader([line], delimiter=separator, skipinitialspace=True), [])
    except csv.Error:
        cells = line.split(separator)  # a cell beyond csv's size limit: split plainly
    return [cell.strip() for cell in cells]


def _is_blank(line: str, separator: str | None = None) -> bool:
    stripped = line.strip()
    if separator is not None:
        stripped = stripped.replace(separator, "").strip()
    return not stripped


def is_comment(line: str) -> bool:
    """Lines starting with '#' are comments (volkszaehler, many loggers)."""
    return line.lstrip().startswith("#")


def _detect_separator(lines: Sequence[str], content: Sequence[int]) -> str:
    best: tuple[int, int, int] | None = None
    chosen = ""
    for priority, separator in enumerate(SEPARATORS):
        counts = [len(split_line(lines[i], separator)) for i in content]
        wide = [c for c in counts if c >= 2]
        if not wide:
            continue
        mode, _ = Counter(wide).most_common(1)[0]
        score = (sum(1 for c in counts if c == mode), mode, -priority)
        if best is None or score > best:
            best, chosen = score, separator
    if not chosen:
        raise CsvFormatError(
            "no separator found: every line has a single field, but a CSV file needs a timestamp column "
            "and an energy column separated by ';', ',' or a tab",
            key="csv.no_separator",
        )
    return chosen


def _is_data_row(cells: Sequence[str]) -> bool:
    if any(is_datetime_cell(cell) for cell in cells):
        return True
    return len(cells) >= 2 and is_epoch_cell(cells[0]) and any(is_number_cell(c) for c in cells[1:])


def _is_header_row(cells: Sequence[str]) -> bool:
    filled = [c for c in cells if c]
    return (
        len(cells) >= 2
        and any(_LETTER.search(c) for c in filled)
        and not any(is_number_cell(c) or is_datetime_cell(c) for c in filled)
    )


def _is_units_row(cells: Sequence[str]) -> bool:
    filled = [c for c in cells if c]
    unit_like = [c for c in filled if re.fullmatch(r"[\[(].*[\])]", c) or any(find_units(c))]
    return bool(unit_like) and len(unit_like) * 2 >= len(filled)


def sniff_layout(lines: Sequence[str]) -> CsvLayout:
    """Find separator, header and first data row in the first lines of a file (without line endings).

    Raises :class:`CsvFormatError` when no line holds a date (no timestamp column) or no data row
    follows the header.
    """
    hint = _SEP_HINT.match(lines[0]) if lines else None
    skipped = {0} if hint else set()
    content = [
        i for i, line in enumerate(lines) if i not in skipped and not _is_blank(line) and not is_comment(line)
    ]
    if not content:
        raise CsvFormatError(
            "no data rows: the file holds only blank or comment lines", key="csv.no_data_rows"
        )
    separator = hint.group(1) if hint else _detect_separator(lines, content)
    rows: dict[int, list[str]] = {i: split_line(lines[i], separator) for i in content}
    data_rows = [i for i in content if _is_data_row(rows[i])]
    if not data_rows:
        raise _no_data_error(lines, content, rows)
    keys = {
        i: (len(rows[i]), next((k for k, c in enumerate(rows[i]) if is_datetime_cell(c)), 0))
        for i in data_rows
    }
    modal = Counter(keys.values()).most_common(1)[0][0]
    first_modal = next(i for i in data_rows if keys[i] == modal)

    header = -1
    for i in range(first_modal - 1, -1, -1):
        if i in skipped or i not in rows:
            continue  # blank lines and comments between header and data
        if _is_header_row(rows[i]):
            header = i
            break
    if header < 0:
        block: list[int] = []
        first_data = first_modal
    else:
        block = [header]
        while (
            block[0] - 1 >= 0
            and block[0] - 1 in rows
            and _is_header_row(rows[block[0] - 1])
            and len(rows[block[0] - 1]) == len(rows[header])
        ):
            block.insert(0, block[0] - 1)
        first_data = header + 1

    width = max([modal[0], *(len(rows[i]) for i in block)])
    units_row: tuple[str, ...] | None = None
    name_row: list[str] = []
    header_line = 0
    if block:
        units_index = next((i for i in reversed(block) if len(block) > 1 and _is_units_row(rows[i])), None)
        if units_index is not None:
            units_row = tuple(_pad(rows[units_index], width))
        candidates = [i for i in block if i != units_index] or block
        # The names are the row with the most distinct cells (SMA: the channel row, not "Analog, Analog");
        # on a tie the one closest to the data.
        name_index = max(candidates, key=lambda i: (len({c for c in rows[i] if c}), i))
        header_line = name_index + 1
        name_row = _pad(rows[name_index], width)
        for col, cell in enumerate(name_row):
            if not cell:
                # An empty name borrows from the other header rows (SMA's time column is named only in
                # its units row: "DD.MM.YYYY hh:mm:ss").
                name_row[col] = next(
                    (_pad(rows[i], width)[col] for i in reversed(block) if _pad(rows[i], width)[col]), ""
                )
    names = _unique_names(name_row or [""] * width, width)

    sample_lines = [
        i for i in range(first_data, len(lines)) if i in rows and not _is_blank(lines[i], separator)
    ][:_SAMPLE_ROWS]
    sample = tuple(tuple(_pad(rows[i], width)) for i in sample_lines)
    decimal, thousands = _number_style(sample, separator)
    return CsvLayout(
        separator=separator,
        decimal=decimal,
        thousands=thousands,
        header_line=header_line,
        first_data_line=first_data + 1,
        names=names,
        units_row=units_row,
        header_text=lines[header].strip() if header >= 0 else "",
        sample=sample,
    )


def _no_data_error(
    lines: Sequence[str], content: Sequence[int], rows: dict[int, list[str]]
) -> CsvFormatError:
    last_header = max((i for i in content if _is_header_row(rows[i])), default=-1)
    if not any(i > last_header for i in content):
        where = f" after the header on line {last_header + 1}" if last_header >= 0 else ""
        return CsvFormatError(f"no data rows{where}", key="csv.no_data_rows")
    names = ", ".join(repr(c) for c in rows[last_header] if c) if last_header >= 0 else ""
    found = f" (columns: {names})" if names else ""
    return CsvFormatError(
        "no timestamp column: no column holds dates such as 2024-01-31 12:00 or 31.01.2024 12:00" + found,
        key="csv.no_timestamp_column",
    )


def _pad(cells: Sequence[str], width: int) -> list[str]:
    return list(cells[:width]) + [""] * (width - len(cells))


def _unique_names(cells: Sequence[str], width: int) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for col in range(width):
        base = cells[col] if col < len(cells) and cells[col] else f"column_{col + 1}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base} ({k})", k + 1
        seen.add(name)
        names.append(name)
    return tuple(names)


def _number_style(sample: Sequence[Sequence[str]], separator: str) -> tuple[str, str | None]:
    """(decimal mark, thousands separator) voted by the number cells of the sample rows."""
    comma = point = dot_groups = comma_groups = 0
    comma_thousands = False
    german_dates = False
    for row in sample:
        for cell in row:
            if is_empty_cell(cell):
                continue
            if is_datetime_cell(cell):
                german_dates = german_dates or bool(_DE_DATE.match(cell))
                continue
            if _DOT_GROUPS_COMMA.match(cell):
                comma += 1
            elif _COMMA_GROUPS_DOT.match(cell):
                point += 1
                comma_thousands = True
            elif _DOT_GROUPS.match(cell):
                dot_groups += 1
            elif _COMMA_GROUPS.match(cell):
                comma_groups += 1
            elif _COMMA_DECIMAL.match(cell):
                comma += 1
            elif _DOT_DECIMAL.match(cell):
                point += 1
    if comma > point:
        decimal = ","
    elif point > comma:
        decimal = "."
    elif dot_groups:
        # Only "1.234"-shaped numbers: thousands points in a German file, three decimals elsewhere.
        decimal = "," if german_dates else "."
    elif comma_groups and separator != ",":
        decimal = ","
    else:
        decimal = "," if german_dates and separator != "," else "."
    if decimal == ",":
        # In a decimal-comma file a point inside a number can only group thousands (1.234,56).
        return ",", "."
    return ".", "," if comma_thousands and separator != "," else None
