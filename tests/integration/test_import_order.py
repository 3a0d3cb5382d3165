"""A valid file split in two and imported in either order stores the same readings, and the daily
consumption kept up to date import by import equals a rebuild from all readings."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contest.config import parse_contest_config
from contest.consumption import load_readings
from contest.contests import ContestService
from contest.db import Database
from ingest.importer import CsvImporter
from tests import stored as readback

TOML = """
[contest]
slug = "order"
name = "Order"
baseline = { start = 2026-01-01, end = 2026-02-28 }
competition = { start = 2026-03-01, end = 2026-04-30 }
[[households]]
pseudonym = "h"
meters = [{ id = "R", kind = "register" }, { id = "I", kind = "interval" }]
"""


def register_lines(n: int, step_hours: int, seed: int) -> list[str]:
    """German register readings every ``step_hours`` (manual readings days apart, or daily)."""
    start = dt.datetime(2026, 1, 3, 7, 30)
    value = 1000.0
    out = []
    for i in range(n):
        value += (seed % 7 + 1) * 0.37 * step_hours
        when = start + dt.timedelta(hours=i * step_hours)
        out.append(f"{when:%d.%m.%Y %H:%M};" + f"{value:.3f}".replace(".", ","))
    return out


def interval_lines(n: int, seed: int) -> list[str]:
    start = pd.Timestamp("2026-03-28 00:00", tz="Europe/Berlin")  # across the spring DST switch
    stamps = pd.date_range(start, periods=n, freq="h")
    return [f"{t.isoformat()},{(seed % 5 + 1) * 0.11 + (i % 24) * 0.01:.3f}" for i, t in enumerate(stamps)]


def _stored(db: Database, meter: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    ctx = readback.import_context(db, meter)
    with db.session() as session:
        stored = load_readings(session, ctx.meter_id).sort_values("ts_utc").reset_index(drop=True)
    return stored, readback.daily(db, meter)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["R", "I"]),
    n=st.integers(min_value=5, max_value=120),
    step=st.sampled_from([1, 24, 24 * 9]),
    cut=st.floats(min_value=0.05, max_value=0.95),
    overlap=st.integers(min_value=0, max_value=3),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_halves_in_either_order_store_what_the_whole_file_stores(
    kind: str, n: int, step: int, cut: float, overlap: int, seed: int
) -> None:
    n = min(n, 24 * 100 // step)  # stay inside the contest (1 Jan to 30 Apr)
    if kind == "R":
        header, lines = "Datum;Zählerstand (kWh)", register_lines(n, step, seed)
    else:
        header, lines = "Interval start,Consumption (kWh)", interval_lines(n, seed)
    # Each part keeps two rows at least: one interval value alone cannot tell its interval length.
    k = max(2, min(len(lines) - 2, int(len(lines) * cut)))
    first = [header, *lines[: k + overlap]]
    second = [header, *lines[k:]]
    whole = [header, *lines]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, parts in {
            "whole": [whole],
            "forward": [first, second],
            "backward": [second, first],
        }.items():
            db = Database(f"sqlite:///{Path(tmp) / name}.sqlite3")
            with db.session() as session:
                ContestService(session).setup(parse_contest_config(TOML))
            importer = CsvImporter(db)
            for part in parts:
                report = importer.import_bytes(("\n".join(part) + "\n").encode("utf-8"), kind)
                assert report.rows_rejected == 0, report.first_reasons()
            stored, daily = _stored(db, kind)
            readback.rebuild_all_daily(db, kind)
            _, rebuilt = _stored(db, kind)
            pd.testing.assert_frame_equal(daily, rebuilt, check_exact=False, rtol=1e-9, atol=1e-9)
            results.append((stored, daily))
            db.dispose()
    (whole_stored, whole_daily), *others = results
    assert len(whole_stored) == n
    for stored, daily in others:
        pd.testing.assert_frame_equal(stored, whole_stored)
        pd.testing.assert_frame_equal(daily, whole_daily, check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("order", ["new-after-old", "new-before-old", "new-between"])
def test_a_reading_added_later_updates_only_what_it_changes(db: Database, order: str) -> None:
    """Monthly manual readings: a reading typed in later between two others re-spreads that month."""
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(TOML))
    importer = CsvImporter(db)
    files = {
        "new-after-old": ["01.01.2026 00:00;100,0\n01.02.2026 00:00;410,0", "01.03.2026 00:00;690,0"],
        "new-before-old": ["01.02.2026 00:00;410,0\n01.03.2026 00:00;690,0", "01.01.2026 00:00;100,0"],
        "new-between": ["01.01.2026 00:00;100,0\n01.03.2026 00:00;690,0", "01.02.2026 00:00;410,0"],
    }[order]
    for body in files:
        importer.import_bytes(f"Datum;Zählerstand (kWh)\n{body}\n".encode(), "R")
    daily = readback.daily(db, "R").set_index("day")
    assert len(daily) == 31 + 28
    assert daily["coverage_fraction"].min() == pytest.approx(1.0)
    january = daily.loc[: dt.date(2026, 1, 31), "energy_kwh"]
    february = daily.loc[dt.date(2026, 2, 1) :, "energy_kwh"]
    assert january.sum() == pytest.approx(410 - 100) and february.sum() == pytest.approx(690 - 410)
    assert january.iloc[0] == pytest.approx((410 - 100) / 31)
    assert february.iloc[0] == pytest.approx((690 - 410) / 28)
