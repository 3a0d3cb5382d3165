"""A contest described in one TOML file, the way city staff start a real contest (``contest setup``)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contest.domain import BUILDING_TYPES, CARRIERS, METER_KINDS, check_living_area_m2, check_persons
from contest.errors import ConfigError, IngestError
from contest.rules import ContestRules, rules_from_file
from contest.season import check_grace_days
from contest.units import GasFactors
from scoring.rules import ScoringRules


@dataclass(frozen=True, slots=True)
class MeterConfig:
    external_id: str
    carrier: str = "electricity"
    kind: str = "register"
    gas: GasFactors | None = None


@dataclass(frozen=True, slots=True)
class HouseholdConfig:
    """A household as the contest file states it. None: the file does not say, so applying the file
    leaves what the household or the staff set before (a new household gets the default)."""

    pseudonym: str
    #: persons living in the household; None: not given (a new household: 1)
    persons: int | None = None
    team: str | None = None
    #: living area [m²]
    living_area_m2: float | None = None
    #: listed by pseudonym on the public leaderboard; None: not given (a new household: not listed)
    public_listing: bool | None = None
    meters: tuple[MeterConfig, ...] = ()
    #: "flat" or "house", for the peer benchmark (Stromspiegel)
    building_type: str | None = None
    electric_hot_water: bool | None = None


@dataclass(frozen=True, slots=True)
class ContestConfig:
    slug: str
    name: str
    baseline_start: dt.date
    baseline_end: dt.date
    competition_start: dt.date
    competition_end: dt.date
    timezone: str = "Europe/Berlin"
    carrier: str = "electricity"
    #: the contest's rules: the file's [scoring], [co2] and [privacy] tables (contest.rules)
    rules: ContestRules = field(default_factory=ContestRules)
    gas: GasFactors = field(default_factory=GasFactors)
    teams: tuple[str, ...] = ()
    households: tuple[HouseholdConfig, ...] = ()
    #: days after the last competition day in which late data still counts (then the result is final)
    grace_days: int = 14
    #: a new contest starts as "draft" (staff only) or "announced" (public); later changes of its
    #: season are the clock's and the staff's (``contest announce/close/reopen/archive``), not the file's
    initial_state: str = "announced"

    def scoring_rules(self) -> ScoringRules:
        """The rules with this contest's zone, carrier and periods, checked by scoring (ConfigError)."""
        return self.rules.scoring_rules(
            tz=self.timezone,
            carrier=self.carrier,
            baseline_start=self.baseline_start,
            baseline_end=self.baseline_end,
            competition_start=self.competition_start,
            competition_end=self.competition_end,
        )


def _date(section: dict[str, Any], key: str, where: str) -> dt.date:
    value = section.get(key)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}.{key} must be a date like 2026-10-01, got {value!r}")


def _gas(section: dict[str, Any] | None, where: str) -> GasFactors | None:
    if not section:
        return None
    try:
        return GasFactors(
            brennwert_kwh_per_m3=float(section.get("brennwert_kwh_per_m3", 10.0)),
            zustandszahl=float(section.get("zustandszahl", 0.9529)),
        )
    except (IngestError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def parse_contest_config(text: str, source: str = "<toml>") -> ContestConfig:
    """Parse and check a contest TOML; every problem is a :class:`ConfigError` naming the field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    return contest_config_from_dict(doc, source)


def contest_config_from_dict(doc: dict[str, Any], source: str = "<json>") -> ContestConfig:
    """The same structure as the TOML file, e.g. from the admin API's JSON (dates as ISO strings)."""
    try:
        return _from_dict(doc, source)
    except ConfigError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        # A structure of the wrong shape (a list where a table belongs, ...): a clear 400, never a 500.
        raise ConfigError(f"{source}: the contest description has the wrong structure ({exc!r})") from exc


def _from_dict(doc: dict[str, Any], source: str) -> ContestConfig:
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: a contest description must be an object")
    c = doc.get("contest")
    if not isinstance(c, dict):
        raise ConfigError(f"{source}: missing [contest] section")
    for key in ("slug", "name"):
        if not isinstance(c.get(key), str) or not c[key].strip():
            raise ConfigError(f"{source}: contest.{key} is required")
    # Checked here, before the database: PostgreSQL refuses NUL and longer text than the column holds.
    for key, max_len in (("slug", 80), ("name", 200)):
        value = c[key].strip()
        if len(value) > max_len or any(not ch.isprintable() for ch in value):
            raise ConfigError(
                f"{source}: contest.{key} must be printable text of at most {max_len} characters",
                key="contest.bad_text",
            )
    if "/" in c["slug"]:
        raise ConfigError(f"{source}: contest.slug must not contain '/' (it is part of the page's address)")
    baseline = c.get("baseline") or {}
    competition = c.get("competition") or {}
    tz = str(c.get("timezone", "Europe/Berlin"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{source}: contest.timezone {tz!r} is not a known time zone") from exc
    carrier = str(c.get("carrier", "electricity"))
    if carrier not in CARRIERS:
        raise ConfigError(f"{source}: contest.carrier must be one of {CARRIERS}, got {carrier!r}")
    rules = rules_from_file(doc, source)
    cfg_gas = _gas(doc.get("gas"), f"{source}: [gas]") or GasFactors()
    teams = tuple(str(t["name"]) for t in doc.get("teams", []))
    if len(set(teams)) != len(teams):
        raise ConfigError(f"{source}: team names must be unique")
    households: list[HouseholdConfig] = []
    seen_meters: set[str] = set()
    for i, h in enumerate(doc.get("households", []), start=1):
        where = f"{source}: households[{i}]"
        if not isinstance(h.get("pseudonym"), str) or not h["pseudonym"].strip():
            raise ConfigError(f"{where}.pseudonym is required")
        team = h.get("team")
        if team is not None and team not in teams:
            known = ", ".join(repr(t) for t in sorted(teams)) or "none"
            raise ConfigError(f"{where}: team {team!r} is not listed under [[teams]] (teams: {known})")
        persons = h.get("persons")
        public = h.get("public")
        if public is not None and not isinstance(public, bool):
            raise ConfigError(f"{where}.public must be true or false, got {public!r}")
        meters = []
        for m in h.get("meters", []):
            mid = str(m.get("id", "")).strip()
            if not mid:
                raise ConfigError(f"{where}: every meter needs an id")
            if mid in seen_meters:
                raise ConfigError(f"{where}: meter id {mid!r} appears twice")
            seen_meters.add(mid)
            kind = str(m.get("kind", "register"))
            if kind not in METER_KINDS:
                raise ConfigError(f"{where}: meter {mid!r} kind must be one of {METER_KINDS}")
            mcarrier = str(m.get("carrier", carrier))
            if mcarrier not in CARRIERS:
                raise ConfigError(f"{where}: meter {mid!r} carrier must be one of {CARRIERS}")
            meters.append(MeterConfig(mid, mcarrier, kind, _gas(m.get("gas"), f"{where} meter {mid}")))
        area = h.get("living_area_m2")
        try:
            if persons is not None:
                check_persons(persons)
            area = check_living_area_m2(area)
        except ConfigError as exc:
            raise ConfigError(f"{where}.{exc.message}") from exc
        building = h.get("building_type")
        if building is not None and building not in BUILDING_TYPES:
            raise ConfigError(f"{where}.building_type must be one of {BUILDING_TYPES}, got {building!r}")
        hot_water = h.get("electric_hot_water")
        if hot_water is not None and not isinstance(hot_water, bool):
            raise ConfigError(f"{where}.electric_hot_water must be true or false, got {hot_water!r}")
        households.append(
            HouseholdConfig(
                pseudonym=h["pseudonym"].strip(),
                persons=persons,
                team=team,
                living_area_m2=area,
                public_listing=public,
                meters=tuple(meters),
                building_type=building,
                electric_hot_water=hot_water,
            )
        )
    pseudonyms = [h.pseudonym for h in households]
    if len(set(pseudonyms)) != len(pseudonyms):
        raise ConfigError(f"{source}: household pseudonyms must be unique")
    cfg = ContestConfig(
        slug=c["slug"].strip(),
        name=c["name"].strip(),
        timezone=tz,
        carrier=carrier,
        baseline_start=_date(baseline, "start", "contest.baseline"),
        baseline_end=_date(baseline, "end", "contest.baseline"),
        competition_start=_date(competition, "start", "contest.competition"),
        competition_end=_date(competition, "end", "contest.competition"),
        rules=rules,
        gas=cfg_gas,
        teams=teams,
        households=tuple(households),
        grace_days=_grace_days(c.get("grace_days", 14), source),
        initial_state=_initial_state(c.get("state", "announced"), source),
    )
    try:
        # The periods and the rules together, checked once by scoring.
        cfg.scoring_rules()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}", key=exc.key, params=exc.params) from exc
    return cfg


def _grace_days(value: Any, source: str) -> int:
    try:
        return check_grace_days(value)
    except ConfigError as exc:
        raise ConfigError(f"{source}: contest.{exc.message}") from exc


def _initial_state(value: Any, source: str) -> str:
    if value not in ("draft", "announced"):
        raise ConfigError(
            f'{source}: contest.state may be "draft" or "announced" (a new contest\'s state), got {value!r}'
        )
    return str(value)


def read_contest_config(path: str | Path) -> ContestConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror}") from exc
    return parse_contest_config(text, source=str(p))
