"""Timestamps of CSV exports: which column(s) hold them, their format, vectorized parsing to UTC.

Local times that do not exist or stay ambiguous at DST changes are coded per row, never shifted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from ingest.csv_columns import fold, is_empty_cell

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S
NAT = np.iinfo(np.int64).min  # numpy's NaT as int64

# Row codes of :class:`TimeParse` (0 = usable).
T_OK = 0
T_EMPTY = 1
T_UNPARSEABLE = 2
T_NONEXISTENT = 3
T_AMBIGUOUS = 4
T_NO_OFFSET = 5

ZONE_OFFSET = "offset"  # values carry their own UTC offset

_YEAR_MIN, _YEAR_MAX = 1900, 2199  # anything else is a typo or a broken cell, not a meter reading
_MICROS_MIN = int(np.datetime64(f"{_YEAR_MIN}-01-01", "us").astype(np.int64))
_MICROS_MAX = int(np.datetime64(f"{_YEAR_MAX + 1}-01-01", "us").astype(np.int64))

_ISO_DT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_DE_DT = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(,? +|T)(\d{1,2}):(\d{2})(:\d{2})?$")
_SLASH_DT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(,? +)(\d{1,2}):(\d{2})(:\d{2})?$")
_ISO_D = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DE_D = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})$")
_SLASH_D = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(:\d{2})?$")
_EPOCH = re.compile(r"^(\d{10}|\d{13})(\.\d+)?$")
_HAS_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)

_START = re.compile(r"start|beginn?|\bvon\b|from|anfang")
_END = re.compile(r"\bende?\b|\bend|\bbis\b|\bto\b|until|zeitpunkt")
_TIME_WORDS = re.compile(
    r"zeit|datum|date|time|\bts\b|stempel|uhr|stunde|hour|\btag\b|\bday\b|periode|period"
)
_EPOCH_WORDS = re.compile(r"time|zeit|unix|epoch|\bts\b|stamp")
_UTC = re.compile(r"\butc\b|\bgmt\b|zulu")
_MEZ = re.compile(r"\bmez\b|\bcet\b")
_MESZ = re.compile(r"\bmesz\b|\bcest\b")

# Formats of the same family tried for cells the main format does not read (seconds present or not).
_ALTERNATES = {
    "%H:%M": ("%H:%M:%S",),
    "%H:%M:%S": ("%H:%M",),
}


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """How the timestamp of a row is written.

    columns: 0-based column(s): one datetime column, or a date column and a time column
    date_format: strftime format of the (joined) cells; "ISO8601" for values with UTC offsets;
        "epoch_s" / "epoch_ms" for Unix times
    part_formats: (date format, time format) when date and time are separate columns
    zone: ZONE_OFFSET when cells carry offsets; "UTC" or a fixed zone when the header says so; else None
        (the caller's local zone)
    marks_hint: "start" | "end" from the header words ("Beginn", "Messzeitpunkt"), None when silent
    """

    columns: tuple[int, ...]
    date_format: str
    part_formats: tuple[str, str] | None = None
    zone: str | None = None
    marks_hint: str | None = None
    parse_format: str = ""  # format handed to pandas for cells with offsets (explicit, fast)


@dataclass(frozen=True, slots=True)
class TimeParse:
    """Timestamps of all rows.

    utc_us: instant of each row [µs since epoch, UTC]; valid where ``code == T_OK``
    code: T_* code per row
    notes: extra text for rejected rows (row index → why), e.g. why an hour is ambiguous
    local_us: the local wall time as read [µs], for messages about local times
    """

    utc_us: npt.NDArray[np.int64]
    code: npt.NDArray[np.uint8]
    local_us: npt.NDArray[np.int64]
    notes: dict[int, str] = field(default_factory=dict)


def _cell_format(cell: str) -> tuple[str, str] | None:
    """(category, format) of one cell: datetime | aware | date | time | slash_dt | slash_d | epoch."""
    match = _ISO_DT.match(cell)
    if match:
        fmt = "%Y-%m-%d" + match.group(4) + "%H:%M"
        if match.group(7):
            fmt += ":%S"
            if match.group(8):
                fmt += ".%f"
        if match.group(9):
            return "aware", fmt + "%z"
        return "datetime", fmt
    match = _DE_DT.match(cell)
    if match:
        year = "%Y" if len(match.group(3)) == 4 else "%y"
        return "datetime", f"%d.%m.{year}{match.group(4)}%H:%M" + (":%S" if match.group(7) else "")
    match = _SLASH_DT.match(cell)
    if match:
        return "slash_dt", f"%d/%m/%Y{match.group(4)}%H:%M" + (":%S" if match.group(7) else "")
    if _ISO_D.match(cell):
        return "date", "%Y-%m-%d"
    match = _DE_D.match(cell)
    if match:
        return "date", "%d.%m.%Y" if len(match.group(3)) == 4 else "%d.%m.%y"
    if _SLASH_D.match(cell):
        return "slash_d", "%d/%m/%Y"
    match = _TIME.match(cell)
    if match:
        return "time", "%H:%M" + (":%S" if match.group(3) else "")
    if _EPOCH.match(cell):
        return "epoch", "epoch_ms" if len(cell.split(".")[0]) == 13 else "epoch_s"
    return None


def is_datetime_cell(cell: str) -> bool:
    """True when a cell holds a date (with or without time) in a supported notation."""
    found = _cell_format(cell.strip())
    return found is not None and found[0] not in ("time", "epoch")


def is_epoch_cell(cell: str) -> bool:
    """True when a cell looks like a Unix time in seconds (10 digits) or milliseconds (13 digits)."""
    return bool(_EPOCH.match(cell.strip()))


def column_time_format(cells: Sequence[str], name: str) -> tuple[str, str] | None:
    """(category, format) of a sample column when most of its non-empty cells are dates or times.

    category: datetime | aware | date | time | epoch
    """
    values = [c.strip() for c in cells if not is_empty_cell(c)]
    found = [f for f in (_cell_format(v) for v in values) if f is not None]
    if not found or len(found) * 2 < len(values):
        return None
    category = Counter(cat for cat, _ in found).most_common(1)[0][0]
    if category == "epoch" and not _EPOCH_WORDS.search(fold(name)):
        return None  # a 10-digit number is only a time when the header says so
    formats = Counter(fmt for cat, fmt in found if cat == category)
    fmt = formats.most_common(1)[0][0]
    if category in ("slash_dt", "slash_d"):
        fmt = _slash_order(values, fmt)
        category = "datetime" if category == "slash_dt" else "date"
    return category, fmt


def _slash_order(values: Sequence[str], fmt: str) -> str:
    # 03/04/2024 is 3 April in Europe and 4 March in the US: a first number above 12 proves day-first,
    # a second number above 12 proves month-first; with no proof the European order is taken.
    firsts, seconds = [], []
    for value in values:
        parts = value.split("/")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            firsts.append(int(parts[0]))
            seconds.append(int(parts[1]))
    if seconds and max(seconds) > 12 and (not firsts or max(firsts) <= 12):
        return fmt.replace("%d/%m", "%m/%d")
    return fmt


def marks_hint(name: str) -> str | None:
    """ "start" | "end" when a timestamp header says which end of the interval it stamps."""
    folded = fold(name)
    if _START.search(folded):
        return "start"
    if _END.search(folded):
        return "end"
    return None


def header_zone(name: str) -> str | None:
    """Zone a timestamp header declares: "UTC" ("Date/time UTC"), "Etc/GMT-1" for plain MEZ/CET."""
    folded = fold(name)
    if _UTC.search(folded):
        return "UTC"
    if _MEZ.search(folded) and not _MESZ.search(folded):
        return "Etc/GMT-1"  # MEZ without MESZ: winter time all year, a fixed +01:00
    return None


def find_time_spec(names: Sequence[str], columns: Sequence[Sequence[str]]) -> TimeSpec | None:
    """The timestamp column(s) of a table, from its names and sample cells; None when there is none.

    Preference: a column whose header says it is the interval start ("Beginn", "von", "Hour Start"), then
    unmarked ones, then end stamps ("Ende", "bis", "Messzeitpunkt"); a full datetime column before a
    date + time pair; the leftmost on ties.
    """
    full: list[tuple[int, str, str]] = []
    dates: list[tuple[int, str]] = []
    times: list[tuple[int, str]] = []
    for index, (name, cells) in enumerate(zip(names, columns, strict=False)):
        found = column_time_format(cells, name)
        if found is None:
            continue
        category, fmt = found
        if category in ("datetime", "aware", "epoch"):
            full.append((index, category, fmt))
        elif category == "date":
            dates.append((index, fmt))
        elif category == "time":
            times.append((index, fmt))
    rank = {"start": 0, None: 1, "end": 2}
    candidates: list[tuple[tuple[int, int, int, int], TimeSpec]] = []
    for index, category, fmt in full:
        hint = marks_hint(names[index])
        named = 0 if _TIME_WORDS.search(fold(names[index])) or hint else 1
        zone = ZONE_OFFSET if category == "aware" else header_zone(names[index])
        if category == "epoch":
            zone = "UTC"
        reported = "ISO8601" if category == "aware" else fmt
        spec = TimeSpec((index,), reported, zone=zone, marks_hint=hint, parse_format=fmt)
        candidates.append(((rank[hint], 0, named, index), spec))
    for date_index, date_fmt in dates:
        for time_index, time_fmt in times:
            date_hint, time_hint = marks_hint(names[date_index]), marks_hint(names[time_index])
            if date_hint and time_hint and date_hint != time_hint:
                continue  # "Startdatum" does not go with "Enduhrzeit"
            hint = date_hint or time_hint
            zone = header_zone(names[date_index]) or header_zone(names[time_index])
            spec = TimeSpec(
                (date_index, time_index),
                f"{date_fmt} {time_fmt}",
                part_formats=(date_fmt, time_fmt),
                zone=zone,
                marks_hint=hint,
            )
            candidates.append(((rank[hint], 1, abs(time_index - date_index), date_index), spec))
    if not candidates and dates:
        # Daily data: a date column alone stamps the day.
        index, fmt = dates[0]
        spec = TimeSpec((index,), fmt, zone=header_zone(names[index]), marks_hint=marks_hint(names[index]))
        candidates.append(((0, 0, 0, index), spec))
    if not candidates:
        return None
    return min(candidates, key=lambda item: item[0])[1]


# --- parsing ---------------------------------------------------------------------------------------

_FIELDS = {
    "%d": ("day", 2),
    "%m": ("month", 2),
    "%Y": ("year", 4),
    "%y": ("year2", 2),
    "%H": ("hour", 2),
    "%M": ("minute", 2),
    "%S": ("second", 2),
}


def _template(fmt: str) -> tuple[int, list[tuple[str, int, int]], list[tuple[int, int]]] | None:
    """(length, [(field, position, width)], [(position, literal byte)]) of a fixed-width format, or None."""
    fields: list[tuple[str, int, int]] = []
    literals: list[tuple[int, int]] = []
    pos = 0
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i : i + 2]
            if directive not in _FIELDS:
                return None
            name, width = _FIELDS[directive]
            fields.append((name, pos, width))
            pos += width
            i += 2
        else:
            if ord(fmt[i]) > 127:
                return None
            literals.append((pos, ord(fmt[i])))
            pos += 1
            i += 1
    return pos, fields, literals


def _as_cells(values: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """(cells as str, missing mask): NaN cells become "" and are flagged."""
    missing = pd.isna(values)
    cells = np.where(missing, "", values).astype(object)
    if pd.api.types.infer_dtype(cells, skipna=False) != "string":
        # pandas hands back str for columns read as object; anything else is turned into text once.
        cells = np.array([c if type(c) is str else str(c) for c in cells], dtype=object)
    return cells, missing


def _fixed_width(
    cells: npt.NDArray[np.object_], fmt: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Parse cells written exactly in the fixed-width ``fmt`` with numpy; (µs since epoch or of day, ok).

    pandas parses non-ISO formats such as ``%d.%m.%Y %H:%M`` at about 0.4 M rows/s; slicing digits out
    of a byte matrix does the same 10x faster. Cells of another length come back not ok, for pandas.
    """
    n = len(cells)
    out = np.full(n, NAT, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    template = _template(fmt)
    if template is None or n == 0:
        return out, ok
    length, fields, literals = template
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=n)
    rows = np.flatnonzero(lengths == length)
    if rows.size == 0:
        return out, ok
    subset = cells[rows]
    try:
        packed = subset.astype(f"S{length}")
    except UnicodeEncodeError:
        packed = np.array([c.encode("ascii", "replace") for c in subset], dtype=f"S{length}")
    matrix = packed.view(np.uint8).reshape(len(rows), length)
    good = np.ones(len(rows), dtype=bool)
    for pos, byte in literals:
        good &= matrix[:, pos] == byte
    values: dict[str, npt.NDArray[np.int64]] = {}
    for name, pos, width in fields:
        number = np.zeros(len(rows), dtype=np.int32)
        for k in range(pos, pos + width):
            digit = matrix[:, k] - np.uint8(48)  # wraps around below '0', so one test catches both ends
            good &= digit <= 9
            number = number * 10 + digit
        values[name] = number.astype(np.int64)
    zeros = np.zeros(len(rows), dtype=np.int64)
    hour, minute, second = values.get("hour", zeros), values.get("minute", zeros), values.get("second", zeros)
    good &= (hour <= 23) & (minute <= 59) & (second <= 59)
    micros = (hour * 3600 + minute * 60 + second) * US_PER_S
    if "day" in values:
        year = values["year"] if "year" in values else 2000 + values["year2"]
        month, day = values["month"], values["day"]
        good &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
        good &= (year >= _YEAR_MIN) & (year <= _YEAR_MAX)
        months = np.where(good, (year - 1970) * 12 + month - 1, 0)
        first = months.astype("datetime64[M]").astype("datetime64[D]")
        days = first + np.where(good, day - 1, 0).astype("timedelta64[D]")
        good &= days.astype("datetime64[M]").astype(np.int64) == months  # 31.02. rolls into March
        micros = micros + days.astype(np.int64) * US_PER_DAY
    out[rows[good]] = micros[good]
    ok[rows[good]] = True
    return out, ok


def _pandas_naive(cells: npt.NDArray[np.object_], formats: Sequence[str]) -> npt.NDArray[np.int64]:
    """Parse cells with pandas, trying ``formats`` in order; µs since epoch, NAT where none fits."""
    out = np.full(len(cells), NAT, dtype=np.int64)
    todo = np.arange(len(cells))
    stripped = np.array([c.strip() for c in cells], dtype=object)
    for fmt in formats:
        if todo.size == 0:
            break
        parsed = pd.to_datetime(pd.Series(stripped[todo], dtype=object), format=fmt, errors="coerce")
        micros = _to_micros(parsed)
        hit = micros != NAT
        out[todo[hit]] = micros[hit]
        todo = todo[~hit]
    return out


def _to_micros(parsed: pd.Series) -> npt.NDArray[np.int64]:
    """µs since epoch of a datetime Series (aware → UTC), NAT for NaT and for years outside 1900-2199."""
    if parsed.dtype == object or not hasattr(parsed, "dt"):
        return np.full(len(parsed), NAT, dtype=np.int64)
    values = parsed.dt.as_unit("us")
    if values.dt.tz is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    micros: npt.NDArray[np.int64] = np.array(values.to_numpy(dtype="datetime64[us]").view(np.int64))
    micros[(micros < _MICROS_MIN) | (micros >= _MICROS_MAX)] = NAT
    return micros


def _family(fmt: str) -> list[str]:
    """``fmt`` and the formats of its family that differ only by seconds or by a 2-digit year."""
    out = [fmt]
    if ":%S" in fmt:
        out.append(fmt.replace(":%S", ""))
    elif "%H:%M" in fmt:
        out.append(fmt.replace("%H:%M", "%H:%M:%S"))
    for existing in list(out):
        if "%Y" in existing:
            out.append(existing.replace("%Y", "%y"))
        elif "%y" in existing:
            out.append(existing.replace("%y", "%Y"))
    return out


def parse_naive(cells: npt.NDArray[np.object_], fmt: str) -> npt.NDArray[np.int64]:
    """Local wall times of cells in ``fmt`` [µs]; NAT where a cell cannot be read."""
    out, ok = _fixed_width(cells, fmt)
    rest = np.flatnonzero(~ok)
    if rest.size:
        out[rest] = _pandas_naive(cells[rest], _family(fmt))
    return out


def parse_times(columns: Sequence[npt.NDArray[np.object_]], spec: TimeSpec, tz: str) -> TimeParse:
    """Timestamps of all rows as UTC, with a code per row that cannot be used.

    columns: the raw cells of ``spec.columns`` (object arrays, NaN for empty cells)
    tz: zone of naive local times (e.g. "Europe/Berlin"); ignored when the cells carry offsets
    """
    first, empty = _as_cells(columns[0])
    n = len(first)
    code = np.zeros(n, dtype=np.uint8)
    if spec.part_formats is not None:
        second, empty_time = _as_cells(columns[1])
        empty = empty | empty_time
        date_us, date_ok = _fixed_width(first, spec.part_formats[0])
        time_us, time_ok = _fixed_width(second, spec.part_formats[1])
        local = np.where(date_ok & time_ok, date_us + time_us, NAT)
        rest = np.flatnonzero(~(date_ok & time_ok) & ~empty)
        if rest.size:
            joined = np.array([f"{first[i].strip()} {second[i].strip()}" for i in rest], dtype=object)
            formats = [
                f"{d} {t}"
                for d in _family(spec.part_formats[0])
                for t in (spec.part_formats[1], *_ALTERNATES.get(spec.part_formats[1], ()))
            ]
            local[rest] = _pandas_naive(joined, formats)
    else:
        if spec.date_format in ("epoch_s", "epoch_ms"):
            scale = US_PER_S if spec.date_format == "epoch_s" else 1000
            seconds = pd.to_numeric(pd.Series(first, dtype=object), errors="coerce").to_numpy(
                dtype=np.float64
            )
            finite = np.isfinite(seconds) & (np.abs(seconds) < 1e16)
            local = np.where(finite, np.round(np.where(finite, seconds, 0) * scale), 0).astype(np.int64)
            local[~finite] = NAT
            local[(local < _MICROS_MIN) | (local >= _MICROS_MAX)] = NAT
        elif spec.zone == ZONE_OFFSET:
            return _parse_aware(first, empty, spec)
        else:
            local = parse_naive(first, spec.date_format)
    failed = np.flatnonzero(local == NAT)
    code[failed] = T_UNPARSEABLE
    # Blank cells (only spaces) among the failures count as empty, like missing ones.
    blank = [
        i for i in failed if not first[i].strip() or (spec.part_formats is not None and not second[i].strip())
    ]
    empty[blank] = True
    code[empty] = T_EMPTY
    local[empty] = NAT
    zone = spec.zone or tz
    utc, code, notes = localize(local, code, zone)
    return TimeParse(utc_us=utc, code=code, local_us=local, notes=notes)


def _parse_aware(cells: npt.NDArray[np.object_], empty: npt.NDArray[np.bool_], spec: TimeSpec) -> TimeParse:
    n = len(cells)
    code = np.zeros(n, dtype=np.uint8)
    parsed = pd.to_datetime(
        pd.Series(cells, dtype=object), format=spec.parse_format, utc=True, errors="coerce"
    )
    utc = _to_micros(parsed)
    rest = np.flatnonzero((utc == NAT) & ~empty)
    notes: dict[int, str] = {}
    if rest.size:
        stripped = np.array([cells[i].strip() for i in rest], dtype=object)
        again = _to_micros(
            pd.to_datetime(pd.Series(stripped, dtype=object), format="ISO8601", utc=True, errors="coerce")
        )
        for row, text, micros in zip(rest, stripped, again, strict=True):
            if micros == NAT:
                code[row] = T_UNPARSEABLE
            elif not _HAS_OFFSET.search(text):
                # pandas would read it as UTC; in a file of offsets a bare time is a guess we do not make.
                code[row] = T_NO_OFFSET
            else:
                utc[row] = micros
    code[empty] = T_EMPTY
    utc[code != T_OK] = NAT
    return TimeParse(utc_us=utc, code=code, local_us=utc.copy(), notes=notes)


def localize(
    local: npt.NDArray[np.int64], code: npt.NDArray[np.uint8], zone: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], dict[int, str]]:
    """Local wall times [µs] in ``zone`` → UTC [µs]; nonexistent and unresolvable ambiguous times coded.

    An autumn hour that occurs twice is resolved by row order: in a file running forward in time the
    first run through the hour is summer time (e.g. +02:00), the run after the clock went back is
    winter time (+01:00); a file running backwards is read the other way round. An hour that is not
    repeated, or repeated more than twice, cannot be resolved and is coded T_AMBIGUOUS.
    """
    code = code.copy()
    notes: dict[int, str] = {}
    valid = code == T_OK
    if zone == "UTC":
        return np.where(valid, local, NAT), code, notes
    index = pd.DatetimeIndex(np.where(valid, local, NAT).view("datetime64[us]"))
    aware = index.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    utc = aware.as_unit("us").asi8.copy()
    bad = np.flatnonzero(valid & (utc == NAT))
    if bad.size == 0:
        return utc, code, notes
    probe = pd.DatetimeIndex(local[bad].view("datetime64[us]")).tz_localize(
        zone, ambiguous=np.ones(bad.size, dtype=bool), nonexistent="NaT"
    )
    missing = probe.isna()
    code[bad[missing]] = T_NONEXISTENT
    ambiguous_rows = bad[~missing]
    if ambiguous_rows.size:
        ordered = local[valid & (code == T_OK)]
        steps = np.diff(ordered[ordered != NAT])
        forward = int((steps > 0).sum()) >= int((steps < 0).sum())
        summer = np.zeros(ambiguous_rows.size, dtype=bool)
        resolved = np.zeros(ambiguous_rows.size, dtype=bool)
        days = local[ambiguous_rows] // US_PER_DAY
        for day in np.unique(days):
            members = np.flatnonzero(days == day)
            sequence = local[ambiguous_rows[members]]
            if not forward:
                members, sequence = members[::-1], sequence[::-1]
            turns = np.flatnonzero(np.diff(sequence) <= 0)
            if turns.size == 1:
                summer[members[: turns[0] + 1]] = True
                resolved[members] = True
                continue
            why = (
                "it appears only once, so the file does not show whether summer or winter time is meant"
                if turns.size == 0
                else "it appears more than twice or out of order"
            )
            for member in members:
                notes[int(ambiguous_rows[member])] = why
        code[ambiguous_rows[~resolved]] = T_AMBIGUOUS
        rows = ambiguous_rows[resolved]
        if rows.size:
            fixed = pd.DatetimeIndex(local[rows].view("datetime64[us]")).tz_localize(
                zone, ambiguous=summer[resolved], nonexistent="NaT"
            )
            utc[rows] = fixed.as_unit("us").asi8
    utc[code != T_OK] = NAT
    return utc, code, notes


def format_local(micros: int) -> str:
    """A local wall time [µs] as "2024-10-27 02:15" (seconds only when not zero)."""
    stamp = pd.Timestamp(int(micros), unit="us")
    text: str = stamp.strftime("%Y-%m-%d %H:%M:%S" if stamp.second else "%Y-%m-%d %H:%M")
    return text
