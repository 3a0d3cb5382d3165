"""CSV exports of meters, loggers and grid portals (German and English) to normalized readings.

Dialect sniffed from the first lines, one pandas pass over the file, vectorized checks, bad rows as data.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import warnings
import zoneinfo
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from contest.errors import CsvFormatError, IngestError
from contest.readings import (
    DURATION_S,
    ENERGY_KWH,
    KIND,
    KIND_INTERVAL,
    KIND_REGISTER,
    LINE_NO,
    TS_UTC,
    Rejection,
)
from contest.units import DEFAULT_GAS, GasFactors, energy_factor_to_kwh
from ingest.csv_columns import EMPTY_CELLS, obis_code
from ingest.csv_plan import ValuePlan, plan_values
from ingest.csv_sniff import CsvLayout, is_comment, sniff_layout
from ingest.csv_text import CsvBytes, count_lines, decode_csv_bytes, line_starts, line_text, sample_lines
from ingest.csv_time import (
    T_AMBIGUOUS,
    T_EMPTY,
    T_NO_OFFSET,
    T_NONEXISTENT,
    T_OK,
    US_PER_S,
    ZONE_OFFSET,
    TimeParse,
    TimeSpec,
    find_time_spec,
    format_local,
    parse_times,
)
from scoring.registers import BACKWARDS, SPIKE, judge_series

CARRIERS = ("electricity", "gas", "heat")
MARKS = ("start", "end")

#: A generic column ("Wert") is a register when it never falls and its values dwarf its steps [1].
REGISTER_VALUE_TO_STEP = 20.0

# Row codes for values (0 = usable); time codes come from ingest.csv_time.
_V_EMPTY = 1
_V_NAN = 2
_V_UNIT = 3
_V_OTHER_REGISTER = 4
_V_NEGATIVE = 5
_V_DUPLICATE = 6
_V_BACKWARDS = 7
_V_SPIKE = 8
#: Row codes of the register readings the register rule (scoring.registers) rejects here.
_V_REGISTER = {BACKWARDS: _V_BACKWARDS, SPIKE: _V_SPIKE}


@dataclass(frozen=True, slots=True)
class CsvDialect:
    """What was detected in a CSV file (shown to the user in the upload preview).

    encoding: "utf-8", "utf-8-sig" (with BOM), "cp1252", "latin-1" or "utf-16"
    separator: field separator
    decimal: decimal mark
    thousands: thousands separator used when reading numbers, None when none
    header_line: 1-based line of the header row (column names); 0 when the file has no header
    timestamp_columns: one datetime column, or a date column and a time column
    date_format: strftime format used, "ISO8601" for values with UTC offsets, "epoch_s"/"epoch_ms"
    timestamp_marks: "start" | "end" of the interval; "instant" for register readings
    value_columns: energy column(s) used (summed, e.g. two tariff registers)
    unit: unit as found ("kWh", "Wh", "m³", ...)
    kind: "register" | "interval"
    interval_s: interval length [s] for interval data (most common step), None for registers
    ignored_columns: (column, why it is not used)
    """

    encoding: str
    separator: str
    decimal: str
    thousands: str | None
    header_line: int
    timestamp_columns: tuple[str, ...]
    date_format: str
    timestamp_marks: str
    value_columns: tuple[str, ...]
    unit: str
    kind: str
    interval_s: float | None
    ignored_columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    """Readings of one CSV file.

    readings: one row per usable line, sorted by ts_utc, with
        ts_utc: register: time of reading; interval: start of the interval [UTC, tz-aware, µs]
        energy_kwh: register: counter value [kWh]; interval: energy in the interval [kWh]
        kind: "register" | "interval"
        duration_s: interval length [s]; NaN for registers
        line_no: 1-based physical line in the file
    rejections: every unusable data row with its line, raw text and reason, in line order
    dialect: what was detected
    rows_read: data rows seen (not counting preamble, header, blank and comment lines)
    """

    readings: pd.DataFrame
    rejections: tuple[Rejection, ...]
    dialect: CsvDialect
    rows_read: int


def read_csv(
    path: str | os.PathLike[str],
    *,
    tz: str = "Europe/Berlin",
    carrier: str = "electricity",
    gas: GasFactors = DEFAULT_GAS,
    value_column: str | None = None,
    kind: str | None = None,
    unit: str | None = None,
    timestamp_marks: str | None = None,
) -> ParsedCsv:
    """Read the CSV file at ``path`` and parse it with :func:`parse_csv` (same keyword arguments)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return parse_csv(
        data,
        tz=tz,
        carrier=carrier,
        gas=gas,
        value_column=value_column,
        kind=kind,
        unit=unit,
        timestamp_marks=timestamp_marks,
    )


def parse_csv(
    data: bytes,
    *,
    tz: str = "Europe/Berlin",
    carrier: str = "electricity",
    gas: GasFactors = DEFAULT_GAS,
    value_column: str | None = None,
    kind: str | None = None,
    unit: str | None = None,
    timestamp_marks: str | None = None,
) -> ParsedCsv:
    """Readings of a CSV export of energy data.

    data: the file's bytes (UTF-8 with or without BOM, Windows-1252/Latin-1, UTF-16 with BOM)
    tz: IANA zone of timestamps without offset, e.g. "Europe/Berlin"
    carrier: "electricity" | "gas" | "heat": which energy columns count
    gas: Brennwert and Zustandszahl to turn gas volumes [m³] into energy [kWh]
    value_column: name of the energy column to use instead of the detected one
    kind: "register" | "interval" instead of the detected kind
    unit: unit of the energy column(s) ("kWh", "Wh", "m³") instead of the detected one
    timestamp_marks: "start" | "end": which end of the interval the timestamps stamp

    Raises :class:`CsvFormatError` when the file as a whole cannot be used (empty, not text, no
    timestamp or energy column, unknown unit, no data rows); single bad rows become rejections.
    """
    _check_arguments(tz, carrier, gas, kind, unit, timestamp_marks)
    csv_bytes = decode_csv_bytes(data)
    layout = sniff_layout(sample_lines(csv_bytes))
    time_spec = find_time_spec(layout.names, [layout.column(i) for i in range(len(layout.names))])
    if time_spec is None:
        raise CsvFormatError(
            "no timestamp column: no column holds dates such as 2024-01-31 12:00 or 31.01.2024 12:00 "
            f"(columns: {', '.join(map(repr, layout.names))})",
            key="csv.no_timestamp_column",
        )
    plan = plan_values(
        layout, time_spec, carrier=carrier, gas=gas, value_column=value_column, unit=unit, kind=kind
    )
    frame = _read_table(csv_bytes, layout, time_spec, plan)
    return _build(
        csv_bytes,
        layout,
        time_spec,
        plan,
        frame,
        tz=tz,
        gas=gas,
        kind=kind,
        timestamp_marks=timestamp_marks,
        explicit_column=value_column is not None,
    )


def _check_arguments(
    tz: str, carrier: str, gas: GasFactors, kind: str | None, unit: str | None, marks: str | None
) -> None:
    if carrier not in CARRIERS:
        raise CsvFormatError(
            f"carrier must be one of {', '.join(CARRIERS)}, got {carrier!r}", key="csv.argument"
        )
    if kind not in (None, KIND_REGISTER, KIND_INTERVAL):
        raise CsvFormatError(f"kind must be 'register' or 'interval', got {kind!r}", key="csv.argument")
    if marks not in (None, *MARKS):
        raise CsvFormatError(f"timestamp_marks must be 'start' or 'end', got {marks!r}", key="csv.argument")
    if not isinstance(gas, GasFactors):
        raise CsvFormatError(f"gas must be GasFactors, got {type(gas).__name__}", key="csv.argument")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CsvFormatError(
            f"unknown time zone {tz!r}; use an IANA name such as 'Europe/Berlin'", key="csv.argument"
        ) from exc
    if unit is not None:
        try:
            energy_factor_to_kwh(unit, gas)
        except IngestError as exc:
            raise CsvFormatError(
                f"unit {unit!r} is not an energy unit (need Wh, kWh, MWh or m³ of gas)",
                key="csv.unknown_unit",
            ) from exc


def _read_table(csv_bytes: CsvBytes, layout: CsvLayout, time_spec: TimeSpec, plan: ValuePlan) -> pd.DataFrame:
    """All data rows of the used columns, one frame row per physical line after the header."""
    text_columns = set(time_spec.columns)
    for extra in (plan.unit_column, plan.obis_column):
        if extra is not None:
            text_columns.add(extra)
    used = sorted(text_columns | set(plan.value_columns))
    skip = layout.first_data_line - 1
    expected = count_lines(csv_bytes.data) - skip
    options: dict[str, object] = {
        "sep": layout.separator,
        "header": None,
        "names": list(range(len(layout.names))),
        "usecols": used,
        "skiprows": skip,
        # Blank lines stay rows so that row i is physical line first_data_line + i.
        "skip_blank_lines": False,
        "skipinitialspace": True,
        "dtype": {i: object for i in text_columns},
        "decimal": layout.decimal,
        "thousands": layout.thousands,
        "encoding": csv_bytes.codec,
        "encoding_errors": "replace",
        "engine": "c",
    }
    if expected <= 0:
        raise CsvFormatError(
            f"no data rows after the header on line {layout.header_line}", key="csv.no_data_rows"
        )
    for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
        try:
            with warnings.catch_warnings():
                # Chunks of a column may come back with different types; _numbers reads mixed columns.
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                frame = pd.read_csv(io.BytesIO(csv_bytes.data), quoting=quoting, **options)
        except Exception:
            # Whatever pandas' tokenizer throws means the same: this reading of the file does not work.
            continue
        # A quote left open swallows line breaks; reading quotes as plain text keeps one row per line.
        if len(frame) == expected:
            return frame
    raise CsvFormatError(
        "the rows of this file cannot be told apart (unbalanced quotes?)", key="csv.unreadable"
    )


def _numbers(column: pd.Series, layout: CsvLayout) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8]]:
    """Values of one energy column as float, and a code per row (_V_EMPTY, _V_NAN)."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(values)
    else:
        values, empty = _numbers_from_text(column.to_numpy(dtype=object), layout)
    code = np.zeros(len(values), dtype=np.uint8)
    code[~np.isfinite(values)] = _V_NAN
    code[empty] = _V_EMPTY
    return values, code


def _numbers_from_text(
    cells: npt.NDArray[np.object_], layout: CsvLayout
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(values, empty) of a column pandas could not read as numbers.

    Some cell is not a plain number for pandas ("-", a stray quote, "1.5" in a decimal-comma file), or
    chunks came back mixed (floats and text): the text cells are cleaned once with vectorized string
    operations; cells pandas already read as numbers are kept as they are.
    """
    n = len(cells)
    missing = pd.isna(cells)
    is_text = np.fromiter((type(c) is str for c in cells), dtype=bool, count=n)
    values = np.full(n, np.nan)
    numeric = ~is_text & ~missing
    if numeric.any():
        values[numeric] = pd.to_numeric(pd.Series(cells[numeric], dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    empty = missing.copy()
    text_rows = np.flatnonzero(is_text)
    if text_rows.size:
        text = pd.Series(cells[text_rows], dtype=object).str.strip()
        empty[text_rows] = text.str.lower().isin(EMPTY_CELLS).to_numpy()
        cleaned = text.str.replace('"', "", regex=False).str.replace("'", "", regex=False)
        if layout.thousands:
            cleaned = cleaned.str.replace(layout.thousands, "", regex=False)
        if layout.decimal != ".":
            cleaned = cleaned.str.replace(layout.decimal, ".", regex=False)
        values[text_rows] = pd.to_numeric(cleaned, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    values[empty] = np.nan
    return values, empty


def _factors(column: pd.Series, gas: GasFactors) -> tuple[npt.NDArray[np.float64], str]:
    """kWh factor per row from a unit column (NaN where the unit is missing or not energy), main unit."""
    # pint runs once per distinct unit text, not once per row.
    codes, uniques = pd.factorize(column.to_numpy(dtype=object))
    table = np.full(len(uniques) + 1, np.nan)  # the extra last entry serves code -1 (empty cell)
    for k, text in enumerate(uniques):
        with contextlib.suppress(IngestError):
            table[k] = energy_factor_to_kwh(str(text).strip(), gas)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    usable = [k for k in range(len(uniques)) if np.isfinite(table[k])]
    main = str(uniques[max(usable, key=lambda k: counts[k])]).strip() if usable else ""
    return table[codes], main


class _Lines:
    """Raw text of physical lines, located on first use (only rejected rows need it)."""

    def __init__(self, csv_bytes: CsvBytes) -> None:
        self._csv_bytes = csv_bytes
        self._starts: npt.NDArray[np.int64] | None = None
        self._seen: dict[int, str] = {}

    def text(self, line_index: int) -> str:
        """Text of the physical line with 0-based index ``line_index`` ("" past the end)."""
        if line_index not in self._seen:
            if self._starts is None:
                self._starts = line_starts(self._csv_bytes.data)
            in_file = line_index < len(self._starts)
            self._seen[line_index] = line_text(self._csv_bytes, self._starts, line_index) if in_file else ""
        return self._seen[line_index]


def _build(
    csv_bytes: CsvBytes,
    layout: CsvLayout,
    time_spec: TimeSpec,
    plan: ValuePlan,
    frame: pd.DataFrame,
    *,
    tz: str,
    gas: GasFactors,
    kind: str | None,
    timestamp_marks: str | None,
    explicit_column: bool,
) -> ParsedCsv:
    n = len(frame)
    names = layout.names
    first_line = layout.first_data_line
    lines = _Lines(csv_bytes)
    time_cells = [frame[i].to_numpy(dtype=object) for i in time_spec.columns]
    times = parse_times(time_cells, time_spec, tz)
    values = _energy(frame, plan, layout, gas)
    energy, vcode, vcolumn = values.energy_kwh, values.code, values.column

    # Rows that fail so far: blank and comment lines are not data rows at all.
    not_data = np.zeros(n, dtype=bool)
    for row in np.flatnonzero((times.code != T_OK) | (vcode != 0)):
        text = lines.text(first_line - 1 + int(row))
        if not text.replace(layout.separator, "").strip() or is_comment(text):
            not_data[row] = True
    rows_read = int(n - not_data.sum())
    if rows_read == 0:
        raise CsvFormatError(
            f"no data rows after the header on line {layout.header_line}", key="csv.no_data_rows"
        )
    usable = (times.code == T_OK) & (vcode == 0)

    # Kind: override, then header or known export, then the data: a column that never falls and whose
    # values dwarf its steps is a meter reading.
    decided = kind or plan.kind
    if decided is None:
        decided = (
            KIND_REGISTER if _looks_like_register(times.utc_us[usable], energy[usable]) else KIND_INTERVAL
        )
    negative = usable & (energy < 0)
    vcode[negative] = _V_NEGATIVE
    usable &= ~negative

    # Duplicate instants: the first row in file order wins.
    rows = np.flatnonzero(usable)
    duplicate_of: dict[int, int] = {}
    stamps = pd.Series(times.utc_us[rows])
    dup = stamps.duplicated(keep="first").to_numpy()
    if dup.any():
        first_rows = dict(zip(stamps[~dup].to_numpy().tolist(), rows[~dup].tolist(), strict=True))
        for row, stamp in zip(rows[dup].tolist(), stamps[dup].to_numpy().tolist(), strict=True):
            duplicate_of[row] = first_rows[stamp]
        vcode[rows[dup]] = _V_DUPLICATE
        rows = rows[~dup]
    rows = rows[np.argsort(times.utc_us[rows], kind="stable")]

    previous: dict[int, tuple[int, float]] = {}
    interval_s: float | None = None
    if decided == KIND_REGISTER:
        marks = "instant"
        # The one register rule (scoring.registers): resets and rollovers are kept; a reading that went
        # backwards or a spike is rejected and the next judged without it. A rise too fast is judged
        # here too, so that the readings after it are judged without it, but it is rejected with the
        # bounds of every reading (ReadingService.out_of_bounds, from the last stored reading on).
        judged = judge_series(times.utc_us[rows], energy[rows])
        broken = np.isin(judged.verdict, list(_V_REGISTER))
        for k in np.flatnonzero(broken).tolist():
            vcode[rows[k]] = _V_REGISTER[int(judged.verdict[k])]
            p = int(judged.ref[k])
            if p >= 0:
                previous[int(rows[k])] = (int(rows[p]), float(energy[rows[p]]))
        rows = rows[~broken]
        if not explicit_column and rows.size and not np.any(energy[rows] != 0):
            columns = ", ".join(repr(names[i]) for i in values.columns)
            raise CsvFormatError(
                f"no consumption recorded: the meter reading {columns} is 0 or empty on every row "
                f"({rows_read} rows; a PV inverter export without a grid meter?); pass value_column to "
                "import it anyway",
                key="csv.no_consumption",
            )
        start_us = times.utc_us[rows]
        duration = np.full(rows.size, np.nan)
    else:
        marks = timestamp_marks or time_spec.marks_hint or "start"
        interval_s, start_us, duration = _intervals(times.utc_us[rows], time_spec, tz, marks)

    readings = pd.DataFrame(
        {
            TS_UTC: pd.DatetimeIndex(start_us.view("datetime64[us]")).tz_localize("UTC"),
            ENERGY_KWH: energy[rows].astype(np.float64),
            KIND: pd.Series([decided] * int(rows.size), dtype="str"),
            DURATION_S: duration.astype(np.float64),
            LINE_NO: (rows + first_line).astype(np.int64),
        }
    )
    # End stamps shifted by calendar steps keep their order too, but sorting costs little and makes sure.
    readings = readings.sort_values(TS_UTC, kind="stable", ignore_index=True)

    context = _RejectionContext(
        times,
        time_cells,
        time_spec,
        frame,
        vcode,
        vcolumn,
        energy,
        names,
        layout,
        tz,
        duplicate_of,
        previous,
        first_line,
        decided,
    )
    bad = np.flatnonzero(((times.code != T_OK) | (vcode != 0)) & ~not_data)
    rejections = tuple(context.rejection(int(row), lines.text(first_line - 1 + int(row))) for row in bad)
    dialect = CsvDialect(
        encoding=csv_bytes.encoding,
        separator=layout.separator,
        decimal=layout.decimal,
        thousands=layout.thousands,
        header_line=layout.header_line,
        timestamp_columns=tuple(names[i] for i in time_spec.columns),
        date_format=time_spec.date_format,
        timestamp_marks=marks,
        value_columns=tuple(names[i] for i in values.columns),
        unit=values.unit_label,
        kind=decided,
        interval_s=interval_s,
        ignored_columns=tuple(plan.ignored) + values.ignored,
    )
    return ParsedCsv(readings=readings, rejections=rejections, dialect=dialect, rows_read=rows_read)


@dataclass(frozen=True, slots=True)
class _Energy:
    """Energy per row [kWh] summed over the value columns, with a code and the column a code is about."""

    energy_kwh: npt.NDArray[np.float64]
    code: npt.NDArray[np.uint8]
    column: npt.NDArray[np.int64]
    columns: tuple[int, ...]
    unit_label: str
    ignored: tuple[tuple[str, str], ...]


def _energy(frame: pd.DataFrame, plan: ValuePlan, layout: CsvLayout, gas: GasFactors) -> _Energy:
    n = len(frame)
    energy = np.zeros(n, dtype=np.float64)
    vcode = np.zeros(n, dtype=np.uint8)
    vcolumn = np.full(n, -1, dtype=np.int64)
    unit_label = ""
    row_factor: npt.NDArray[np.float64] | None = None
    if plan.unit_column is not None:
        row_factor, unit_label = _factors(frame[plan.unit_column], gas)
    parsed = [
        (index, *_numbers(frame[index], layout), unit)
        for index, unit in zip(plan.value_columns, plan.units, strict=True)
    ]
    ignored: list[tuple[str, str]] = []
    if len(parsed) > 1:
        # A tariff register that is empty in the whole file is absent, not missing on every row.
        present = [p for p in parsed if not (p[2] == _V_EMPTY).all()]
        if present and len(present) < len(parsed):
            kept = {p[0] for p in present}
            ignored = [
                (layout.names[p[0]], "tariff register without values") for p in parsed if p[0] not in kept
            ]
            parsed = present
    for index, values, code, unit in parsed:
        if unit is None:
            assert row_factor is not None
            factor: npt.NDArray[np.float64] | float = row_factor
            code = code.copy()
            code[~np.isfinite(row_factor) & (code == 0)] = _V_UNIT
            unit_column_code = code == _V_UNIT
        else:
            factor = energy_factor_to_kwh(unit, gas)
            unit_column_code = np.zeros(n, dtype=bool)
            if unit not in unit_label.split("+"):
                unit_label = f"{unit_label}+{unit}" if unit_label else unit
        fresh = (vcode == 0) & (code != 0)
        vcode[fresh] = code[fresh]
        vcolumn[fresh] = index
        if plan.unit_column is not None:
            vcolumn[fresh & unit_column_code] = plan.unit_column
        energy += np.where(code == 0, values * factor, 0.0)
    if plan.obis_column is not None:
        _filter_obis(frame[plan.obis_column], vcode, vcolumn, plan.obis_column)
    return _Energy(energy, vcode, vcolumn, tuple(p[0] for p in parsed), unit_label, tuple(ignored))


def _filter_obis(
    column: pd.Series, vcode: npt.NDArray[np.uint8], vcolumn: npt.NDArray[np.int64], index: int
) -> None:
    """Reject rows of other registers than consumption (1.8.0, or the most common 1.8.x without it)."""
    codes, uniques = pd.factorize(column.astype(object))
    parsed = [obis_code(str(u)) for u in uniques]
    imports = [k for k, p in enumerate(parsed) if p is not None and p[0] == 1 and p[1] == 8]
    if not imports:
        return  # no OBIS code for consumption at all: the column means something else
    totals = [k for k in imports if parsed[k] is not None and parsed[k][2] == 0]  # type: ignore[index]
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    keep = totals[0] if totals else max(imports, key=lambda k: counts[k])
    other = (codes != keep) & (vcode == 0)
    vcode[other] = _V_OTHER_REGISTER
    vcolumn[other] = index


def _looks_like_register(utc_us: npt.NDArray[np.int64], energy: npt.NDArray[np.float64]) -> bool:
    if energy.size < 2:
        return False
    values = energy[np.argsort(utc_us, kind="stable")]
    steps = np.diff(values)
    if (steps < 0).sum() > 0.05 * steps.size:
        return False  # interval values go up and down; a register falls only at a reset or a glitch
    rising = steps[steps > 0]
    if rising.size == 0:
        return False
    return bool(np.median(values) > REGISTER_VALUE_TO_STEP * np.median(rising))


def _intervals(
    stamps_us: npt.NDArray[np.int64], time_spec: TimeSpec, tz: str, marks: str
) -> tuple[float | None, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(interval length [s], start of each interval [µs UTC], duration of each [s]) of time-sorted stamps.

    The length is the most common step between readings. Daily and monthly data follow the calendar
    of their zone (23 h and 25 h days at DST changes); other steps are fixed.
    """
    if stamps_us.size == 0:
        return None, stamps_us, np.zeros(0)
    steps = np.diff(stamps_us)
    steps = steps[steps > 0]
    if steps.size:
        lengths, counts = np.unique(steps, return_counts=True)
        step_s = float(lengths[np.argmax(counts)]) / US_PER_S
    elif "%H" not in time_spec.date_format and time_spec.date_format not in (
        "ISO8601",
        "epoch_s",
        "epoch_ms",
    ):
        step_s = 86_400.0  # a date without a time stamps a whole day
    else:
        raise CsvFormatError(
            "cannot tell the interval length from a single reading; add more rows or pass kind='register'",
            key="csv.interval_unknown",
        )
    zone = time_spec.zone if time_spec.zone not in (None, ZONE_OFFSET) else tz
    if 82_800 <= step_s <= 90_000:
        calendar: pd.DateOffset | None = pd.DateOffset(days=1)
        step_s = 86_400.0  # reported as the nominal day; each reading gets its real length below
    elif 28 * 86_400 <= step_s <= 31 * 86_400:
        calendar = pd.DateOffset(months=1)
    else:
        calendar = None
    if calendar is None:
        step_us = round(step_s * US_PER_S)
        starts = stamps_us - step_us if marks == "end" else stamps_us
        return step_s, starts, np.full(stamps_us.size, step_s)
    local = (
        pd.DatetimeIndex(stamps_us.view("datetime64[us]"))
        .tz_localize("UTC")
        .tz_convert(zone)
        .tz_localize(None)
    )
    other = local - calendar if marks == "end" else local + calendar
    other_utc = other.tz_localize(
        zone, ambiguous=np.ones(len(other), dtype=bool), nonexistent="shift_forward"
    )
    other_us = other_utc.as_unit("us").asi8
    starts = other_us if marks == "end" else stamps_us
    ends = stamps_us if marks == "end" else other_us
    return step_s, starts, (ends - starts).astype(np.float64) / US_PER_S


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class _RejectionContext:
    """Everything needed to say why a row was rejected."""

    times: TimeParse
    time_cells: list[npt.NDArray[np.object_]]
    time_spec: TimeSpec
    frame: pd.DataFrame
    vcode: npt.NDArray[np.uint8]
    vcolumn: npt.NDArray[np.int64]
    energy: npt.NDArray[np.float64]
    names: tuple[str, ...]
    layout: CsvLayout
    tz: str
    duplicate_of: dict[int, int]
    previous: dict[int, tuple[int, float]]
    first_line: int
    kind: str

    def rejection(self, row: int, raw: str) -> Rejection:
        """The Rejection of data row ``row`` (0-based) whose line reads ``raw``."""
        line_no = self.first_line + row
        time_code = int(self.times.code[row])
        if self.layout.header_text and raw.strip() == self.layout.header_text:
            return Rejection(line_no, raw, "repeated header row", "csv.repeated_header")
        if time_code != T_OK:
            reason, key = self._time_reason(row, time_code)
            return Rejection(line_no, raw, reason, key)
        reason, key = self._value_reason(row, int(self.vcode[row]))
        return Rejection(line_no, raw, reason, key)

    def _time_reason(self, row: int, code: int) -> tuple[str, str]:
        stamp = " ".join(_cell(cells[row]) for cells in self.time_cells).strip()
        if code == T_EMPTY:
            return "no timestamp", "csv.date_unparseable"
        if code == T_NONEXISTENT:
            local = format_local(int(self.times.local_us[row]))
            return (
                f"local time {local} does not exist in {self.tz} (the clocks skip this hour when summer "
                "time starts); not shifted",
                "csv.nonexistent_local_time",
            )
        if code == T_AMBIGUOUS:
            local = format_local(int(self.times.local_us[row]))
            why = self.times.notes.get(row, "the file does not say which")
            return (
                f"local time {local} occurs twice in {self.tz} (summer time ends) and {why}",
                "csv.ambiguous_local_time",
            )
        if code == T_NO_OFFSET:
            return (
                f"timestamp {stamp!r} has no UTC offset while the other rows have one",
                "csv.date_unparseable",
            )
        return (
            f"timestamp {stamp!r} does not match the date format {self.time_spec.date_format}",
            "csv.date_unparseable",
        )

    def _value_reason(self, row: int, code: int) -> tuple[str, str]:
        column_index = int(self.vcolumn[row])
        column = self.names[column_index] if column_index >= 0 else ""
        cell = _cell(self.frame[column_index].iloc[row]) if column_index >= 0 else ""
        energy = float(self.energy[row])
        if code == _V_EMPTY:
            return f"no value in column {column!r}", "csv.empty_value"
        if code == _V_NAN:
            return f"value {cell!r} in column {column!r} is not a number", "csv.value_not_a_number"
        if code == _V_UNIT:
            return f"unit {cell!r} in column {column!r} is not an energy unit", "csv.unit_not_energy"
        if code == _V_OTHER_REGISTER:
            return f"row is register {cell!r}, not the consumption register", "csv.other_register"
        if code == _V_NEGATIVE:
            if self.kind == KIND_INTERVAL:
                return f"negative energy {energy:g} kWh in an interval", "csv.negative_interval"
            return f"negative meter reading {energy:g} kWh", "csv.negative_register"
        if code == _V_DUPLICATE:
            first = self.duplicate_of.get(row, row)
            first_energy = float(self.energy[first])
            detail = (
                "identical value"
                if first_energy == energy
                else f"value {energy:g} kWh differs from {first_energy:g} kWh"
            )
            stamp = " ".join(_cell(cells[row]) for cells in self.time_cells).strip()
            return (
                f"duplicate timestamp {stamp!r}: line {self.first_line + first} has the same time "
                f"({detail}); the first is kept",
                "csv.duplicate_timestamp",
            )
        other_row, other_value = self.previous.get(row, (row, float("nan")))
        other_line = self.first_line + other_row
        if code == _V_SPIKE:
            return (
                f"register reading {energy:g} kWh is above the next reading {other_value:g} kWh "
                f"(line {other_line}), which continues from the one before: a spike",
                "csv.register_backwards",
            )
        if code == _V_BACKWARDS:
            return (
                f"register went backwards from {other_value:g} kWh (line {other_line}) to {energy:g} kWh",
                "csv.register_backwards",
            )
        return "row cannot be used", "csv.rejected"
