"""The value columns of a CSV file: numbers, units, a code per row, and why a row was rejected."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from contest.errors import IngestError
from contest.readings import (
    KIND_INTERVAL,
    Rejection,
)
from contest.units import GasFactors, energy_factor_to_kwh
from ingest.csv_columns import EMPTY_CELLS, obis_code
from ingest.csv_plan import ValuePlan
from ingest.csv_sniff import CsvLayout
from ingest.csv_time import (
    T_AMBIGUOUS,
    T_EMPTY,
    T_NO_OFFSET,
    T_NONEXISTENT,
    T_OK,
    TimeParse,
    TimeSpec,
    format_local,
)
from scoring.registers import BACKWARDS, SPIKE

# Row codes for values (0 = usable); time codes come from ingest.csv_time.
V_EMPTY = 1
V_NAN = 2
V_UNIT = 3
V_OTHER_REGISTER = 4
V_NEGATIVE = 5
V_DUPLICATE = 6
V_BACKWARDS = 7
V_SPIKE = 8
#: Row codes of the register readings the register rule (scoring.registers) rejects here.
V_REGISTER = {BACKWARDS: V_BACKWARDS, SPIKE: V_SPIKE}


def numbers(column: pd.Series, layout: CsvLayout) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8]]:
    """Values of one energy column as float, and a code per row (V_EMPTY, V_NAN)."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(values)
    else:
        values, empty = numbers_from_text(column.to_numpy(dtype=object), layout)
    code = np.zeros(len(values), dtype=np.uint8)
    code[~np.isfinite(values)] = V_NAN
    code[empty] = V_EMPTY
    return values, code


def numbers_from_text(
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


def unit_factors(column: pd.Series, gas: GasFactors) -> tuple[npt.NDArray[np.float64], str]:
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


@dataclass(frozen=True, slots=True)
class Energy:
    """Energy per row [kWh] summed over the value columns, with a code and the column a code is about."""

    energy_kwh: npt.NDArray[np.float64]
    code: npt.NDArray[np.uint8]
    column: npt.NDArray[np.int64]
    columns: tuple[int, ...]
    unit_label: str
    ignored: tuple[tuple[str, str], ...]


def energy_columns(frame: pd.DataFrame, plan: ValuePlan, layout: CsvLayout, gas: GasFactors) -> Energy:
    n = len(frame)
    energy = np.zeros(n, dtype=np.float64)
    vcode = np.zeros(n, dtype=np.uint8)
    vcolumn = np.full(n, -1, dtype=np.int64)
    unit_label = ""
    row_factor: npt.NDArray[np.float64] | None = None
    if plan.unit_column is not None:
        row_factor, unit_label = unit_factors(frame[plan.unit_column], gas)
    parsed = [
        (index, *numbers(frame[index], layout), unit)
        for index, unit in zip(plan.value_columns, plan.units, strict=True)
    ]
    ignored: list[tuple[str, str]] = []
    if len(parsed) > 1:
        # A tariff register that is empty in the whole file is absent, not missing on every row.
        present = [p for p in parsed if not (p[2] == V_EMPTY).all()]
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
            code[~np.isfinite(row_factor) & (code == 0)] = V_UNIT
            unit_column_code = code == V_UNIT
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
        filter_obis(frame[plan.obis_column], vcode, vcolumn, plan.obis_column)
    return Energy(energy, vcode, vcolumn, tuple(p[0] for p in parsed), unit_label, tuple(ignored))


def filter_obis(
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
    vcode[other] = V_OTHER_REGISTER
    vcolumn[other] = index


def cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class RejectionContext:
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
        stamp = " ".join(cell_text(cells[row]) for cells in self.time_cells).strip()
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
        cell = cell_text(self.frame[column_index].iloc[row]) if column_index >= 0 else ""
        energy = float(self.energy[row])
        if code == V_EMPTY:
            return f"no value in column {column!r}", "csv.empty_value"
        if code == V_NAN:
            return f"value {cell!r} in column {column!r} is not a number", "csv.value_not_a_number"
        if code == V_UNIT:
            return f"unit {cell!r} in column {column!r} is not an energy unit", "csv.unit_not_energy"
        if code == V_OTHER_REGISTER:
            return f"row is register {cell!r}, not the consumption register", "csv.other_register"
        if code == V_NEGATIVE:
            if self.kind == KIND_INTERVAL:
                return f"negative energy {energy:g} kWh in an interval", "csv.negative_interval"
            return f"negative meter reading {energy:g} kWh", "csv.negative_register"
        if code == V_DUPLICATE:
            first = self.duplicate_of.get(row, row)
            first_energy = float(self.energy[first])
            detail = (
                "identical value"
                if first_energy == energy
                else f"value {energy:g} kWh differs from {first_energy:g} kWh"
            )
            stamp = " ".join(cell_text(cells[row]) for cells in self.time_cells).strip()
            return (
                f"duplicate timestamp {stamp!r}: line {self.first_line + first} has the same time "
                f"({detail}); the first is kept",
                "csv.duplicate_timestamp",
            )
        other_row, other_value = self.previous.get(row, (row, float("nan")))
        other_line = self.first_line + other_row
        if code == V_SPIKE:
            return (
                f"register reading {energy:g} kWh is above the next reading {other_value:g} kWh "
                f"(line {other_line}), which continues from the one before: a spike",
                "csv.register_backwards",
            )
        if code == V_BACKWARDS:
            return (
                f"register went backwards from {other_value:g} kWh (line {other_line}) to {energy:g} kWh",
                "csv.register_backwards",
            )
        return "row cannot be used", "csv.rejected"
