"""How a contest's season is shown: the state of now, its sentence in the visitor's language, and the
winners of a final result (pages, widget and portal share this)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contest.domain import HouseholdStanding, LeaderboardView, TeamStanding
from contest.season import ANNOUNCED, ARCHIVED, CLOSING, FROZEN, PROVISIONAL, RUNNING, Season
from web.catalog import TEXTS
from web.i18n import fmt_date, fmt_datetime


@dataclass(frozen=True, slots=True)
class SeasonShown:
    """state: the state now; sentence: what it means; ranks: whether ranks are shown at all;
    provisional: results still change with late data; final: frozen."""

    state: str
    label: str
    sentence: str
    countdown: str | None
    ranks: bool
    provisional: bool
    final: bool
    starts_in_days: int | None


def show_season(season: Season, view: LeaderboardView, now: dt.datetime, lang: str) -> SeasonShown:
    t = TEXTS[lang]
    state = season.public_state(now)
    countdown = None
    starts_in = None
    if state == ANNOUNCED:
        starts_in = season.days_to_start(now)
        sentence = t["season_announced"].format(start=fmt_date(season.competition_start, lang))
        countdown = t["season_countdown_one"] if starts_in == 1 else t["season_countdown"].format(n=starts_in)
    elif state == RUNNING:
        total = (season.competition_end - season.competition_start).days + 1
        day = (season.today(now) - season.competition_start).days + 1
        sentence = t["season_running"].format(n=day, total=total)
    elif state == CLOSING:
        sentence = (
            t["season_reopened"]
            if season.hold_open
            else t["season_closing"].format(grace_end=fmt_date(season.grace_end, lang))
        )
    elif state in FROZEN:
        closed = fmt_datetime(season.closed_at or view.as_of, season.timezone, lang)
        sentence = t["season_archived" if state == ARCHIVED else "season_final"].format(closed=closed)
    else:  # a draft: staff only
        sentence = t["state_draft"]
    return SeasonShown(
        state=state,
        label=t[f"state_{state}"],
        sentence=sentence,
        countdown=countdown,
        ranks=state not in (ANNOUNCED, "draft"),
        provisional=state in PROVISIONAL,
        final=state in FROZEN,
        starts_in_days=starts_in,
    )


@dataclass(frozen=True, slots=True)
class Winners:
    teams: tuple[TeamStanding, ...]
    households: tuple[HouseholdStanding, ...]


def winners(view: LeaderboardView, places: int = 3) -> Winners:
    """The ranked teams and listed households on places 1..``places`` (ties share a place)."""
    return Winners(
        teams=tuple(t for t in view.teams if t.rank is not None and t.rank <= 1),
        households=tuple(h for h in view.households if h.rank is not None and h.rank <= places),
    )
