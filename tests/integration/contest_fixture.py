"""A small contest with hand-computable numbers, written as real CSV files in both dialects.

Baseline 1-10 Jan 2026, competition 11-20 Jan 2026, scored as of 21 Jan 2026 00:00 (Berlin), so all
ten competition days are complete. Team "Nordviertel" has A, B, C; D has a gap, E has no team.

    household  baseline/day  competition/day   expected  actual  savings   fraction
    A (de reg)     10.0           8.0             100      80      20       0.20
    B (en int)     12.0          12.0             120     120       0       0.00
    C (de reg)     11.0           9.9             110      99      11       0.10
    D (en int)     10.0           5.0    data on only 4 of 10 competition days -> not enough data
    E (de reg)     10.0           8.0             100      80      20       0.20  (no team; ties with A)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
AS_OF = dt.datetime(2026, 1, 21, 0, 0, tzinfo=BERLIN)
DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(20)]

CONTEST_TOML = """
[contest]
slug = "test-2026"
name = "Testwettbewerb 2026"
timezone = "Europe/Berlin"
carrier = "electricity"
baseline = { start = 2026-01-01, end = 2026-01-10 }
competition = { start = 2026-01-11, end = 2026-01-31 }

[scoring]
min_coverage_fraction = 0.8
min_team_members = 3

[[teams]]
name = "Nordviertel"

[[households]]
pseudonym = "Amsel"
team = "Nordviertel"
persons = 2
public = true
meters = [{ id = "A", kind = "register" }]

[[households]]
pseudonym = "Biene"
team = "Nordviertel"
persons = 4
public = true
meters = [{ id = "B", kind = "interval" }]

[[households]]
pseudonym = "Chamäleon"
team = "Nordviertel"
persons = 1
public = false
meters = [{ id = "C", kind = "register" }]

[[households]]
pseudonym = "Dachs"
persons = 1
public = true
meters = [{ id = "D", kind = "interval" }]

[[households]]
pseudonym = "Elster"
persons = 2
public = true
meters = [{ id = "E", kind = "register" }]
"""


def german_register(baseline_per_day: float, competition_per_day: float, start: float = 4321.0) -> str:
    """Daily register readings at local midnight, German dialect (thousands points, decimal comma)."""
    lines = ["Datum;Zählerstand (kWh)"]
    value = start
    for i, day in enumerate([*DAYS, DAYS[-1] + dt.timedelta(days=1)]):
        text = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        lines.append(f"{day:%d.%m.%Y} 00:00;{text}")
        value += baseline_per_day if i < 10 else competition_per_day
    return "\n".join(lines) + "\n"


def english_hourly(
    baseline_per_day: float, competition_per_day: float, skip_days: set[int] = frozenset()
) -> str:
    """Hourly interval values with ISO-8601 local times and offsets, English dialect, in Wh."""
    lines = ["Interval start,Consumption (Wh)"]
    for i, day in enumerate(DAYS):
        if i in skip_days:
            continue
        per_hour_wh = (baseline_per_day if i < 10 else competition_per_day) * 1000 / 24
        for hour in range(24):
            start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
            lines.append(f"{start.isoformat()},{per_hour_wh:.4f}")
    return "\n".join(lines) + "\n"


def write_contest_files(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "toml": directory / "contest.toml",
        "A": directory / "a.csv",
        "B": directory / "b.csv",
        "C": directory / "c.csv",
        "D": directory / "d.csv",
        "E": directory / "e.csv",
    }
    files["toml"].write_text(CONTEST_TOML, encoding="utf-8")
    files["A"].write_text(german_register(10.0, 8.0), encoding="utf-8")
    files["B"].write_text(english_hourly(12.0, 12.0), encoding="utf-8")
    files["C"].write_text(german_register(11.0, 9.9, start=12.5), encoding="utf-8")
    files["D"].write_text(english_hourly(10.0, 5.0, skip_days=set(range(14, 20))), encoding="utf-8")
    files["E"].write_text(german_register(10.0, 8.0, start=100.0), encoding="utf-8")
    return files
