"""A synthetic demo contest: ~200 households in ~10 teams, a year of baseline and a running competition,
written as a contest TOML and as CSV files in both dialects, the way real households would upload them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

TEAM_NAMES = (
    "Altstadt",
    "Nordviertel",
    "Südstadt",
    "Am Hafen",
    "Westend",
    "Lindenhof",
    "Rosenau",
    "Bahnhofsviertel",
    "Oststadt",
    "Kirchberg",
)
ADJECTIVES = (
    "Sparsame",
    "Flinke",
    "Helle",
    "Stille",
    "Kluge",
    "Grüne",
    "Frohe",
    "Wache",
    "Tapfere",
    "Sonnige",
)
ANIMALS = ("Eule", "Biene", "Meise", "Lerche", "Ameise", "Libelle", "Amsel", "Hummel", "Schwalbe", "Forelle")


@dataclass(frozen=True, slots=True)
class DemoHousehold:
    pseudonym: str
    team: str
    persons: int
    public: bool
    meter_id: str
    csv_path: Path
    style: str  # "en_hourly_interval" | "de_daily_register" | "de_manual_register" | "en_daily_interval_wh"
    living_area_m2: float | None = None  # [m²]


@dataclass(frozen=True, slots=True)
class DemoContest:
    toml_path: Path
    slug: str
    households: tuple[DemoHousehold, ...]


def _daily_shape(days: pd.DatetimeIndex) -> np.ndarray:
    """Seasonal factor [1]: more electricity in winter (light, heating pumps), less in summer."""
    doy = days.day_of_year.to_numpy()
    seasonal = 1.0 + 0.18 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    weekend = np.where(days.day_of_week.to_numpy() >= 5, 1.08, 1.0)
    return np.asarray(seasonal * weekend)


_HOURLY = np.array(
    [
        0.5,
        0.4,
        0.4,
        0.4,
        0.4,
        0.5,
        0.9,
        1.4,
        1.2,
        0.9,
        0.8,
        0.9,
        1.1,
        1.0,
        0.8,
        0.8,
        0.9,
        1.2,
        1.6,
        1.8,
        1.6,
        1.3,
        0.9,
        0.7,
    ]
)
_HOURLY = _HOURLY / _HOURLY.sum()


def generate_demo(
    out_dir: str | Path,
    *,
    today: dt.date | None = None,
    households: int = 200,
    teams: int = 10,
    seed: int = 2026,
    tz: str = "Europe/Berlin",
) -> DemoContest:
    """Write ``contest.toml`` and one CSV per household into ``out_dir``; returns what was written.

    The competition started 8 weeks before ``today`` and runs 26 weeks; the baseline is the year before.
    Data ends yesterday (local). About 60 % of households save 3-25 %, the rest do not; a few have gaps
    or no baseline data (they show as "not enough data"), a few files carry a bad row.
    """
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    zone = ZoneInfo(tz)
    today = today or dt.datetime.now(zone).date()
    comp_start = today - dt.timedelta(days=56)
    comp_end = comp_start + dt.timedelta(days=26 * 7 - 1)
    base_start = comp_start - dt.timedelta(days=365)
    base_end = comp_start - dt.timedelta(days=1)
    days = pd.date_range(base_start, today - dt.timedelta(days=1), freq="D")
    in_comp = np.asarray(days >= pd.Timestamp(comp_start))
    days_into_comp = np.clip(np.asarray((days - pd.Timestamp(comp_start)).days), 0, None)
    shape = _daily_shape(days)
    team_names = (
        TEAM_NAMES[:teams] if teams <= len(TEAM_NAMES) else tuple(f"Team {i + 1}" for i in range(teams))
    )
    styles = ("en_hourly_interval", "de_daily_register", "de_manual_register", "en_daily_interval_wh")
    result: list[DemoHousehold] = []
    for i in range(households):
        persons = int(rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 4, 5]))
        annual_kwh = (900 + 650 * persons) * rng.uniform(0.75, 1.3)
        per_day = annual_kwh / 365.25
        saving = rng.uniform(0.03, 0.25) if rng.random() < 0.6 else rng.uniform(-0.06, 0.02)
        ramp = np.clip(days_into_comp / 14.0, 0, 1)  # people take two weeks to change habits
        factor = np.where(in_comp, 1.0 - saving * ramp, 1.0)
        noise = rng.normal(1.0, 0.08, len(days)).clip(0.6, 1.5)
        daily_kwh = per_day * shape * factor * noise
        style = styles[i % len(styles)]
        pseudonym = f"{ADJECTIVES[i % 10]} {ANIMALS[(i // 10) % 10]} {i + 1}"
        meter_id = f"DEMO-{i + 1:03d}"
        have = np.ones(len(days), dtype=bool)
        if i % 23 == 5:  # a gap of three to six weeks during the competition
            gap_start = int(rng.integers(5, 20))
            gap = slice(len(days) - 56 + gap_start, len(days) - 56 + gap_start + int(rng.integers(21, 42)))
            have[gap] = False
        if i % 37 == 11:  # joined late: no baseline data before the last two months of the baseline
            have[: max(0, len(days) - 56 - 60)] = False
        path = out / f"{meter_id}.csv"
        _write_household_csv(path, style, days, daily_kwh, have, zone, rng, bad_row=(i % 29 == 3))
        result.append(
            DemoHousehold(
                pseudonym,
                team_names[i % len(team_names)],
                persons,
                bool(rng.random() < 0.7),
                meter_id,
                path,
                style,
                # Derived from the index, not drawn: the random data stay as they were before areas.
                float(25 + 20 * persons + (i * 37) % 40),
            )
        )
    toml_path = out / "contest.toml"
    _write_toml(toml_path, "demo", base_start, base_end, comp_start, comp_end, tz, team_names, result)
    return DemoContest(toml_path=toml_path, slug="demo", households=tuple(result))


def _iso_with_offset(stamps: pd.DatetimeIndex) -> list[str]:
    """ISO-8601 local times with their UTC offset (``2026-03-29T03:00:00+02:00``), vectorized."""
    local = np.datetime_as_string(stamps.tz_localize(None).to_numpy().astype("datetime64[s]"), unit="s")
    offset_min = (stamps.tz_localize(None) - stamps.tz_convert("UTC").tz_localize(None)).total_seconds() // 60
    offset_min = np.asarray(offset_min, dtype=int)
    sign = np.where(offset_min >= 0, "+", "-")
    hh = np.char.zfill((np.abs(offset_min) // 60).astype(str), 2)
    mm = np.char.zfill((np.abs(offset_min) % 60).astype(str), 2)
    return list(np.char.add(np.char.add(np.char.add(np.char.add(local, sign), hh), ":"), mm))


def _write_household_csv(
    path: Path,
    style: str,
    days: pd.DatetimeIndex,
    daily_kwh: np.ndarray,
    have: np.ndarray,
    zone: ZoneInfo,
    rng: np.random.Generator,
    *,
    bad_row: bool,
) -> None:
    lines: list[str]
    if style == "en_hourly_interval":
        local_days = days[have]
        kwh = daily_kwh[have]
        starts = (
            pd.date_range(
                local_days[0], local_days[-1] + pd.Timedelta(days=1), freq="h", tz=zone, inclusive="left"
            )
            if len(local_days)
            else pd.DatetimeIndex([])
        )
        naive_day = starts.tz_localize(None).normalize()
        keep = naive_day.isin(local_days)
        starts = starts[keep]
        day_kwh = pd.Series(kwh, index=local_days).reindex(naive_day[keep]).to_numpy()
        hour = starts.hour.to_numpy()
        values = day_kwh * _HOURLY[hour] * rng.normal(1.0, 0.15, len(starts)).clip(0.3, 2.0)
        # On 23-hour and 25-hour days the hourly shares do not add to one; close enough for a demo.
        lines = ["Interval start,Consumption (kWh)"]
        lines += [f"{s},{v:.4f}" for s, v in zip(_iso_with_offset(starts), values, strict=True)]
    elif style == "en_daily_interval_wh":
        lines = ["Interval start,Consumption (Wh)"]
        for d, v, ok in zip(days, daily_kwh, have, strict=True):
            if ok:
                start = pd.Timestamp(d).tz_localize(zone)
                lines.append(f"{start.isoformat()},{v * 1000:.0f}")
    else:
        # Register readings in the German dialect: a counter that only goes up.
        register = 12000.0 + np.cumsum(daily_kwh)  # value at the END of each day
        lines = ["Datum;Zählerstand (kWh)"]
        if style == "de_daily_register":
            picks = np.arange(len(days))
        else:
            # Manual readings: monthly in the baseline, weekly in the competition (ends of day, ~20 h).
            comp = len(days) - 56
            picks = np.unique(
                np.concatenate([np.arange(0, comp, 30), np.arange(comp - 1, len(days), 7), [len(days) - 1]])
            )
        for k in picks:
            if not have[k]:
                continue
            when = days[k] + pd.Timedelta(hours=23, minutes=59)
            value = f"{register[k]:.2f}".replace(".", ",")
            lines.append(f"{when:%d.%m.%Y %H:%M};{value}")
        # Start with a reading at the very start of the first day so that day is covered fully.
        if have[0]:
            lines.insert(1, f"{days[0]:%d.%m.%Y} 00:00;12000,00")
    if bad_row and len(lines) > 10:
        broken = lines[5].split("," if "," in lines[0] else ";")[0]
        lines.insert(6, f"{broken}{',' if ',' in lines[0] else ';'}n/a")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_toml(
    path: Path,
    slug: str,
    base_start: dt.date,
    base_end: dt.date,
    comp_start: dt.date,
    comp_end: dt.date,
    tz: str,
    teams: tuple[str, ...],
    households: list[DemoHousehold],
) -> None:
    out = [
        "# Demo contest written by `contest demo` (synthetic data).",
        "[contest]",
        f'slug = "{slug}"',
        'name = "Energiesparwettbewerb Musterstadt (Demo)"',
        f'timezone = "{tz}"',
        'carrier = "electricity"',
        f"baseline = {{ start = {base_start.isoformat()}, end = {base_end.isoformat()} }}",
        f"competition = {{ start = {comp_start.isoformat()}, end = {comp_end.isoformat()} }}",
        "",
        "[scoring]",
        "min_coverage_fraction = 0.8",
        "min_team_members = 3",
        'category_by = "household_size"     # own rankings for 1, 2, 3, 4 and 5+ persons',
        "",
    ]
    for name in teams:
        out += ["[[teams]]", f'name = "{name}"', ""]
    for h in households:
        kind = "interval" if "interval" in h.style else "register"
        out += [
            "[[households]]",
            f'pseudonym = "{h.pseudonym}"',
            f'team = "{h.team}"',
            f"persons = {h.persons}",
            *([f"living_area_m2 = {h.living_area_m2:g}"] if h.living_area_m2 is not None else []),
            f"public = {'true' if h.public else 'false'}",
            f'meters = [{{ id = "{h.meter_id}", carrier = "electricity", kind = "{kind}" }}]',
            "",
        ]
    path.write_text("\n".join(out), encoding="utf-8")
