"""Header vocabulary of meter exports (German and English): what each column of a CSV file holds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ROLE_ENERGY = "energy"
ROLE_UNIT = "unit"  # a column naming the unit of each row ("Einheit", "Unit")
ROLE_OBIS = "obis"  # a column naming the OBIS register of each row ("Obiscode")
ROLE_IGNORED = "ignored"

#: Cell texts that mean "no value" in exports (besides the empty cell).
EMPTY_CELLS = frozenset({"", "nan", "na", "n/a", "null", "none", "-", "--", "—", "#n/a", "#nv"})

_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:[.,' ]\d{3})+|\d+)?(?:[.,]\d+)?(?:[eE][-+]?\d+)?$")

_TOKEN = re.compile(r"[^\W_]+|°c|%", re.IGNORECASE)
_BRACKETED = re.compile(r"[\[(]([^\])]*)[\])]")
_ENERGY_TOKENS = frozenset({"wh", "kwh", "mwh", "gwh", "m3", "m³", "cbm", "nm3", "nm³", "kj", "mj", "gj"})
# Units that make a column "not energy"; one-letter units only count in brackets or as the last word.
_OTHER_UNITS = {
    "w": "power",
    "kw": "power",
    "mw": "power",
    "gw": "power",
    "va": "apparent power",
    "kva": "apparent power",
    "var": "reactive power",
    "kvar": "reactive power",
    "varh": "reactive energy",
    "kvarh": "reactive energy",
    "v": "voltage",
    "a": "current",
    "°c": "temperature",
    "hz": "frequency",
    "%": "a percentage",
    "l": "volume in litres",
}

_UNIT_COLUMN = re.compile(r"^(?:einheit|unit|units|masseinheit|messeinheit|dimension)$")
_OBIS_COLUMN = re.compile(r"^obis|obis[- ]?code|obiscode|kennzahl")
_OBIS = re.compile(r"(?:\b\d{1,3}-\d{1,3}:)?\b(\d{1,2})\.(\d{1,2})\.(\d)\b")

# (pattern on the folded header, why the column is not consumption energy), checked in order.
_NOT_ENERGY: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"qualit|quality|status|ersatzwert|\bflag|plausib|messwert:|\bval\b.*\best\b"),
        "not energy: quality or status flag",
    ),
    (
        re.compile(
            r"\btyp\b|\btype\b|anlage|zaehlpunkt|metering point|meter ?id|zaehlernummer|seriennummer|serial"
            r"|kommentar|comment|bemerkung|anzahl|\bcount\b|tuple|\bid\b|^name$"
        ),
        "not energy: metadata",
    ),
    (
        re.compile(r"restnetzbezug|eigendeckung|ideeller anteil|gemeinschaft|\beeg\b"),
        "energy-community share of the consumption, not the consumption itself",
    ),
    (
        re.compile(r"blindenergie|blindarbeit|blindleistung|reactive|kvarh|\bvarh\b|\bkvar\b"),
        "not active energy: reactive energy or power",
    ),
)
_NOT_ENERGY_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"temperat|\bgrad\b|°c"), "not energy: temperature"),
    (re.compile(r"spannung|voltage|\bvolt\b|\bmin v\b|\bmax v\b"), "not energy: voltage"),
    (re.compile(r"stromstaerke|current|ampere"), "not energy: current"),
    (re.compile(r"frequenz|frequency|\bhz\b"), "not energy: frequency"),
    (re.compile(r"cos ?phi|power ?factor|leistungsfaktor|\bpf\b"), "not energy: power factor"),
    (re.compile(r"leistung|\bpower\b|\bwatt\b|momentan|\bdemand\b"), "not energy: power"),
    (re.compile(r"preis|price|kosten|\bcost|\beur\b|€|betrag"), "not energy: money"),
    (re.compile(r"wasser|water"), "not energy: water"),
)
_EXPORT = re.compile(
    r"returned|rueckspeis|rueckgelief|einspeis|lieferung|\bfeed|export|erzeug|production|produktion|ertrag"
    r"|\byield|generation|\bpv\b|solar|whout|wh out|gemessene menge|\bout\b"
)
_STRONG_REGISTER = re.compile(
    r"zaehlerstand|zahlerstand|zaehlwerksstand|meter ?reading|\bregister\b|cumulative|kumuliert|\bcounter\b"
    r"|\bablesung|\bstand\b"
)
_INTERVAL = re.compile(r"verbrauch|consumption|usage|vorschub|energiemenge|\bmenge\b|\bdelta\b|intervall?\b")
_WEAK_REGISTER = re.compile(r"\btotal|totwh|abswh|\btot\b|\babs\b|1\.8\.\d|gesamtzaehler|lifetime")
_ENERGY_WORDS = re.compile(
    r"verbrauch|consumption|energ|zaehlerstand|zahlerstand|stand\b|reading|register|wert|value|bezug|import"
    r"|strom|electricity|elektr|gas|waerme|heat|arbeit|menge|vorschub|total|counter|zaehler|meter|usage"
    r"|delta|tarif|totwh|abswh"
)
_GAS = re.compile(r"(?<![a-z])gas|erdgas")
_HEAT = re.compile(r"waerme|heat|heiz")
_ELECTRICITY = re.compile(
    r"strom|electricity|elektr|wirkenergie|wirkarbeit|active energy|whin\b|netzbezug|1\.8\."
)
_TARIFF_NUMBER = re.compile(r"(?:electricity|tarif|tariff|zaehlwerk|register|\bt)\s*([12])\b")
_TARIFF_1 = re.compile(r"hochtarif|\bht\b|high tariff|\bpeak")
_TARIFF_2 = re.compile(r"niedertarif|\bnt\b|low tariff|off-?peak")
_TARIFF_TOTAL = re.compile(r"einheitstarif|gesamt|\btotal|summe")

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Header text for matching: lower case, umlauts spelled out (ä → ae), "_" and blank runs as one space."""
    return " ".join(text.lower().translate(_UMLAUTS).replace("_", " ").split())


def is_empty_cell(cell: str) -> bool:
    """True for cells that mean "no value" ("", "NaN", "-", ...)."""
    return cell.strip().lower() in EMPTY_CELLS


def is_number_cell(cell: str) -> bool:
    """True for cells that look like a number in any of the supported notations (1.234,5 / 1,234.5 / 12.5)."""
    text = cell.strip()
    return bool(text) and any(ch.isdigit() for ch in text) and bool(_NUMBER.match(text))


@dataclass(frozen=True, slots=True)
class ColumnRole:
    """What one column holds, as far as its header and sample cells tell.

    index: 0-based column position
    name: column name as shown to the user
    role: "energy" | "unit" | "obis" | "ignored"
    why: why the column is ignored (for the upload preview)
    unit: energy unit written in the header or units row, as found ("kWh", "[Wh]" → "Wh")
    carrier: carrier named by the header ("electricity" | "gas" | "heat"), None when generic
    kind_hint: "register" | "interval" from the header words, None when the header does not say
    strong_kind: the kind hint comes from an explicit word (Zählerstand, Verbrauch), not from "total"
    tariff: "total" | "1" | "2" for tariff registers, None otherwise
    has_values: the sample holds at least one non-empty cell in this column
    """

    index: int
    name: str
    role: str
    why: str = ""
    unit: str | None = None
    carrier: str | None = None
    kind_hint: str | None = None
    strong_kind: bool = False
    tariff: str | None = None
    has_values: bool = True


def find_units(text: str) -> tuple[str | None, str | None]:
    """(energy unit as written, other unit's meaning) named in a header or unit cell.

    ``"Verbrauch (kWh)"`` → ("kWh", None); ``"Leistung [W]"`` → (None, "power"); ``"Active energy Wh (A)"`` →
    ("Wh", None): an energy unit anywhere wins over a one-letter unit such as the phase label "(A)".
    """
    tokens = _TOKEN.findall(text)
    for token in tokens:
        if token.lower() in _ENERGY_TOKENS:
            return token, None
    lowered = [t.lower() for t in tokens]
    # One-letter units only in brackets or as the whole header: "Strom L1 (A)", "W"; not "Zählwerk A".
    bracketed = [t.lower() for inner in _BRACKETED.findall(text) for t in _TOKEN.findall(inner)]
    for token in bracketed + (lowered if len(lowered) == 1 else []):
        if token in _OTHER_UNITS:
            return None, f"{_OTHER_UNITS[token]} [{token}]"
    # Multi-letter power units are unambiguous anywhere in the header ("Wirkleistung kW").
    for token in lowered:
        if len(token) > 1 and token in _OTHER_UNITS:
            return None, f"{_OTHER_UNITS[token]} [{token}]"
    return None, None


def obis_code(text: str) -> tuple[int, int, int] | None:
    """(C, D, E) of an OBIS code in ``text`` ("1-0:1.8.0" → (1, 8, 0)), or None."""
    match = _OBIS.search(text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def classify_column(index: int, name: str, unit_cell: str | None, sample: Sequence[str]) -> ColumnRole:
    """Role of a non-timestamp column from its name, a units-row cell (SMA) and its sample cells."""
    folded = fold(name)
    values = [c for c in sample if not is_empty_cell(c)]
    has_values = bool(values)

    def ignored(why: str) -> ColumnRole:
        return ColumnRole(index, name, ROLE_IGNORED, why=why, has_values=has_values)

    if _UNIT_COLUMN.match(folded):
        return ColumnRole(index, name, ROLE_UNIT, has_values=has_values)
    if _OBIS_COLUMN.match(folded):
        return ColumnRole(index, name, ROLE_OBIS, has_values=has_values)
    unit, other = find_units(name)
    if unit is None and unit_cell:
        unit, unit_cell_other = find_units(unit_cell)
        other = other or unit_cell_other
    for pattern, why in _NOT_ENERGY:
        if pattern.search(folded):
            return ignored(why)
    if unit is None:
        if other is not None:
            return ignored(f"not energy: {other}")
        for pattern, why in _NOT_ENERGY_WORDS:
            if pattern.search(folded):
                return ignored(why)
    obis = obis_code(folded)
    if obis is not None and obis[1] != 8:
        what = "power" if obis[1] == 7 else "not an energy register"
        return ignored(f"not energy: OBIS {obis[0]}.{obis[1]}.{obis[2]} is {what}")
    if _EXPORT.search(folded) or (obis is not None and obis[0] == 2):
        return ignored("feed-in/returned/produced energy, not consumption")
    numeric = sum(is_number_cell(c) for c in values)
    named = unit is not None or obis is not None or bool(_ENERGY_WORDS.search(folded))
    if not named:
        if not has_values:
            return ignored("empty column")
        if numeric * 2 < len(values):
            return ignored("not numeric")
    return ColumnRole(
        index,
        name,
        ROLE_ENERGY,
        unit=unit,
        carrier=_carrier(folded, unit),
        kind_hint=_kind_hint(folded)[0],
        strong_kind=_kind_hint(folded)[1],
        tariff=_tariff(folded),
        has_values=has_values,
    )


def _carrier(folded: str, unit: str | None) -> str | None:
    if _GAS.search(folded):
        return "gas"
    if _HEAT.search(folded):
        return "heat"
    if _ELECTRICITY.search(folded):
        return "electricity"
    if unit is not None and unit.lower() in {"m3", "m³", "cbm", "nm3", "nm³"}:
        return "gas"
    return None


def _kind_hint(folded: str) -> tuple[str | None, bool]:
    # Explicit register words beat interval words ("Zählerstand (kWh) - Verbrauch" is a reading), and
    # interval words beat the weak register hints ("Verbrauch Gesamt - 1.8.0" is a consumption).
    if _STRONG_REGISTER.search(folded):
        return "register", True
    if _INTERVAL.search(folded):
        return "interval", True
    if _WEAK_REGISTER.search(folded):
        return "register", False
    return None, False


def _tariff(folded: str) -> str | None:
    number = _TARIFF_NUMBER.search(folded)
    if number is not None:
        return number.group(1)
    obis = obis_code(folded)
    if obis is not None and obis[1] == 8:
        return "total" if obis[2] == 0 else str(obis[2])
    if _TARIFF_1.search(folded):
        return "1"
    if _TARIFF_2.search(folded):
        return "2"
    if _TARIFF_TOTAL.search(folded):
        return "total"
    return None


@dataclass(frozen=True, slots=True)
class KnownExport:
    """An export whose header names no units, but whose producer documents them.

    name: producer, for the preview
    signature: pattern on the folded header line that identifies the export
    units: unit per carrier of its columns
    kind: the export's values are interval consumption or register readings
    """

    name: str
    signature: re.Pattern[str]
    units: dict[str, str]
    kind: str


KNOWN_EXPORTS = (
    # dsmr-reader "Export" (hour/day): electricity in kWh, gas in m³, both consumed per row's period.
    KnownExport(
        "dsmr-reader", re.compile(r"\(dutch users:"), {"electricity": "kWh", "gas": "m³"}, "interval"
    ),
)


def known_export(header_line: str) -> KnownExport | None:
    """The known export whose signature the header line carries, if any."""
    folded = fold(header_line)
    for export in KNOWN_EXPORTS:
        if export.signature.search(folded):
            return export
    return None
