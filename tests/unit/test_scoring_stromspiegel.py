"""The Stromspiegel table: data with an edition label, read from CSV text, shipped editions through
importlib.resources, checked for completeness and rising class bounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scoring.schema import FrameSchemaError
from scoring.stromspiegel import (
    CLASS_COLUMNS,
    DEFAULT_EDITION,
    TYPICAL_KWH_PER_YEAR,
    load_stromspiegel,
    parse_stromspiegel_csv,
)

TEST_CSV = (
    Path(__file__).resolve().parents[1] / "data" / "stromspiegel" / "stromspiegel_test.csv"
).read_text()


def test_the_shipped_edition_loads_and_says_it_is_unverified() -> None:
    table = load_stromspiegel()
    assert table.edition == DEFAULT_EDITION == "2023"
    assert "stromspiegel.de" in table.source
    assert table.verified is False  # the numbers must be checked against the publication first
    assert len(table.rows) == 2 * 2 * 5
    bounds = table.rows[list(CLASS_COLUMNS)].to_numpy()
    assert (np.diff(bounds, axis=1) > 0).all()


def test_shipped_numbers_rise_with_persons_electric_hot_water_and_house() -> None:
    table = load_stromspiegel()
    typical = table.lookup(
        [1, 2, 3, 4, 5, 2, 2], ["flat"] * 5 + ["flat", "house"], [False] * 5 + [True, False]
    )[TYPICAL_KWH_PER_YEAR].to_numpy()
    assert (np.diff(typical[:5]) > 0).all()
    assert typical[5] > typical[1]  # electric hot water
    assert typical[6] > typical[1]  # house


def test_lookup_by_hand_on_the_test_edition() -> None:
    table = parse_stromspiegel_csv(TEST_CSV)
    assert (table.edition, table.verified) == ("test", True)
    rows = table.lookup(
        [2, 7, 1, 0, None, 2],
        ["flat", "house", "Flat", "flat", "flat", "villa"],
        ["no", True, 1, 0, False, "no"],
    )
    assert rows[TYPICAL_KWH_PER_YEAR].iloc[0] == 3650  # (3300 + 4000) / 2
    assert rows["class_a_max_kwh"].iloc[1] == 700 + 5000 + 500 + 1000  # 7 persons use the 5+ row
    assert rows["class_a_max_kwh"].iloc[2] == 1700 + 500
    assert rows.iloc[3:].isna().all().all()  # 0 persons, unknown persons, unknown building type


def test_unknown_edition() -> None:
    with pytest.raises(LookupError, match="1999"):
        load_stromspiegel("1999")
    with pytest.raises(LookupError):
        load_stromspiegel("../secrets")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda text: text.replace("# edition: test\n", ""), "edition"),
        (lambda text: text.replace("class_f_max_kwh", "class_g_max_kwh"), "class_f_max_kwh"),
        (lambda text: text.replace("flat,no,2,2700", "flat,no,2,lots"), "unreadable"),
        (lambda text: text.replace("flat,no,2,2700,3000", "flat,no,2,3100,3000"), "rise"),
        (
            lambda text: "\n".join(line for line in text.splitlines() if not line.startswith("house,yes,5")),
            "exactly one row",
        ),
    ],
)
def test_broken_tables_are_refused(mutate: object, message: str) -> None:
    with pytest.raises(FrameSchemaError, match=message):
        parse_stromspiegel_csv(mutate(TEST_CSV))  # type: ignore[operator]
