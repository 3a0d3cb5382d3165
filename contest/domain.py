"""Domain values handed out by services (frozen dataclasses): never ORM rows, never API shapes."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from contest.errors import ConfigError
from contest.readings import Rejection
from contest.rules import ContestRules
from contest.units import GasFactors
from scoring.rules import ScoringRules

CARRIERS = ("electricity", "gas", "heat")
METER_KINDS = ("register", "interval")
#: building types of the peer benchmark (Stromspiegel)
BUILDING_TYPES = ("flat", "house")

#: Limits of a household's facts (sanity, not policy), the same wherever they are set: the contest
#: file, ``contest household add``, the admin API.
PERSONS_RANGE = (1, 50)
LIVING_AREA_M2_RANGE = (5.0, 10_000.0)


def check_persons(persons: int) -> int:
    low, high = PERSONS_RANGE
    if isinstance(persons, bool) or not isinstance(persons, int) or not low <= persons <= high:
        raise ConfigError(f"persons must be a whole number between {low} and {high}, got {persons!r}")
    return persons


def check_living_area_m2(area_m2: float | None) -> float | None:
    """The living area [m²], or None (not stated)."""
    if area_m2 is None:
        return None
    low, high = LIVING_AREA_M2_RANGE
    if (
        isinstance(area_m2, bool)
        or not isinstance(area_m2, int | float)
        or not (math.isfinite(area_m2) and low <= area_m2 <= high)
    ):
        raise ConfigError(f"living_area_m2 must be between {low:g} and {high:,.0f} m², got {area_m2!r}")
    return float(area_m2)


def check_building_type(building_type: str | None) -> str | None:
    """One of :data:`BUILDING_TYPES`, or None (not stated)."""
    if building_type is not None and building_type not in BUILDING_TYPES:
        raise ConfigError(
            f"building_type must be one of {BUILDING_TYPES}, got {building_type!r}",
            key="household.building_type",
        )
    return building_type


def clean_name(value: str, what: str, max_len: int) -> str:
    """A name people will see (pseudonym, team, meter id, device): trimmed, printable, storable
    everywhere; :class:`ConfigError` naming ``what`` otherwise."""
    text = value.strip()
    if not text:
        raise ConfigError(f"{what} must not be empty", key="name.empty")
    if len(text) > max_len:
        raise ConfigError(
            f"{what} is longer than {max_len} characters", key="name.too_long", params={"max_chars": max_len}
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError(f"{what} contains characters that are not valid text", key="name.not_text") from exc
    if any(not ch.isprintable() for ch in text):
        raise ConfigError(f"{what} contains control characters", key="name.not_text")
    return text


#: Longest names [characters], the same wherever they are set (the columns hold them).
PSEUDONYM_MAX_CHARS = 80
TEAM_NAME_MAX_CHARS = 200
METER_ID_MAX_CHARS = 120


def check_meter(external_id: str, carrier: str, kind: str) -> str:
    """A new meter's id (cleaned, see :func:`clean_name`), once its carrier and kind are known ones."""
    external_id = clean_name(external_id, "meter id", METER_ID_MAX_CHARS)
    if carrier not in CARRIERS:
        raise ConfigError(f"meter {external_id!r}: carrier must be one of {CARRIERS}, got {carrier!r}")
    if kind not in METER_KINDS:
        raise ConfigError(f"meter {external_id!r}: kind must be one of {METER_KINDS}, got {kind!r}")
    return external_id


@dataclass(frozen=True, slots=True)
class ContestInfo:
    id: int
    slug: str
    name: str
    timezone: str
    carrier: str
    baseline_start: dt.date
    baseline_end: dt.date
    competition_start: dt.date
    competition_end: dt.date
    gas: GasFactors
    #: the contest's rules: scoring, CO2 factors, privacy (contest.rules)
    rules: ContestRules
    #: the season state when this was published (contest.season); pages show the state of now
    state: str = "running"
    #: days after the last competition day in which late data still counts [days]
    grace_days: int = 14

    def scoring_rules(self) -> ScoringRules:
        """The contest's rules with its zone, carrier and periods, as scoring takes them."""
        return self.rules.scoring_rules(
            tz=self.timezone,
            carrier=self.carrier,
            baseline_start=self.baseline_start,
            baseline_end=self.baseline_end,
            competition_start=self.competition_start,
            competition_end=self.competition_end,
        )


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """One register series of a meter (docs/glossary.md): the readings of one counter after
    ``starts_at`` up to and including ``ends_at`` [UTC]; None = since the meter's start / still open.
    (A reading at the very instant of a bind is the old counter's last one, like a swapped meter's.)

    device: the device whose own register it is (only its readings belong here); None: the meter's
        display, read by the household (uploads)
    """

    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    device: str | None

    def holds(self, ts: dt.datetime) -> bool:
        return (self.starts_at is None or ts > self.starts_at) and (
            self.ends_at is None or ts <= self.ends_at
        )


@dataclass(frozen=True, slots=True)
class MeterContext:
    """What an importer needs to know about a meter before parsing its data."""

    meter_id: int
    external_id: str
    household_id: int
    contest_slug: str
    timezone: str
    carrier: str
    kind: str
    gas: GasFactors
    competition_end: dt.date
    baseline_start: dt.date
    #: readings must lie in [valid_from, valid_to) (meter installed / replaced); None = open
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    #: its register series in time order (empty: one series of uploads)
    series: tuple[SeriesInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: counts, the rejected rows with line numbers and reasons, what was detected.

    rows_read: data rows in the input
    rows_stored: readings newly stored
    rows_duplicate: readings already stored before (re-import) — stored nothing twice
    rows_rejected: rows kept as rejected records, with their reasons
    """

    batch_id: int
    meter_external_id: str
    filename: str | None
    rows_read: int
    rows_stored: int
    rows_duplicate: int
    rows_rejected: int
    rejections: tuple[Rejection, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    first_ts_utc: dt.datetime | None = None
    last_ts_utc: dt.datetime | None = None

    def first_reasons(self, limit: int = 5) -> list[str]:
        return [f"line {r.line_no}: {r.reason}" if r.line_no else r.reason for r in self.rejections[:limit]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicHouseholdStanding:
    """What the public sees of a household's line on a leaderboard (the JSON API's ``HouseholdOut``:
    every field always given). coverage_fraction: the lower of both periods' coverage [1]."""

    rank: int | None
    pseudonym: str
    team: str | None
    status: str
    savings_fraction: float | None
    savings_kwh: float | None
    savings_kwh_per_person: float | None
    coverage_fraction: float
    baseline_coverage_fraction: float
    competition_coverage_fraction: float
    #: CO2 avoided by the savings [kg] (savings x the carrier's emission factor)
    co2_saved_kg: float | None
    #: its uncertainty interval overlaps a ranked neighbour's widely: the ranks may not differ really
    statistically_tied: bool
    #: its ranking category (e.g. ``"2"`` or ``"5+"`` persons with ``category_by = "household_size"``)
    category: str | None
    #: rank among the ranked households of its category (all participants count, as for ``rank``)
    category_rank: int | None
    #: savings per m² of living area [kWh/m²]; None without a living area or without a rank
    savings_kwh_per_m2: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdStanding(PublicHouseholdStanding):
    """One household's line on a leaderboard: its public part and what stays with the staff and the
    household itself."""

    household_id: int
    persons: int
    public_listing: bool
    expected_kwh: float | None
    actual_kwh: float | None
    baseline_kwh_per_day: float | None
    #: why it is not ranked (a stable key), if it is not
    status_reason: str | None = None
    #: the method its baseline came from (differs from the contest's with the peer fallback)
    baseline_method: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTeamStanding:
    """What the public sees of a team (the JSON API's ``TeamOut``).
    savings_fraction: savings / expected consumption of its ranked members [1]."""

    rank: int | None
    name: str
    status: str
    members: int
    ranked_members: int
    savings_fraction: float | None
    savings_kwh: float | None
    savings_kwh_per_person: float | None
    expected_kwh: float | None
    actual_kwh: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamStanding(PublicTeamStanding):
    team_id: int
    co2_saved_kg: float | None = None


@dataclass(frozen=True, slots=True)
class CityFigures:
    """The contest as a whole, for the top of the public page.

    participants: households taking part; ranked: those with enough data
    savings_kwh: energy saved by ranked households so far [kWh] (negative: more used)
    """

    participants: int = 0
    ranked: int = 0
    teams: int = 0
    savings_kwh: float = 0.0
    expected_kwh: float = 0.0
    co2_saved_kg: float = 0.0
    #: households whose baseline has enough data already (what an announced contest shows)
    baseline_ready: int = 0

    @property
    def ranked_fraction(self) -> float:
        return self.ranked / self.participants if self.participants else 0.0

    @property
    def savings_fraction(self) -> float | None:
        return self.savings_kwh / self.expected_kwh if self.expected_kwh > 0 else None


@dataclass(frozen=True, slots=True)
class LeaderboardView:
    contest: ContestInfo
    as_of: dt.datetime
    competition_days_elapsed: int
    teams: tuple[TeamStanding, ...]
    households: tuple[HouseholdStanding, ...]
    findings: tuple[Any, ...] = ()
    city: CityFigures = CityFigures()
    #: how the result came about: method, parameters, input fingerprint (reproducible runs)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def categories(self) -> tuple[str, ...]:
        """The ranking categories of the listed households, in order ("1", "2", ..., "5+"); empty when
        the contest ranks no categories."""
        return tuple(sorted({h.category for h in self.households if h.category}, key=category_sort_key))

    @property
    def has_living_areas(self) -> bool:
        """True when some listed household has a per-m² figure (it gave its living area)."""
        return any(h.savings_kwh_per_m2 is not None for h in self.households)

    def in_category(self, category: str) -> tuple[HouseholdStanding, ...]:
        """The listed households of ``category``, by category rank (unranked ones last)."""
        members = [h for h in self.households if h.category == category]
        # Stable: households of equal category rank keep the order of the overall table.
        return tuple(sorted(members, key=lambda h: (h.category_rank is None, h.category_rank or 0)))


def category_sort_key(category: str) -> tuple[int, str]:
    """Size classes in numeric order ("2" before "10", "5+" after "4"), other labels after them."""
    digits = category.rstrip("+")
    return (int(digits), category) if digits.isdigit() else (1_000_000, category)


@dataclass(frozen=True, slots=True)
class MeterInfo:
    external_id: str
    carrier: str
    kind: str


@dataclass(frozen=True, slots=True)
class HouseholdInfo:
    id: int
    contest_slug: str
    contest_name: str
    #: the contest's zone (IANA name), in which the household's pages show times
    contest_timezone: str
    pseudonym: str
    team: str | None
    persons: int
    living_area_m2: float | None
    public_listing: bool
    meters: tuple[MeterInfo, ...]
    #: "flat" | "house" | None (peer benchmark)
    building_type: str | None = None
    #: hot water heated electrically (peer benchmark); None: not stated
    electric_hot_water: bool | None = None


@dataclass(frozen=True, slots=True)
class AbsenceInfo:
    """Days a household declared itself away (local days, both included)."""

    id: int
    first_day: dt.date
    last_day: dt.date
    note: str | None

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One past import of a household, for its portal page."""

    batch_id: int
    meter_external_id: str
    source: str
    filename: str | None
    created_at: dt.datetime
    rows_read: int
    rows_stored: int
    rows_duplicate: int
    rows_rejected: int


@dataclass(frozen=True, slots=True)
class UploadPreview:
    """What an upload would import, shown before the household confirms.

    total_kwh: energy the file accounts for [kWh] (interval sum, or register increase without resets)
    first_rows: the first usable rows as (time [UTC], value [kWh]); the page shows the time in the contest's zone
    """

    meter_external_id: str
    filename: str | None
    detected: dict[str, str]
    ignored_columns: tuple[tuple[str, str], ...]
    rows_read: int
    rows_usable: int
    rows_rejected: int
    first_ts_utc: dt.datetime | None
    last_ts_utc: dt.datetime | None
    total_kwh: float
    first_rows: tuple[tuple[dt.datetime, float], ...]
    rejections: tuple[Rejection, ...]
