"""The baseline methods a contest can choose: one row each, saying what the method needs and how it fits.

A row declares the baseline days the method learns from (its window), whether it needs weather or the
peer table, the model it fits on the household's own days, and the checks it adds to the rules. Scoring
asks the row and never tests a method's name. Adding a method: its model (:mod:`scoring.baselines`) and
one row in :data:`BASELINE_METHODS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from scoring.baselines import BaselineModel, DegreeDayBaseline, PriorPeriodMeanModel, PriorYearModel
from scoring.degree_day import DegreeDaySettings

METHOD_PRIOR_PERIOD_MEAN = "prior_period_mean"
METHOD_PRIOR_YEAR = "prior_year_same_period"
METHOD_DEGREE_DAY = "degree_day_regression"
METHOD_PEER_BENCHMARK = "peer_benchmark"

#: The prior-year baseline looks back 52 whole weeks, so every day meets the same weekday [days].
PRIOR_YEAR_SHIFT_DAYS = 364


class BaselineParameters(DegreeDaySettings, Protocol):
    """What a row reads of the contest's :class:`scoring.specs.BaselineSpec`."""

    @property
    def method(self) -> str: ...


class ContestPeriods(Protocol):
    """The contest's periods (local days, inclusive), as :class:`scoring.rules.ScoringRules` has them."""

    @property
    def baseline_start(self) -> dt.date: ...
    @property
    def baseline_end(self) -> dt.date: ...
    @property
    def competition_start(self) -> dt.date: ...
    @property
    def competition_end(self) -> dt.date: ...


#: (periods, first and last competition day scored, last complete local day) -> (first, last) baseline
#: day scored; last < first: none
Window = Callable[[ContestPeriods, dt.date, dt.date, dt.date], tuple[dt.date, dt.date]]


def baseline_period(
    periods: ContestPeriods, comp_first: dt.date, comp_last: dt.date, last_complete: dt.date
) -> tuple[dt.date, dt.date]:
    """The baseline period, as far as it is complete."""
    return periods.baseline_start, min(periods.baseline_end, last_complete)


def prior_year_days(
    periods: ContestPeriods, comp_first: dt.date, comp_last: dt.date, last_complete: dt.date
) -> tuple[dt.date, dt.date]:
    """The competition days scored, 52 weeks earlier (before the start: the whole competition's)."""
    shift = dt.timedelta(days=PRIOR_YEAR_SHIFT_DAYS)
    if comp_last >= comp_first:
        return comp_first - shift, comp_last - shift
    return periods.competition_start - shift, min(periods.competition_end - shift, last_complete)


def no_baseline_days(
    periods: ContestPeriods, comp_first: dt.date, comp_last: dt.date, last_complete: dt.date
) -> tuple[dt.date, dt.date]:
    """None: the method does not look at the household's past."""
    return periods.baseline_start, periods.baseline_start - dt.timedelta(days=1)


def _no_check(value: object) -> None:
    return None


def _needs_a_heating_balance_point(spec: BaselineParameters) -> None:
    if not spec.heating_balance_points_c:
        raise ValueError("the degree-day method needs at least one heating balance point")


def _prior_year_fits_the_periods(periods: ContestPeriods) -> None:
    shift = dt.timedelta(days=PRIOR_YEAR_SHIFT_DAYS)
    if (periods.competition_end - periods.competition_start).days + 1 > PRIOR_YEAR_SHIFT_DAYS:
        raise ValueError(
            f"the prior-year baseline needs a competition of at most {PRIOR_YEAR_SHIFT_DAYS} days"
        )
    first, last = periods.competition_start - shift, periods.competition_end - shift
    if first < periods.baseline_start or last > periods.baseline_end:
        raise ValueError(
            "the prior-year baseline compares with the competition days 364 days earlier "
            f"({first} to {last}); the baseline period {periods.baseline_start} to {periods.baseline_end} "
            "must contain them"
        )


@dataclass(frozen=True, slots=True)
class BaselineMethod:
    """One baseline method.

    name: the method's name in the rules (``BaselineSpec.method``)
    window: the baseline days it learns from (:data:`Window`)
    model: the unfitted model of the household's own baseline days; None: the method does not learn from
        them (the peer benchmark scores every household against the peer table instead)
    needs_weather: it needs the daily mean temperature of every scored day
    needs_peer_table: every household is scored against the Stromspiegel table (electricity only)
    check_spec: raises ``ValueError`` when the baseline parameters do not suit the method
    check_periods: raises ``ValueError`` when the contest's periods do not suit the method
    """

    name: str
    window: Window
    model: Callable[[BaselineParameters], BaselineModel] | None
    needs_weather: bool = False
    needs_peer_table: bool = False
    check_spec: Callable[[BaselineParameters], None] = _no_check
    check_periods: Callable[[ContestPeriods], None] = _no_check

    @property
    def learns_from_history(self) -> bool:
        """True when the method fits a model on the household's own baseline days."""
        return self.model is not None


#: Every method a contest can choose, by name; see the docstring of :class:`scoring.specs.BaselineSpec`.
BASELINE_METHODS: Mapping[str, BaselineMethod] = {
    row.name: row
    for row in (
        BaselineMethod(
            name=METHOD_PRIOR_PERIOD_MEAN,
            window=baseline_period,
            model=lambda spec: PriorPeriodMeanModel(),
        ),
        BaselineMethod(
            name=METHOD_PRIOR_YEAR,
            window=prior_year_days,
            model=lambda spec: PriorYearModel(),
            check_periods=_prior_year_fits_the_periods,
        ),
        BaselineMethod(
            name=METHOD_DEGREE_DAY,
            window=baseline_period,
            model=DegreeDayBaseline,
            needs_weather=True,
            check_spec=_needs_a_heating_balance_point,
        ),
        BaselineMethod(
            name=METHOD_PEER_BENCHMARK,
            window=no_baseline_days,
            model=None,
            needs_peer_table=True,
        ),
    )
}

#: The names of the methods, in the order above.
METHODS = tuple(BASELINE_METHODS)


def baseline_method(name: str) -> BaselineMethod:
    """The row of the method called ``name``; ``ValueError`` naming the methods when there is none."""
    row = BASELINE_METHODS.get(name) if isinstance(name, str) else None
    if row is None:
        raise ValueError(f"baseline method must be one of {METHODS}, got {name!r}")
    return row
