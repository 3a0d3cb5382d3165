"""Public pages and the JSON API of leaderboards. Handlers call services, never the database."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from contest.domain import LeaderboardView
from contest.publishing import PublishingService
from contest.services import ContestService
from web.i18n import TEXTS, fmt_date, fmt_datetime, fmt_number, fmt_percent, pick_language
from web.schemas import ContestOut, LeaderboardOut


def _lang(request: Request[Any, Any, Any]) -> str:
    return pick_language(
        request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language")
    )


def page_context(lang: str, **extra: Any) -> dict[str, Any]:
    return {
        "lang": lang,
        "other_lang": "en" if lang == "de" else "de",
        "t": TEXTS[lang],
        "pct": lambda v, d=1: fmt_percent(v, lang, d),
        "num": lambda v, d=1: fmt_number(v, lang, d),
        "date": lambda v: fmt_date(v, lang),
        **extra,
    }


class PublicPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(
        self, request: Request[Any, Any, Any], contests: NamedDependency[ContestService]
    ) -> Template | Redirect:
        items = contests.list_contests()
        if len(items) == 1:
            return Redirect(f"/contests/{items[0].slug}")
        return Template("index.html", context=page_context(_lang(request), contests=items))

    @get("/contests/{slug:str}", sync_to_thread=True)
    def leaderboard_page(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        boards: NamedDependency[PublishingService],
    ) -> Template:
        lang = _lang(request)
        view: LeaderboardView = boards.latest(slug)
        c = view.contest
        total_days = (c.competition_end - c.competition_start).days + 1
        return Template(
            "leaderboard.html",
            context=page_context(
                lang,
                view=view,
                contest=c,
                as_of_text=fmt_datetime(view.as_of, c.timezone, lang),
                total_days=total_days,
                coverage_text=fmt_percent(c.min_coverage_fraction, lang, 0),
            ),
        )


class LeaderboardApi(Controller):
    path = "/api/contests"
    tags = ["leaderboard"]

    @get("/", sync_to_thread=True, summary="All contests")
    def list_contests(self, contests: NamedDependency[ContestService]) -> list[ContestOut]:
        return [ContestOut.from_info(c) for c in contests.list_contests()]

    @get("/{slug:str}", sync_to_thread=True, summary="One contest with its periods and scoring rules")
    def contest(self, slug: FromPath[str], contests: NamedDependency[ContestService]) -> ContestOut:
        return ContestOut.from_info(contests.get(slug))

    @get(
        "/{slug:str}/leaderboard",
        sync_to_thread=True,
        summary="Leaderboard: teams and opted-in households, as last published",
        description=(
            "Savings are measured against each household's mean daily consumption in the baseline "
            "period, over competition days that have data. Fractions are 0..1 (0.12 = 12 %)."
        ),
    )
    def leaderboard(self, slug: FromPath[str], boards: NamedDependency[PublishingService]) -> LeaderboardOut:
        return LeaderboardOut.from_view(boards.latest(slug))
