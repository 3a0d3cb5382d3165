"""Public pages and the JSON API of leaderboards. Handlers call services, never the database."""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from litestar import Controller, MediaType, Request, get
from litestar.config.response_cache import default_do_cache_predicate
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template
from litestar.response.base import ASGIResponse
from litestar.serialization import encode_json
from litestar.types import HTTPScope

from contest.contests import ContestService
from contest.domain import LeaderboardView
from contest.errors import ContestError
from contest.publishing import PublishingService
from web.catalog import TEXTS
from web.charts import team_lines_svg
from web.i18n import category_label, fmt_date, fmt_datetime, fmt_number, fmt_percent, pick_language
from web.schemas import ContestOut, LeaderboardOut, SeasonOut
from web.seasons import show_season, winners
from web.security import DATA_HEADERS

#: How often a live-update stream checks for a new snapshot, and how long one stream lasts [s].
SSE_POLL_S = 2.0
SSE_MAX_S = 600.0


#: Households per page of the public leaderboard.
PAGE_SIZE = 100


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _match_category(value: str | None, categories: tuple[str, ...]) -> str | None:
    """The category a ``?category=`` value asks for: None (all households) when empty; "5 " is "5+"
    (an unencoded "+" in a query string arrives as a space); an unknown value stays as it is and
    selects nobody."""
    if not value:
        return None
    if value in categories:
        return value
    plus = value.replace(" ", "+")
    return plus if plus in categories else value


#: Cache keys of responses that must not be stored (see :func:`cacheable_response`).
UNCACHED = "uncached|"


def _page_choice(request: Request[Any, Any, Any], view: LeaderboardView) -> tuple[str | None, int, int]:
    """The leaderboard page's category (None: everybody), page number and number of pages, from the
    query string: page numbers are clamped to the pages there are, so the cache has one entry each."""
    category = _match_category(request.query_params.get("category"), view.categories)
    listed = view.households if category is None else view.in_category(category)
    pages = max(1, -(-len(listed) // PAGE_SIZE))
    page = min(max(1, _int(request.query_params.get("page"), 1)), pages)
    return category, page, pages


def snapshot_cache_key(request: Request[Any, Any, Any]) -> str:
    """Cache key of responses that depend only on the newest snapshot, the season's state of today,
    the language and the known query parameters (page, category): anything else in the query string
    is left out, so the number of keys is bounded by the contests' pages, not by what visitors send.
    A draft, an unknown slug or an unknown category is not cached (:data:`UNCACHED`)."""
    slug = request.path_params.get("slug", "")
    publishing: PublishingService = request.app.state.publishing
    try:
        season = publishing.public_season(slug)
        snapshot_id, view = publishing.latest_with_id(slug)
    except ContestError:
        return f"{UNCACHED}{id(request)}"
    category, page, _ = _page_choice(request, view)
    if category is not None and category not in view.categories:
        return f"{UNCACHED}{id(request)}"
    now = publishing.clock()
    day = season.today(now).isoformat()
    return (
        f"{request.url.path}|{request_language(request)}|{category or ''}|{page}|{snapshot_id}"
        f"|{season.public_state(now)}|{season.hold_open}|{day}"
    )


def cacheable_response(scope: HTTPScope, status_code: int) -> bool:
    """Whether the response cache stores a response: a success whose key is not :data:`UNCACHED`."""
    if not default_do_cache_predicate(scope, status_code):
        return False
    builder = getattr(scope["route_handler"], "cache_key_builder", None)
    return builder is None or not builder(Request(scope)).startswith(UNCACHED)


def request_language(request: Request[Any, Any, Any]) -> str:
    """The visitor's language: ``?lang=``, the language cookie, then the browser's Accept-Language."""
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


def _season_now(
    request: Request[Any, Any, Any], boards: PublishingService, slug: str
) -> tuple[SeasonOut, str]:
    """The season's state now and a short tag of it, computed at most once per ``cache_ttl_s`` for
    each contest (the JSON API's hot path asks on every request). A draft or unknown slug: 404."""
    cache: dict[str, tuple[float, SeasonOut, str]] = request.app.state.season_cache
    tick = time.monotonic()
    hit = cache.get(slug)
    if hit is not None and tick - hit[0] < boards.cache_ttl_s:
        return hit[1], hit[2]
    out = SeasonOut.from_season(boards.public_season(slug), boards.clock())
    tag = f"{out.state}{zlib.crc32(repr(out).encode()):08x}"
    if len(cache) > 1000:
        cache.clear()
    cache[slug] = (tick, out, tag)
    return out, tag


class PublicPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], boards: NamedDependency[PublishingService]) -> Template:
        """Every public contest with its state; finished ones with their winners."""
        lang = request_language(request)
        now = boards.clock()
        items = []
        for season in boards.seasons.all():
            if not season.public:
                continue
            view = boards.latest(season.slug)
            shown = show_season(season, view, now, lang)
            items.append((season, shown, winners(view, places=1) if shown.final else None))
        # Running and coming contests first, then finished ones, newest first within each.
        items.sort(key=lambda item: (item[1].final, -item[0].competition_start.toordinal()))
        return Template("index.html", context=page_context(lang, contests=items))

    @get("/contests/{slug:str}", sync_to_thread=True, cache=300, cache_key_builder=snapshot_cache_key)
    def leaderboard_page(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        boards: NamedDependency[PublishingService],
    ) -> Template:
        lang = request_language(request)
        season = boards.public_season(slug)
        snapshot_id, view = boards.latest_with_id(slug)
        season_shown = show_season(season, view, boards.clock(), lang)
        categories = view.categories
        category, page, pages = _page_choice(request, view)
        listed = view.households if category is None else view.in_category(category)
        shown = listed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
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
                coverage_text=fmt_percent(c.rules.scoring.min_coverage_fraction, lang, 0),
                snapshot_id=snapshot_id,
                progress_chart=team_lines_svg(
                    boards.team_progress(slug, c.timezone), title=TEXTS[lang]["progress_title"]
                ),
                households=shown,
                page=page,
                pages=pages,
                categories=[(k, category_label(k, lang)) for k in categories],
                category=category,
                category_text=category_label(category, lang) if category is not None else None,
                show_per_m2=view.has_living_areas,
                season=season,
                season_shown=season_shown,
                winners=winners(view) if season_shown.final else None,
            ),
        )

    @get("/contests/{slug:str}/widget", sync_to_thread=True)
    def widget(
        self, request: Request[Any, Any, Any], slug: FromPath[str], boards: NamedDependency[PublishingService]
    ) -> Template:
        """A small page for an iframe on the city's web portal: the top teams and city figures."""
        lang = request_language(request)
        season = boards.public_season(slug)
        view: LeaderboardView = boards.latest(slug)
        return Template(
            "widget.html",
            context=page_context(
                lang,
                view=view,
                contest=view.contest,
                as_of_text=fmt_datetime(view.as_of, view.contest.timezone, lang),
                shown=show_season(season, view, boards.clock(), lang),
            ),
        )


class LeaderboardApi(Controller):
    path = "/api/contests"
    tags = ["leaderboard"]

    @get("/", sync_to_thread=True, summary="All contests, with the state of their season")
    def list_contests(self, boards: NamedDependency[PublishingService]) -> list[ContestOut]:
        seasons = {s.slug: s for s in boards.seasons.all() if s.public}
        now = boards.clock()
        with boards.db.session() as s:
            contests = ContestService(s).list_contests()
        return [
            ContestOut.from_info(c, SeasonOut.from_season(seasons[c.slug], now))
            for c in contests
            if c.slug in seasons
        ]

    @get(
        "/{slug:str}",
        sync_to_thread=True,
        summary="One contest with its periods, scoring rules and the state of its season",
    )
    def contest(self, slug: FromPath[str], boards: NamedDependency[PublishingService]) -> ContestOut:
        season = boards.public_season(slug)
        with boards.db.session() as s:
            info = ContestService(s).get(slug)
        return ContestOut.from_info(info, SeasonOut.from_season(season, boards.clock()))

    @get(
        "/{slug:str}/leaderboard",
        # Cheap: a response built once per snapshot and page, from memory; the database is asked at most
        # once a second whether a newer snapshot exists. No dependency injection on this hot path.
        sync_to_thread=False,
        summary="Leaderboard: teams and opted-in households, as last published",
        description=(
            "Savings are measured against each household's baseline over competition days that have "
            "data. Fractions are 0..1 (0.12 = 12 %). Households are paged with offset/limit; "
            "households_total says how many there are. With category, only the households of that "
            "ranking category (e.g. household size 2), ordered by category_rank; categories lists them. "
            "The ETag changes with each publication."
        ),
        responses={
            200: ResponseSpec(data_container=LeaderboardOut, description="The newest published leaderboard")
        },
    )
    def leaderboard(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        offset: Annotated[int, Parameter(ge=0, description="First household of the page")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000, description="Households per page")] = 100,
        category: Annotated[
            str | None,
            Parameter(
                max_length=40,
                description=(
                    "Only the households of this ranking category (see categories; with household "
                    "size classes 1, 2, 3, 4 or 5+), ordered by category_rank"
                ),
            ),
        ] = None,
    ) -> ASGIResponse:
        boards: PublishingService = request.app.state.publishing
        out_season, season_tag = _season_now(request, boards, slug)  # a draft is not public: 404
        snapshot = boards.current_id(slug)
        key = (slug, snapshot, offset, limit, category, season_tag)
        cache: dict[tuple[Any, ...], ASGIResponse] = request.app.state.json_cache
        response = cache.get(key)
        if response is None:
            snapshot, view = boards.latest_with_id(slug)  # publishes a never-published contest once
            key = (slug, snapshot, offset, limit, category, season_tag)
            categories = view.categories
            chosen = _match_category(category, categories)
            # The category is free text: the ETag names it by its position, never by its characters.
            tag = "" if chosen is None else f"-c{categories.index(chosen) if chosen in categories else 'x'}"
            # The ASGI response holds no per-request state, so one instance serves every request.
            # The season can change by the clock without a new snapshot: its tag is in the ETag.
            response = ASGIResponse(
                body=encode_json(LeaderboardOut.from_view(view, offset, limit, chosen, out_season)),
                media_type=MediaType.JSON,
                headers={
                    "cache-control": "public, max-age=30",
                    "etag": f'"{slug}-{snapshot}-{offset}-{limit}{tag}-{season_tag}"',
                    **DATA_HEADERS,
                },
            )
            if len(cache) > 256:
                cache.clear()
            cache[key] = response
        etag = response.headers["etag"]
        # The raw header list, not request.headers: building that mapping costs more than this handler.
        if any(k == b"if-none-match" and v.decode("latin-1") == etag for k, v in request.scope["headers"]):
            return ASGIResponse(status_code=304, headers={"etag": etag})
        return response

    @get("/{slug:str}/events", include_in_schema=False)
    async def events(
        self, slug: FromPath[str], boards: NamedDependency[PublishingService]
    ) -> ServerSentEvent:
        """Server-sent events: the id of the newest snapshot, sent when it changes (live page updates).
        A stream lasts at most 10 minutes; browsers reconnect by themselves."""
        await anyio.to_thread.run_sync(boards.public_season, slug)  # unknown or draft: 404 before streaming

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            last: int | None = -1
            deadline = anyio.current_time() + SSE_MAX_S
            while anyio.current_time() < deadline:
                newest = await anyio.to_thread.run_sync(boards.current_id, slug)
                if newest != last:
                    last = newest
                    yield ServerSentEventMessage(data=str(newest or ""), event="snapshot", retry=3000)
                await anyio.sleep(SSE_POLL_S)

        return ServerSentEvent(stream())
