"""The project's one pint registry and the unit conversions used at the edges.

pint is slow per value (tens of microseconds per Quantity), so callers resolve a column's unit once
with :func:`energy_factor_to_kwh` and multiply the whole column by the returned float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pint

from contest.errors import IngestError

#: Magnitudes in this project are plain floats (see the module docstring).
ureg: pint.UnitRegistry[float] = pint.UnitRegistry()
# Billing parameters of gas (DVGW G 685), defined as named quantities so the conversion
# E [kWh] = V_b [m³] x Z x H_s,eff [kWh/m³] reads as what it is.
ureg.define("zustandszahl = [] = Z")

#: Canonical energy unit of the project.
KWH = "kWh"

# How people write units in headers and unit columns -> a pint expression.
_UNIT_ALIASES: dict[str, str] = {
    "wh": "Wh",
    "kwh": "kWh",
    "mwh": "MWh",
    "gwh": "GWh",
    "m3": "m**3",
    "m³": "m**3",
    "cbm": "m**3",
    "nm3": "m**3",
    "nm³": "m**3",
    "kj": "kJ",
    "mj": "MJ",
    "gj": "GJ",
    "wmin": "W*min",
    "watt-minute": "W*min",
    "watt-minutes": "W*min",
}


@dataclass(frozen=True, slots=True)
class GasFactors:
    """Factors turning an operating volume of gas into energy (DVGW G 685).

    brennwert_kwh_per_m3: billing calorific value H_s,eff [kWh/m³]
    zustandszahl: state number Z [1]
    """

    brennwert_kwh_per_m3: float = 10.0
    zustandszahl: float = 0.9529

    def __post_init__(self) -> None:
        if not 5.0 <= self.brennwert_kwh_per_m3 <= 15.0:
            raise IngestError(
                f"Brennwert {self.brennwert_kwh_per_m3} kWh/m³ is outside 5-15 kWh/m³",
                key="units.brennwert_out_of_range",
            )
        if not 0.7 <= self.zustandszahl <= 1.2:
            raise IngestError(
                f"Zustandszahl {self.zustandszahl} is outside 0.7-1.2", key="units.zustandszahl_out_of_range"
            )


DEFAULT_GAS = GasFactors()


def normalize_unit_text(text: str) -> str:
    """Turn a unit as written in a file (``[kWh]``, ``(Wh)``, ``m³``) into a pint expression."""
    cleaned = re.sub(r"[\[\]()\s]", "", text).strip().lower()
    if cleaned in _UNIT_ALIASES:
        return _UNIT_ALIASES[cleaned]
    raise IngestError(f"unknown energy unit {text!r}", key="units.unknown")


@lru_cache(maxsize=256)
def energy_factor_to_kwh(unit: str, gas: GasFactors = DEFAULT_GAS) -> float:
    """Factor that turns a value in ``unit`` into kWh [kWh per unit].

    ``unit`` is as written in a file (``Wh``, ``[kWh]``, ``MWh``, ``m³``). Gas volumes are converted
    with ``gas`` (volume x Zustandszahl x Brennwert). Raises :class:`IngestError` for units that are
    not energy or gas volume (``W``, ``°C``).
    """
    expr = normalize_unit_text(unit)
    quantity = ureg.Quantity(1.0, expr)
    if quantity.check("[volume]"):
        brennwert = ureg.Quantity(gas.brennwert_kwh_per_m3, "kWh/m**3")
        z = ureg.Quantity(gas.zustandszahl, "zustandszahl")
        energy = quantity * z * brennwert
        return float(energy.to("kWh").magnitude)
    if quantity.check("[energy]"):
        return float(quantity.to("kWh").magnitude)
    raise IngestError(f"unit {unit!r} is not an energy or a gas volume", key="units.not_energy")


def is_energy_unit(unit: str) -> bool:
    """True when ``unit`` (as written in a file) is an energy or gas-volume unit."""
    try:
        energy_factor_to_kwh(unit)
    except IngestError:
        return False
    return True
