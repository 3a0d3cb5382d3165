"""CSV exports of meters, loggers and grid portals (German and English) to normalized readings.

Dialect sniffed from the first lines, one pandas pass over the file, vectorized checks, bad rows as data.
"""

from __future__ import annotations

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
from ingest.csv_plan import ValuePlan, plan_values
from ingest.csv_sniff import CsvLayout, is_comment, sniff_layout
from ingest.csv_text import CsvBytes, count_lines, decode_csv_bytes, line_starts, line_text, sample_lines
from ingest.csv_time import (
    T_OK,
    US_PER_S,
    ZONE_OFFSET,
    TimeSpec,
    find_time_spec,
    parse_times,
)
from ingest.csv_values import (
    V_DUPLICATE,
    V_NEGATIVE,
    V_REGISTER,
    RejectionContext,
    energy_columns,
)
from scoring.registers import judge_series

CARRIERS = ("electricity", "gas", "heat")
MARKS = ("start", "end")

#: A generic column ("Wert") is a register when it never falls and its values dwarf its steps [1].
REGISTER_VALUE_TO_STEP = 20.0


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
                # Chunks of a column may come back with different types; numbers reads mixed columns.
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
    values = energy_columns(frame, plan, layout, gas)
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
    vcode[negative] = V_NEGATIVE
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
        vcode[rows[dup]] = V_DUPLICATE
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
        broken = np.isin(judged.verdict, list(V_REGISTER))
        for k in np.flatnonzero(broken).tolist():
            vcode[rows[k]] = V_REGISTER[int(judged.verdict[k])]
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

    context = RejectionContext(
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
