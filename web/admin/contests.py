"""Admin API: contests (set up, shown, their file), their teams, their results (findings, snapshots,
publication, CSV), the rejected-records store, and their season (announce, close, reopen, archive)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from contest.config import contest_config_from_dict
from contest.contests import ContestService
from contest.rules import ContestRules
from contest.staff import StaffService, standings_csv
from contest.teams import TeamService
from web.admin.deps import CONFLICT, ERRORS, NOT_FOUND, AdminDeps, Limit, RowId, actor, staff_guard
from web.admin.shapes import (
    ContestDetail,
    FindingsOut,
    LateImportOut,
    RejectedItem,
    SeasonActionIn,
    SeasonEventOut,
    SeasonOutStaff,
    SnapshotOut,
    TeamIn,
    TeamItem,
)
from web.schemas import Period, shape


class AdminContests(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [staff_guard]
    security = [{"StaffToken": []}]

    @get("/contests", sync_to_thread=True, summary="All contests", responses=ERRORS)
    def contests(self, admin: NamedDependency[AdminDeps]) -> list[ContestDetail]:
        with admin.db.session() as s:
            overviews = ContestService(s, admin.publishing.clock).overviews()
        return [ContestDetail.from_overview(o) for o in overviews]

    @post(
        "/contests",
        sync_to_thread=True,
        summary="Create or update a contest (same structure as the TOML file)",
        description="Teams, households and meters are matched by name, pseudonym and meter id; nothing is "
        "deleted. GET /contests/{slug}/config gives an existing contest in this structure.",
        responses=ERRORS,
    )
    def setup_contest(
        self, admin: NamedDependency[AdminDeps], data: JSONBody[dict[str, Any]]
    ) -> ContestDetail:
        cfg = contest_config_from_dict(data)
        with admin.db.session() as s:
            contests = ContestService(s, admin.publishing.clock)
            overview = contests.overview(contests.setup(cfg).slug)
        return ContestDetail.from_overview(overview)

    @get(
        "/contests/{slug:str}",
        sync_to_thread=True,
        summary="A contest: status, teams, household count, scoring settings",
        responses={**ERRORS, **NOT_FOUND},
    )
    def contest(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> ContestDetail:
        with admin.db.session() as s:
            return ContestDetail.from_overview(ContestService(s, admin.publishing.clock).overview(slug))

    @get(
        "/contests/{slug:str}/config",
        sync_to_thread=True,
        summary="A contest in the structure POST /contests accepts (fetch, edit, post back)",
        responses={**ERRORS, **NOT_FOUND},
    )
    def contest_config(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> dict[str, Any]:
        with admin.db.session() as s:
            return ContestService(s).config(slug)

    @get(
        "/contests/{slug:str}/rules",
        sync_to_thread=True,
        summary="A contest's rules: scoring, CO2 factors, privacy (the contest file's [scoring], [co2], "
        "[privacy])",
        responses={**ERRORS, **NOT_FOUND},
    )
    def contest_rules(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> ContestRules:
        with admin.db.session() as s:
            return ContestService(s).get(slug).rules

    @put(
        "/contests/{slug:str}/rules",
        sync_to_thread=True,
        summary="Replace a contest's rules",
        description="Keys left out take their defaults. The rules are checked with the contest's periods "
        "before they are stored; the contest is republished in the background at once.",
        responses={**ERRORS, **NOT_FOUND},
    )
    def set_contest_rules(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], data: JSONBody[ContestRules]
    ) -> ContestRules:
        with admin.db.session() as s:
            rules = ContestService(s).set_rules(slug, data).rules
        admin.publishing.publish_soon(slug, reason="rules")
        return rules

    # teams
    @get(
        "/contests/{slug:str}/teams",
        sync_to_thread=True,
        summary="A contest's teams",
        responses={**ERRORS, **NOT_FOUND},
    )
    def teams(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> list[TeamItem]:
        with admin.db.session() as s:
            return shape(TeamService(s).list(slug), list[TeamItem])

    @post(
        "/contests/{slug:str}/teams",
        sync_to_thread=True,
        summary="Create a team",
        responses={**ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def create_team(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], data: JSONBody[TeamIn]
    ) -> TeamItem:
        with admin.db.session() as s:
            return shape(TeamService(s).create(slug, data.name), TeamItem)

    @patch(
        "/contests/{slug:str}/teams/{team_id:int}",
        sync_to_thread=True,
        summary="Rename a team",
        responses={**ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def rename_team(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], team_id: RowId, data: JSONBody[TeamIn]
    ) -> TeamItem:
        with admin.db.session() as s:
            return shape(TeamService(s).rename(slug, team_id, data.name), TeamItem)

    # data quality, results, publishing
    @get(
        "/rejected",
        sync_to_thread=True,
        summary="The rejected-records store (CSV rows and MQTT messages), newest first",
        responses=ERRORS,
    )
    def rejected(
        self,
        admin: NamedDependency[AdminDeps],
        source: FromQuery[Literal["csv", "mqtt", "manual"] | None] = None,
        key: Annotated[
            str | None, QueryParameter(description="A rejection key, e.g. mqtt.unbound_device")
        ] = None,
        meter: Annotated[str | None, QueryParameter(description="A meter id")] = None,
        contest: Annotated[str | None, QueryParameter(description="A contest slug (its meters)")] = None,
        before_id: Annotated[
            int | None, QueryParameter(ge=1, description="Only entries older than this id (paging)")
        ] = None,
        limit: Limit = 200,
    ) -> list[RejectedItem]:
        with admin.db.session() as s:
            found = StaffService(s).rejected_records(
                source, limit, key=key, meter=meter, contest=contest, before_id=before_id
            )
        return shape(found, list[RejectedItem])

    @get(
        "/contests/{slug:str}/findings",
        sync_to_thread=True,
        summary="Plausibility flags (or all data-quality findings) of the latest scoring, with evidence",
        description="Snapshots publish only the number of findings, so the contest is scored again as of "
        "the newest snapshot (with the data stored now); without a snapshot, as of now.",
        responses={**ERRORS, **NOT_FOUND},
    )
    def findings(
        self,
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        kind: FromQuery[Literal["plausibility", "all"]] = "plausibility",
    ) -> FindingsOut:
        with admin.db.session() as s:
            report = admin.findings.report(
                s, slug, clock=admin.publishing.clock, plausibility_only=kind == "plausibility"
            )
        return FindingsOut.from_report(report, kind)

    @get(
        "/contests/{slug:str}/snapshots",
        sync_to_thread=True,
        summary="A contest's published leaderboard snapshots, newest first",
        responses={**ERRORS, **NOT_FOUND},
    )
    def snapshots(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], limit: Limit = 50
    ) -> list[SnapshotOut]:
        with admin.db.session() as s:
            ContestService(s).get(slug)  # an unknown contest: 404
        return shape(admin.publishing.history(slug, limit=limit), list[SnapshotOut])

    @post(
        "/contests/{slug:str}/publish",
        sync_to_thread=True,
        summary="Rescore and publish now",
        responses={**ERRORS, **NOT_FOUND},
    )
    def publish(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> SnapshotOut:
        return shape(admin.publishing.publish(slug, reason="manual"), SnapshotOut)

    @get(
        "/contests/{slug:str}/results.csv",
        sync_to_thread=True,
        summary="All results as CSV (staff view)",
        responses={**ERRORS, **NOT_FOUND},
    )
    def results_csv(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> Response[bytes]:
        # As published last (also households not listed publicly); for a final result the final one.
        body = standings_csv(admin.publishing.standings(slug))
        return Response(
            ("\ufeff" + body).encode("utf-8"),
            media_type="text/csv",  # Litestar adds "; charset=utf-8"
            headers={"Content-Disposition": f'attachment; filename="ergebnisse-{slug}.csv"'},
        )

    # the season
    @get(
        "/contests/{slug:str}/season",
        sync_to_thread=True,
        summary="The contest's season: state now and as recorded, log of changes, late data",
        responses={**ERRORS, **NOT_FOUND},
    )
    def season(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> SeasonOutStaff:
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/announce",
        sync_to_thread=True,
        summary="Announce a draft: its public page, widget and API appear; households can sign in",
        responses={**ERRORS, **NOT_FOUND},
    )
    def announce(
        self, request: Request[Any, Any, Any], admin: NamedDependency[AdminDeps], slug: FromPath[str]
    ) -> SeasonOutStaff:
        admin.publishing.announce(slug, actor=actor(request, admin))
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/close",
        sync_to_thread=True,
        summary="Close now: the result becomes final (before the end of the grace period, e.g. at the ceremony)",
        description="Data that arrives later is stored and listed under late_imports but changes no public figure.",
        responses={**ERRORS, **NOT_FOUND},
    )
    def close(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        data: JSONBody[SeasonActionIn],
    ) -> SeasonOutStaff:
        admin.publishing.close_now(slug, actor=actor(request, admin), reason=data.reason)
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/reopen",
        sync_to_thread=True,
        summary="Reopen a final result for late data (a reason is required and logged)",
        description="It stays open (provisional) until staff close it again, which publishes a new final revision.",
        responses={**ERRORS, **NOT_FOUND},
    )
    def reopen(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        data: JSONBody[SeasonActionIn],
    ) -> SeasonOutStaff:
        admin.publishing.reopen(slug, actor=actor(request, admin), reason=data.reason or "")
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/archive",
        sync_to_thread=True,
        summary="Archive a final result: it stays on the contest index with its final pages and API",
        responses={**ERRORS, **NOT_FOUND},
    )
    def archive(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        data: JSONBody[SeasonActionIn],
    ) -> SeasonOutStaff:
        admin.publishing.archive(slug, actor=actor(request, admin), reason=data.reason)
        return _season_out(admin, slug)


def _season_out(admin: AdminDeps, slug: str) -> SeasonOutStaff:
    publishing = admin.publishing
    season = publishing.seasons.get(slug)
    final = publishing.final_snapshot(slug)
    return SeasonOutStaff(
        slug=slug,
        status=season.public_state(publishing.clock()),  # type: ignore[arg-type]
        recorded_state=season.state,  # type: ignore[arg-type]
        competition=Period(season.competition_start, season.competition_end),
        grace_days=season.grace_days,
        grace_end=season.grace_end,
        reopened=season.hold_open,
        closed_at=season.closed_at,
        final_snapshot_id=final.id if final is not None else None,
        last_published_at=season.last_published_at,
        last_error=season.last_error,
        last_error_at=season.last_error_at,
        events=[SeasonEventOut.from_event(e) for e in publishing.seasons.events(slug)],
        late_imports=[
            LateImportOut(i.batch_id, i.meter_external_id, i.source, i.filename, i.created_at, i.rows_stored)
            for i in publishing.seasons.late_imports(slug)
        ],
    )
