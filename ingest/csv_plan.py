"""Which columns of a CSV export carry the consumption of a carrier, in which unit, and which are ignored."""

from __future__ import annotations

from dataclasses import dataclass

from contest.errors import CsvFormatError, IngestError
from contest.units import GasFactors, energy_factor_to_kwh
from ingest.csv_columns import (
    ROLE_ENERGY,
    ROLE_IGNORED,
    ROLE_OBIS,
    ROLE_UNIT,
    ColumnRole,
    classify_column,
    find_units,
    fold,
    known_export,
)
from ingest.csv_sniff import CsvLayout
from ingest.csv_time import TimeSpec, column_time_format, marks_hint

_VOLUME_UNITS = frozenset({"m3", "m³", "cbm", "nm3", "nm³"})
# Ranking of a candidate's kind hint: consumption per interval first (it is what portals bill), then
# unmarked columns, then meter readings (Graz and ClamStrom put both side by side).
_KIND_RANK = {
    ("interval", True): 0,
    (None, False): 1,
    ("register", True): 2,
    ("register", False): 3,
    ("interval", False): 1,
}


@dataclass(frozen=True, slots=True)
class ValuePlan:
    """The energy columns to read and how.

    value_columns: 0-based columns whose values are summed (one column, or tariff registers)
    units: unit per value column as written ("kWh", "m³"); None → from the unit column per row
    unit_column: column naming each row's unit ("Einheit"), or None
    obis_column: column naming each row's OBIS register, or None (rows of other registers are rejected)
    kind: "register" | "interval" when header, override or a known export says; None → the data decide
    ignored: (column, why) for every named column not used
    source: known export the units came from ("dsmr-reader"), "" otherwise
    """

    value_columns: tuple[int, ...]
    units: tuple[str | None, ...]
    unit_column: int | None
    obis_column: int | None
    kind: str | None
    ignored: tuple[tuple[str, str], ...]
    source: str = ""


def find_column(names: tuple[str, ...], wanted: str) -> int | None:
    """Index of the column called ``wanted`` (exact, then case-insensitive, then umlaut-folded), or None."""
    for match in (
        lambda n: n == wanted,
        lambda n: n.casefold() == wanted.casefold(),
        lambda n: fold(n) == fold(wanted),
    ):
        for index, name in enumerate(names):
            if match(name):
                return index
    return None


def plan_values(
    layout: CsvLayout,
    time_spec: TimeSpec,
    *,
    carrier: str,
    gas: GasFactors,
    value_column: str | None,
    unit: str | None,
    kind: str | None,
) -> ValuePlan:
    """Choose the energy column(s) for ``carrier``; raise :class:`CsvFormatError` when there is none.

    Overrides (``value_column``, ``unit``, ``kind``) win over what the header says.
    """
    names = layout.names
    time_columns = set(time_spec.columns)
    roles: list[ColumnRole] = []
    ignored: list[tuple[str, str]] = []
    for index, name in enumerate(names):
        if index in time_columns:
            continue
        cells = layout.column(index)
        if column_time_format(cells, name) is not None:
            end = marks_hint(name) == "end"
            ignored.append(
                (name, "interval end; the start column is used" if end else "another timestamp column")
            )
            continue
        unit_cell = layout.units_row[index] if layout.units_row else None
        roles.append(classify_column(index, name, unit_cell, cells))
    export = known_export(",".join(names))
    by_index = {r.index: r for r in roles}
    unit_columns = [r.index for r in roles if r.role == ROLE_UNIT]
    obis_columns = [r.index for r in roles if r.role == ROLE_OBIS]

    if value_column is not None:
        wanted = find_column(names, value_column)
        if wanted is None:
            raise CsvFormatError(
                f"no column named {value_column!r}; the columns are {', '.join(map(repr, names))}",
                key="csv.no_such_column",
            )
        if wanted in time_columns:
            raise CsvFormatError(
                f"column {value_column!r} is the timestamp column, not energy", key="csv.no_such_column"
            )
        role = by_index.get(wanted)
        if role is None or role.role != ROLE_ENERGY:
            unit_cell = layout.units_row[wanted] if layout.units_row else None
            found = find_units(names[wanted])[0] or (find_units(unit_cell)[0] if unit_cell else None)
            role = ColumnRole(wanted, names[wanted], ROLE_ENERGY, unit=found)
        chosen = [role]
        not_chosen = [r for r in roles if r.role == ROLE_ENERGY and r.index != wanted]
        why_not = f"another energy column; {names[wanted]!r} was chosen"
        not_chosen_why = {r.index: why_not for r in not_chosen}
    else:
        candidates: list[ColumnRole] = []
        for role in roles:
            if role.role != ROLE_ENERGY:
                continue
            if role.carrier is not None and role.carrier != carrier:
                ignored.append((role.name, f"{role.carrier} column; the carrier is {carrier}"))
            elif carrier == "electricity" and role.unit is not None and role.unit.lower() in _VOLUME_UNITS:
                ignored.append(
                    (role.name, f"volume [{role.unit}] (gas or water); the carrier is electricity")
                )
            else:
                candidates.append(role)
        if not candidates:
            raise _no_energy_error(
                carrier, ignored + [(r.name, r.why) for r in roles if r.role == ROLE_IGNORED]
            )
        chosen, not_chosen_why = _choose(candidates, carrier, kind)
        not_chosen = [r for r in candidates if r.index in not_chosen_why]

    for role in not_chosen:
        ignored.append((role.name, not_chosen_why[role.index]))
    chosen_indices = {r.index for r in chosen}
    for role in roles:
        if role.role == ROLE_IGNORED and role.index not in chosen_indices:
            if role.why == "empty column" and role.name.startswith("column_"):
                continue  # the empty field after a trailing separator is not worth a line in the preview
            ignored.append((role.name, role.why))

    units: list[str | None] = []
    unit_column = unit_columns[0] if unit_columns else None
    for role in chosen:
        if unit is not None:
            units.append(unit)
        elif role.unit is not None:
            units.append(role.unit)
        elif export is not None and (role.carrier or carrier) in export.units:
            units.append(export.units[role.carrier or carrier])
        elif unit_column is not None:
            units.append(None)
        else:
            raise CsvFormatError(
                f"no unit for column {role.name!r}: the header names none (such as [kWh] or (Wh)) and there "
                "is no unit column or units row; pass the unit explicitly",
                key="csv.unknown_unit",
            )
    for text in {u for u in units if u is not None}:
        try:
            energy_factor_to_kwh(text, gas)
        except IngestError as exc:
            raise CsvFormatError(
                f"unit {text!r} is not an energy unit (need Wh, kWh, MWh or m³ of gas)",
                key="csv.unknown_unit",
            ) from exc
    uses_unit_column = None in units
    for index in unit_columns:
        if not (uses_unit_column and index == unit_column):
            ignored.append((names[index], "unit column not needed: the unit is known from the header"))
    obis_column = None
    if obis_columns:
        if carrier == "electricity" and value_column is None and all(r.tariff is None for r in chosen):
            obis_column = obis_columns[0]
        for index in obis_columns:
            if index != obis_column:
                ignored.append((names[index], "OBIS code column, not needed"))

    if kind is None:
        hints = {r.kind_hint for r in chosen}
        if export is not None:
            kind = export.kind
        elif len(hints) == 1:
            kind = next(iter(hints))
    return ValuePlan(
        value_columns=tuple(r.index for r in chosen),
        units=tuple(units),
        unit_column=unit_column if uses_unit_column else None,
        obis_column=obis_column,
        kind=kind,
        ignored=tuple(ignored),
        source=export.name if export is not None else "",
    )


def _choose(
    candidates: list[ColumnRole], carrier: str, kind: str | None
) -> tuple[list[ColumnRole], dict[int, str]]:
    """Best energy column(s) among candidates, and why each other candidate is not used."""

    def rank(role: ColumnRole) -> tuple[int, int, int, int, int]:
        kind_rank = _KIND_RANK.get((role.kind_hint, role.strong_kind), 1)
        wrong_kind = 1 if kind is not None and role.kind_hint not in (None, kind) else 0
        return (
            wrong_kind,
            0 if role.carrier == carrier else 1,
            0 if role.has_values else 1,
            kind_rank,
            role.index,
        )

    ordered = sorted(candidates, key=rank)
    top = ordered[0]
    group = [
        r
        for r in ordered
        if rank(r)[:4] == rank(top)[:4]
        or (r.carrier == top.carrier and r.kind_hint == top.kind_hint and r.tariff is not None)
    ]
    totals = [r for r in group if r.tariff == "total"]
    tariffs = [r for r in group if r.tariff in ("1", "2")]
    if totals:
        chosen = [totals[0]]
    elif top.tariff in ("1", "2") and len({r.tariff for r in tariffs}) >= 2:
        chosen = tariffs  # tariff registers (HT + NT, "Electricity 1" + "Electricity 2") add up
    else:
        chosen = [top]
    names = ", ".join(repr(r.name) for r in chosen)
    why: dict[int, str] = {}
    for role in candidates:
        if role in chosen:
            continue
        if role.tariff in ("1", "2") and totals:
            why[role.index] = f"tariff register; the total {names} is used"
        elif role.kind_hint == "register" and chosen[0].kind_hint == "interval":
            why[role.index] = f"meter reading next to the consumption column {names}, which is used"
        elif role.kind_hint == "interval" and chosen[0].kind_hint == "register" and kind == "register":
            why[role.index] = f"consumption column; the meter reading {names} is used"
        else:
            why[role.index] = f"another energy column; {names} is used (choose one with value_column)"
    return chosen, why


def _no_energy_error(carrier: str, ignored: list[tuple[str, str]]) -> CsvFormatError:
    detail = "; ".join(f"{name!r}: {why}" for name, why in ignored) or "no other columns"
    return CsvFormatError(
        f"no {carrier} energy column: this file does not carry consumption energy ({detail})",
        key="csv.no_energy_column",
    )
