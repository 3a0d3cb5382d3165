"""Synthetic demo contests, written as contest TOMLs and as CSV files in both dialects, the way real
households would upload them: a running one (~200 households in ~10 teams) and small ones that are
announced, final and archived, so a newcomer sees every public state of a season."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from contest.season import ANNOUNCED, ARCHIVED, DEFAULT_GRACE_DAYS, FINAL, due_state

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
    #: False: its file is written but not imported; the household has yet to upload it in the portal
    uploaded: bool = True


@dataclass(frozen=True, slots=True)
class DemoContest:
    """One demo contest as written. state: the state ``contest demo`` brings it to (by its dates as of
    the day it was written: announced, running or final; archived if asked for)."""

    toml_path: Path
    slug: str
    households: tuple[DemoHousehold, ...]
    name: str
    state: str


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


DEMO_NAME = "Energiesparwettbewerb Musterstadt (Demo)"


def generate_demo(
    out_dir: str | Path,
    *,
    today: dt.date | None = None,
    households: int = 200,
    teams: int = 10,
    seed: int = 2026,
    tz: str = "Europe/Berlin",
    slug: str = "demo",
    name: str = DEMO_NAME,
    meter_prefix: str = "DEMO",
    competition: tuple[dt.date, dt.date] | None = None,
    uploaded_fraction: float = 1.0,
    archived: bool = False,
    method: str = "prior_period_mean",
) -> DemoContest:
    """Write ``contest.toml`` and one CSV per household into ``out_dir``; returns what was written.

    competition: first and last day; by default it started 8 weeks before ``today`` and runs 26 weeks.
    The baseline is the year before it. Data ends yesterday (local), or on the last competition day if
    that was earlier. About 60 % of households save 3-25 %, the rest do not; a few have gaps or no
    baseline data (they show as "not enough data"), a few files carry a bad row.
    uploaded_fraction: share of households whose file counts as uploaded [1]; the others' files are
        written too (to try the portal's upload with) but marked ``uploaded=False``.
    archived: the contest is meant to be archived once final (``DemoContest.state``).
    method: the baseline method (a winter contest compares with the same winter a year before:
        ``prior_year_same_period``; against a whole year's mean, winter light would look like waste).
    """
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    zone = ZoneInfo(tz)
    today = today or dt.datetime.now(zone).date()
    if competition is None:
        comp_start = today - dt.timedelta(days=56)
        comp_end = comp_start + dt.timedelta(days=26 * 7 - 1)
    else:
        comp_start, comp_end = competition
    base_start = comp_start - dt.timedelta(days=365)
    base_end = comp_start - dt.timedelta(days=1)
    days = pd.date_range(base_start, min(today - dt.timedelta(days=1), comp_end), freq="D")
    # Index of the first competition day in ``days`` (= its length while the contest is announced).
    comp = min(len(days), (comp_start - base_start).days)
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
        meter_id = f"{meter_prefix}-{i + 1:03d}"
        have = np.ones(len(days), dtype=bool)
        if i % 23 == 5:  # a gap of three to six weeks during the competition
            gap_start = int(rng.integers(5, 20))
            gap = slice(comp + gap_start, comp + gap_start + int(rng.integers(21, 42)))
            have[gap] = False
        if i % 37 == 11:  # joined late: no baseline data before the last two months of the baseline
            have[: max(0, comp - 60)] = False
        path = out / f"{meter_id}.csv"
        _write_household_csv(path, style, days, comp, daily_kwh, have, zone, rng, bad_row=(i % 29 == 3))
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
                # Spread evenly over the households (and so over the file styles), no random draw.
                int((i + 1) * uploaded_fraction) > int(i * uploaded_fraction),
            )
        )
    toml_path = out / "contest.toml"
    _write_toml(
        toml_path, slug, name, base_start, base_end, comp_start, comp_end, tz, team_names, result, method
    )
    state = due_state(
        ANNOUNCED,
        today=today,
        competition_start=comp_start,
        competition_end=comp_end,
        grace_days=DEFAULT_GRACE_DAYS,
    )
    if archived and state == FINAL:
        state = ARCHIVED
    return DemoContest(toml_path=toml_path, slug=slug, households=tuple(result), name=name, state=state)


def last_winter(today: dt.date, grace_days: int = DEFAULT_GRACE_DAYS) -> tuple[dt.date, dt.date]:
    """The latest winter (1 December to the end of February) whose grace period is over on ``today``."""
    year = today.year
    while dt.date(year, 3, 1) - dt.timedelta(days=1) + dt.timedelta(days=grace_days) >= today:
        year -= 1
    return dt.date(year - 1, 12, 1), dt.date(year, 3, 1) - dt.timedelta(days=1)


def generate_demo_season(
    out_dir: str | Path,
    *,
    today: dt.date | None = None,
    households: int = 200,
    teams: int = 10,
    tz: str = "Europe/Berlin",
) -> tuple[DemoContest, ...]:
    """The demo's contests, one in each public state, so a newcomer sees a whole season on the index page:

    - running ``demo``: ``households`` in ``teams``, written to ``out_dir`` itself (:func:`generate_demo`);
    - announced ``demo-next``: starts in two weeks, runs 12 weeks; two thirds of its households have
      uploaded their baseline data, the others have not (their files are there to try the upload);
    - final ``demo-last-winter``: last winter's contest, its grace period over;
    - archived ``demo-winter-before``: the winter before.

    The other three are small (a few dozen households or fewer, three teams) to keep the demo quick;
    each is written to a subfolder of ``out_dir`` named by its slug, its meters numbered with a prefix
    of its own (meter ids are unique across contests).
    """
    out = Path(out_dir)
    today = today or dt.datetime.now(ZoneInfo(tz)).date()
    small = max(9, min(30, households // 6))
    small_teams = min(teams, 3)
    next_start = today + dt.timedelta(days=14)
    winter = last_winter(today)
    winter_before = last_winter(winter[0])
    running = generate_demo(out, today=today, households=households, teams=teams, tz=tz)
    announced = generate_demo(
        out / "demo-next",
        today=today,
        households=small,
        teams=small_teams,
        seed=2027,
        tz=tz,
        slug="demo-next",
        name=f"Energiesparwettbewerb Musterstadt – {_season_label(next_start)} (Demo)",
        meter_prefix="NEXT",
        competition=(next_start, next_start + dt.timedelta(days=12 * 7 - 1)),
        uploaded_fraction=2 / 3,
        method="prior_year_same_period",
    )

    def past(slug: str, count: int, seed: int, prefix: str, period: tuple[dt.date, dt.date]) -> DemoContest:
        return generate_demo(
            out / slug,
            today=today,
            households=count,
            teams=small_teams,
            seed=seed,
            tz=tz,
            slug=slug,
            name=f"Energiesparwettbewerb Musterstadt – {_season_label(period[0])} (Demo)",
            meter_prefix=prefix,
            competition=period,
            archived=slug == "demo-winter-before",
            method="prior_year_same_period",
        )

    final = past("demo-last-winter", small, 2025, "WINTER", winter)
    archived = past("demo-winter-before", max(9, small // 2), 2024, "OLD", winter_before)
    return running, announced, final, archived


def _season_label(day: dt.date) -> str:
    """``Winter 2025/26``, ``Frühjahr 2027``: the time of year a contest starts in, for its name."""
    if day.month in (12, 1, 2):
        first = day.year if day.month == 12 else day.year - 1
        return f"Winter {first}/{(first + 1) % 100:02d}"
    return f"{('Frühjahr', 'Sommer', 'Herbst')[(day.month - 3) // 3]} {day.year}"


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
    comp: int,
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
    name: str,
    base_start: dt.date,
    base_end: dt.date,
    comp_start: dt.date,
    comp_end: dt.date,
    tz: str,
    teams: tuple[str, ...],
    households: list[DemoHousehold],
    method: str = "prior_period_mean",
) -> None:
    out = [
        "# Demo contest written by `contest demo` (synthetic data).",
        "[contest]",
        f'slug = "{slug}"',
        f'name = "{name}"',
        f'timezone = "{tz}"',
        'carrier = "electricity"',
        f"baseline = {{ start = {base_start.isoformat()}, end = {base_end.isoformat()} }}",
        f"competition = {{ start = {comp_start.isoformat()}, end = {comp_end.isoformat()} }}",
        "",
        "[scoring]",
        f'method = "{method}"',
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
