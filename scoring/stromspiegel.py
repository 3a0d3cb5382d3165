"""Peer benchmark tables (Stromspiegel für Deutschland): expected yearly electricity use by household size,
building type and electric hot water. The table is data with an edition label, parsed from CSV text;
the shipped editions live in ``scoring/data/stromspiegel_<edition>.csv``."""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.schema import BUILDING_TYPES, FrameSchemaError

#: The edition :func:`load_stromspiegel` loads when none is named.
DEFAULT_EDITION = "2023"

#: Households of this many persons or more share the last row of the table.
MAX_PERSONS = 5

CLASS_COLUMNS = tuple(f"class_{c}_max_kwh" for c in "abcdef")  # upper bounds of classes A..F [kWh/a]
TABLE_COLUMNS = ("building_type", "electric_hot_water", "persons", *CLASS_COLUMNS)
TYPICAL_KWH_PER_YEAR = "typical_kwh_per_year"  # middle of class D [kWh/a]

_YES = {"yes", "ja", "true", "1"}
_NO = {"no", "nein", "false", "0"}
_META = re.compile(r"^#\s*([a-z_]+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True, eq=False)
class StromspiegelTable:
    """One edition of the Stromspiegel.

    edition: e.g. ``"2023"``
    source: where the numbers come from (publication, URL)
    verified: True only once staff checked every number against the publication (``# verified: yes``)
    rows: one row per building_type ("flat"/"house"), electric_hot_water (bool), persons (1..5, 5 = 5+)
        with the class upper bounds ``class_a_max_kwh`` .. ``class_f_max_kwh`` [kWh/a] and
        ``typical_kwh_per_year``: the middle of class D, (C upper + D upper) / 2 [kWh/a]
    sha256: hash of the CSV text, for the input fingerprint of a score run
    """

    edition: str
    source: str
    verified: bool
    rows: pd.DataFrame
    sha256: str

    def lookup(
        self, persons: npt.ArrayLike, building_type: npt.ArrayLike, electric_hot_water: npt.ArrayLike
    ) -> pd.DataFrame:
        """Table rows for households, in their order; NaN rows where an attribute is missing or invalid.

        persons: persons in each household (whole number >= 1; 5 and more share the "5" row)
        building_type: ``"flat"`` or ``"house"``
        electric_hot_water: True/False (also "yes"/"no", 1/0)
        """
        size = pd.to_numeric(pd.Series(np.asarray(persons, dtype=object)), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        kinds = [_building(v) for v in np.asarray(building_type, dtype=object)]
        waters = [_yes_no(v) for v in np.asarray(electric_hot_water, dtype=object)]
        where = {
            (b, bool(w), int(p)): i
            for i, (b, w, p) in enumerate(
                zip(
                    self.rows["building_type"],
                    self.rows["electric_hot_water"],
                    self.rows["persons"],
                    strict=True,
                )
            )
        }
        index = np.full(len(size), -1, dtype=np.int64)
        for i, (kind, water, persons_i) in enumerate(zip(kinds, waters, size, strict=True)):
            if kind is None or water is None or not np.isfinite(persons_i) or persons_i < 1:
                continue
            if persons_i != np.floor(persons_i):
                continue
            index[i] = where.get((kind, water, int(min(persons_i, MAX_PERSONS))), -1)
        values = self.rows[[*CLASS_COLUMNS, TYPICAL_KWH_PER_YEAR]].to_numpy(dtype=np.float64)
        out = np.where(index[:, np.newaxis] >= 0, values[np.maximum(index, 0)], np.nan)
        return pd.DataFrame(out, columns=[*CLASS_COLUMNS, TYPICAL_KWH_PER_YEAR])


def parse_stromspiegel_csv(text: str) -> StromspiegelTable:
    """Read a Stromspiegel table from CSV text.

    ``#`` lines before the header carry ``# edition: ...``, ``# source: ...``, ``# verified: yes|no``;
    the header is ``building_type,electric_hot_water,persons,class_a_max_kwh,...,class_f_max_kwh``.
    Every combination of building type (flat, house), electric hot water (yes, no) and persons 1..5 must
    appear exactly once, with rising class bounds.

    raises: :class:`FrameSchemaError` naming what is wrong
    """
    meta: dict[str, str] = {}
    for line in text.splitlines():
        match = _META.match(line)
        if match:
            meta.setdefault(match.group(1), match.group(2))
    if "edition" not in meta:
        raise FrameSchemaError("the Stromspiegel CSV lacks its '# edition: ...' line")
    try:
        frame = pd.read_csv(io.StringIO(text), comment="#", skipinitialspace=True, dtype=str)
    except (ValueError, pd.errors.ParserError) as exc:
        raise FrameSchemaError(f"the Stromspiegel CSV cannot be read: {exc}") from exc
    missing = [c for c in TABLE_COLUMNS if c not in frame.columns]
    if missing:
        raise FrameSchemaError(f"the Stromspiegel CSV lacks column(s) {', '.join(missing)}")
    rows = pd.DataFrame(
        {
            "building_type": frame["building_type"].map(_building),
            "electric_hot_water": frame["electric_hot_water"].map(_yes_no),
            "persons": pd.to_numeric(frame["persons"], errors="coerce"),
        }
    )
    for column in CLASS_COLUMNS:
        rows[column] = pd.to_numeric(frame[column], errors="coerce")
    if rows.isna().any().any():
        bad = int(np.flatnonzero(rows.isna().any(axis=1).to_numpy())[0])
        raise FrameSchemaError(f"the Stromspiegel CSV has an unreadable value in data row {bad + 1}")
    bounds = rows[list(CLASS_COLUMNS)].to_numpy(dtype=np.float64)
    if (bounds <= 0).any() or (np.diff(bounds, axis=1) <= 0).any():
        raise FrameSchemaError("the Stromspiegel class bounds must be positive and rise from A to F")
    expected = {(b, w, p) for b in BUILDING_TYPES for w in (False, True) for p in range(1, MAX_PERSONS + 1)}
    keys = list(
        zip(rows["building_type"], rows["electric_hot_water"], rows["persons"].astype(int), strict=True)
    )
    if len(keys) != len(set(keys)) or set(keys) != expected:
        raise FrameSchemaError(
            "the Stromspiegel CSV needs exactly one row per building type (flat, house), electric hot "
            f"water (yes, no) and persons 1..{MAX_PERSONS}"
        )
    rows["persons"] = rows["persons"].astype(np.float64)
    rows["electric_hot_water"] = rows["electric_hot_water"].astype(bool)
    rows[TYPICAL_KWH_PER_YEAR] = (rows["class_c_max_kwh"] + rows["class_d_max_kwh"]) / 2
    return StromspiegelTable(
        edition=meta["edition"],
        source=meta.get("source", ""),
        verified=meta.get("verified", "no").strip().lower() in _YES,
        rows=rows.reset_index(drop=True),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_stromspiegel(edition: str = DEFAULT_EDITION) -> StromspiegelTable:
    """The shipped table ``scoring/data/stromspiegel_<edition>.csv`` (read with importlib.resources).

    raises: ``LookupError`` when no such edition ships
    """
    if not re.fullmatch(r"[0-9A-Za-z_-]+", edition):
        raise LookupError(f"no Stromspiegel edition {edition!r}")
    resource = importlib.resources.files("scoring").joinpath("data", f"stromspiegel_{edition}.csv")
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LookupError(f"no Stromspiegel edition {edition!r} ships with scoring") from exc
    return parse_stromspiegel_csv(text)


def _building(value: object) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    return text if text in BUILDING_TYPES else None


def _yes_no(value: object) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if isinstance(value, int | float | np.integer | np.floating) and float(value) in (0.0, 1.0):
        return float(value) == 1.0
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None
