"""The household portal: sign in with the personal access code, upload a CSV, preview, confirm, report."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from contest.absences import AbsenceService
from contest.db import Database
from contest.domain import HouseholdInfo
from contest.errors import AlreadyExists, ConfigError, IngestError, NotFoundError, PermissionDenied
from contest.history import Change, RankHistoryService
from contest.households import HouseholdService
from contest.ports import CsvImportPort
from contest.publishing import PublishingService
from contest.readings import Rejection
from contest.season import FROZEN
from contest.spreadsheet import write_csv
from web.auth import COOKIE, MAX_AGE_S, LoginThrottle, SessionSigner
from web.catalog import TEXTS
from web.certificate import CertificateData, render_certificate
from web.charts import daily_bars_svg
from web.controllers import page_context, request_language
from web.i18n import category_label, error_text, fmt_datetime, fmt_number, fmt_percent, message
from web.pending import PendingUploads
from web.seasons import show_season
from web.uploads import check_upload, upload_filename


@dataclass
class LoginForm:
    code: str


@dataclass
class SettingsForm:
    pseudonym: str
    public: str = ""
    building_type: str = ""  # "", "flat", "house"
    electric_hot_water: str = ""  # "", "yes", "no"


@dataclass
class AbsenceForm:
    first_day: str  # yyyy-mm-dd (HTML date input) or dd.mm.yyyy
    last_day: str
    note: str = ""


@dataclass
class DeleteForm:
    confirm: str = ""


@dataclass
class UploadForm:
    meter: str
    file: UploadFile


@dataclass(frozen=True)
class PortalDeps:
    """What the portal needs, handed in by the app factory. Each request's use case runs in one
    transaction of ``db`` (``with portal.db.session() as s``)."""

    db: Database
    importer: CsvImportPort | None
    pending: PendingUploads
    signer: SessionSigner
    max_upload_bytes: int
    publishing: PublishingService | None = None
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    def signed_in(self, request: Request[Any, Any, Any]) -> int:
        """The signed-in household, for a request that needs nothing else of the database."""
        with self.db.session() as s:
            return self.signer.household_id(request, s)

    def page(
        self, request: Request[Any, Any, Any], household_id: int, status_code: int = 200, **extra: Any
    ) -> Template:
        """The household's page in a transaction of its own (after a refused change was rolled back)."""
        with self.db.session() as s:
            return _home(request, self, s, household_id, status_code, **extra)


def _home(
    request: Request[Any, Any, Any],
    portal: PortalDeps,
    session: Session,
    household_id: int,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    lang = request_language(request)
    households = HouseholdService(session)
    info = households.get(household_id)
    batches = households.batches(household_id)
    absences = AbsenceService(session).of_household(household_id)
    history = RankHistoryService(session).household(household_id)
    progress = _progress(portal, households, info, lang)
    return Template(
        "portal.html",
        context=page_context(
            lang,
            household=info,
            batches=batches,
            absences=absences,
            history=history,
            why=lambda change: describe_change(change, lang),
            category_label=lambda category: category_label(category, lang),
            max_upload_mb=portal.max_upload_bytes // (1024 * 1024),
            when=lambda v: fmt_datetime(v, info.contest_timezone, lang),
            **progress,
            **extra,
        ),
        status_code=status_code,
    )


def _progress(
    portal: PortalDeps, households: HouseholdService, info: HouseholdInfo, lang: str
) -> dict[str, Any]:
    """The household's own standing, where its contest stands in its season, and its daily
    consumption against its baseline (chart)."""
    if portal.publishing is None:
        return {"standing": None, "chart": ""}
    standing = portal.publishing.standing(info.contest_slug, info.id)
    view = portal.publishing.latest(info.contest_slug)
    contest = view.contest
    season = portal.publishing.season(info.contest_slug)
    season_shown = show_season(season, view, portal.publishing.clock(), lang)
    daily = households.daily(info.id, contest.carrier)
    chart = ""
    if not daily.empty:
        days = [d.date() if hasattr(d, "date") else d for d in daily["day"]]
        recent = [
            (d, e) for d, e in zip(days, daily["energy_kwh"], strict=True) if d >= contest.competition_start
        ]
        if not recent:
            recent = list(zip(days, daily["energy_kwh"], strict=True))[-60:]
        chart = daily_bars_svg(
            [d for d, _ in recent],
            [float(e) for _, e in recent],
            standing.baseline_kwh_per_day if standing else None,
            title=TEXTS[lang]["chart_title"],
        )
    return {
        "standing": standing,
        "chart": chart,
        "contest_info": contest,
        "season": season,
        "season_shown": season_shown,
        "baseline_needed": fmt_percent(contest.rules.scoring.min_coverage_fraction, lang, 0),
    }


def describe_change(change: Change, lang: str) -> str:
    """One reason of a household's rank move, in its language."""
    t = TEXTS[lang]
    if change.key == "first":
        return t["why_first"]
    if change.key == "status":
        return t["why_status_ranked"] if change.after == "ranked" else t["why_status_unranked"]
    if change.key == "others":
        return t["why_others_up"] if change.after < change.before else t["why_others_down"]
    if change.key in ("coverage", "savings"):
        return t[f"why_{change.key}"].format(
            before=fmt_percent(change.before, lang), after=fmt_percent(change.after, lang)
        )
    if change.key == "baseline":
        return t["why_baseline"].format(
            before=fmt_number(change.before, lang, 2), after=fmt_number(change.after, lang, 2)
        )
    if change.key == "field_size":
        return t["why_field_size"].format(before=change.before or 0, after=change.after or 0)
    return ""  # "rank" itself is shown as the move, not as a reason


def rejection_reason(rejection: Rejection, lang: str) -> str:
    """Why a row was not used, in the visitor's language (its key's sentence; the stored English reason
    for a key the catalog lacks)."""
    return message(rejection.key, {}, lang, default=rejection.reason)


def csv_download(filename: str, header: list[str], rows: Iterable[Sequence[Any]]) -> Response[bytes]:
    """A CSV download as German spreadsheet programs open it directly: ``;``, UTF-8 with BOM, no cell
    that starts a formula (:func:`contest.spreadsheet.safe_cell`)."""
    return Response(
        ("\ufeff" + write_csv(header, rows)).encode("utf-8"),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _form_day(text: str) -> dt.date:
    """A day from a form: ISO (what date inputs send) or German dd.mm.yyyy (typed by hand)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ConfigError(f"{text!r} is not a date (YYYY-MM-DD)", key="absence.date", params={"text": text})


class Portal(Controller):
    path = "/portal"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps]) -> Template:
        with portal.db.session() as s:
            try:
                household_id = portal.signer.household_id(request, s)
            except PermissionDenied:
                deleted = request.query_params.get("deleted") == "1"
                return Template(
                    "portal_login.html", context=page_context(request_language(request), deleted=deleted)
                )
            return _home(
                request,
                portal,
                s,
                household_id,
                saved=request.query_params.get("saved") == "1",
                absence_notice=request.query_params.get("absence"),
            )

    @post("/login", sync_to_thread=True)
    def login(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        client = request.client.host if request.client else "unknown"
        was_blocked = portal.throttle.blocked(client)
        try:
            # A correct code is let through even from a throttled address (many people share one).
            with portal.db.session() as s:
                info, session_key = HouseholdService(s).sign_in(data.code)
        except PermissionDenied:
            portal.throttle.failed(client)
            if was_blocked:
                return Template(
                    "portal_login.html",
                    context=page_context(request_language(request), throttled=True),
                    status_code=429,
                    headers={"Retry-After": str(portal.throttle.retry_after_s(client))},
                )
            return Template(
                "portal_login.html",
                context=page_context(request_language(request), error=True),
                status_code=403,
            )
        return Redirect(
            "/portal/",
            cookies=[
                Cookie(
                    key=COOKIE,
                    value=portal.signer.dumps(info.id, session_key),
                    httponly=True,
                    samesite="lax",
                    secure=request.url.scheme == "https",  # Secure whenever served over HTTPS
                    max_age=MAX_AGE_S,
                )
            ],
        )

    @post("/logout", sync_to_thread=True)
    def logout(self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps]) -> Redirect:
        """Sign out: ends the household's sessions on every device (they share one access code)."""
        with portal.db.session() as s, contextlib.suppress(PermissionDenied):  # signed out: only the cookie
            HouseholdService(s).end_sessions(portal.signer.household_id(request, s))
        return Redirect("/portal/", cookies=[Cookie(key=COOKIE, value="", max_age=0)])

    @post("/upload")
    async def upload(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        # A household can only upload to its own meters: checked before anything is read.
        household_id, zone, _ = await anyio.to_thread.run_sync(self._own_meter, request, portal, data.meter)
        content = await data.file.read()
        filename = upload_filename(data.file.filename)
        if portal.importer is None:
            raise IngestError("Uploads are not enabled on this server", key="upload.disabled")
        importer = portal.importer
        try:
            check_upload(content, portal.max_upload_bytes)
            preview = await anyio.to_thread.run_sync(
                lambda: importer.preview(content, data.meter, filename=filename)
            )
        except IngestError as exc:
            refused = error_text(exc, request_language(request))
            return await anyio.to_thread.run_sync(
                lambda: portal.page(request, household_id, error=refused, status_code=422)
            )
        token = await anyio.to_thread.run_sync(
            portal.pending.put, household_id, data.meter, filename, content
        )
        lang = request_language(request)
        return Template(
            "upload_preview.html",
            context=page_context(
                lang,
                preview=preview,
                token=token,
                when=lambda v: fmt_datetime(v, zone, lang),
                reason=lambda r: rejection_reason(r, lang),
            ),
        )

    @post("/upload/{token:str}/confirm", sync_to_thread=True)
    def confirm(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], token: FromPath[str]
    ) -> Template:
        household_id = portal.signed_in(request)
        pending = portal.pending.take(token, household_id)
        assert portal.importer is not None
        try:
            slug = self._own_meter(request, portal, pending.meter_external_id)[2]
            # The importer stores the file in its own transaction (it is the pipeline's use case).
            report = portal.importer.import_bytes(
                pending.data, pending.meter_external_id, filename=upload_filename(pending.filename)
            )
        except IngestError as exc:
            portal.pending.restore(pending)  # the household may try again
            shown = error_text(exc, request_language(request))
            return portal.page(request, household_id, error=shown, status_code=422)
        except Exception:
            portal.pending.restore(pending)  # nothing was imported: the upload waits as before
            raise
        if report.rows_stored:  # new data: republish the contest's leaderboard in the background
            self._republish(portal, slug, "import")
        return Redirect(f"/portal/imports/{report.batch_id}")  # type: ignore[return-value]

    @post("/upload/{token:str}/cancel", sync_to_thread=True)
    def cancel(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], token: FromPath[str]
    ) -> Redirect:
        household_id = portal.signed_in(request)
        with contextlib.suppress(PermissionDenied):  # already gone: nothing to cancel
            portal.pending.take(token, household_id)
        return Redirect("/portal/")

    @get("/certificate.pdf", sync_to_thread=True)
    def certificate(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps]
    ) -> Response[bytes]:
        """The household's certificate (Urkunde) of a final result: its rank, savings and CO2."""
        with portal.db.session() as s:
            household_id = portal.signer.household_id(request, s)
            info = HouseholdService(s).get(household_id)
        publishing = portal.publishing
        if publishing is None:
            raise NotFoundError("no results on this server", key="certificate.unavailable")
        season = publishing.season(info.contest_slug)
        final = publishing.final_snapshot(info.contest_slug)
        if final is None or season.public_state(publishing.clock()) not in FROZEN:
            raise NotFoundError("the result is not final yet", key="certificate.not_final")
        snapshot_id, view = publishing.latest_with_id(info.contest_slug)
        standing = publishing.standing(info.contest_slug, household_id)
        if standing is None:
            raise NotFoundError("this household is not in the final result", key="certificate.not_in_result")
        team = next((t for t in view.teams if standing.team is not None and t.name == standing.team), None)
        data = CertificateData(
            contest_name=view.contest.name,
            competition_start=view.contest.competition_start,
            competition_end=view.contest.competition_end,
            pseudonym=standing.pseudonym,
            rank=standing.rank,
            ranked_count=view.city.ranked,
            savings_fraction=standing.savings_fraction,
            savings_kwh=standing.savings_kwh,
            co2_saved_kg=standing.co2_saved_kg,
            team=standing.team,
            team_rank=team.rank if team is not None else None,
            final_at=season.closed_at or final.published_at,
            timezone=view.contest.timezone,
            revision=snapshot_id,
            verify_url=str(request.base_url).rstrip("/") + f"/contests/{info.contest_slug}",
        )
        lang = request_language(request)
        name = "urkunde" if lang == "de" else "certificate"
        return Response(
            render_certificate(data, lang),
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{name}-{info.contest_slug}.pdf"'},
        )

    @get("/data.json", sync_to_thread=True)
    def data_json(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps]
    ) -> Response[bytes]:
        """Everything stored about the signed-in household (JSON download)."""
        with portal.db.session() as s:
            data = HouseholdService(s).export(portal.signer.household_id(request, s))
        body = json.dumps(data, ensure_ascii=False, indent=1)
        return Response(
            body.encode("utf-8"),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="meine-daten.json"'},
        )

    @get("/data.csv", sync_to_thread=True)
    def data_csv(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps]
    ) -> Response[bytes]:
        """The household's readings as CSV (download)."""
        with portal.db.session() as s:
            data = HouseholdService(s).export(portal.signer.household_id(request, s))
        return csv_download(
            "meine-messwerte.csv",
            ["meter", "ts_utc", "kind", "energy_kwh", "duration_s", "source"],
            (
                [r["meter"], r["ts_utc"], r["kind"], r["energy_kwh"], r["duration_s"] or "", r["source"]]
                for r in data["readings"]
            ),
        )

    @post("/settings", sync_to_thread=True)
    def settings(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[SettingsForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """The household's pseudonym and public listing; the next publication shows the change."""
        household_id = portal.signed_in(request)
        try:
            with portal.db.session() as s:
                record = HouseholdService(s).update(
                    household_id,
                    pseudonym=data.pseudonym,
                    public_listing=data.public == "on",
                    building_type=data.building_type or None,
                    electric_hot_water={"yes": True, "no": False}.get(data.electric_hot_water),
                )
        except ConfigError as exc:
            shown = error_text(exc, request_language(request))
            # A taken pseudonym is a conflict, as everywhere (the admin API's 409).
            status = 409 if isinstance(exc, AlreadyExists) else 422
            return portal.page(request, household_id, error=shown, status_code=status)
        self._republish(portal, record.contest_slug, "settings")
        return Redirect("/portal/?saved=1")

    @post("/absences", sync_to_thread=True)
    def add_absence(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[AbsenceForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Declare days away (a holiday): they drop out of both periods of the household's score."""
        household_id = portal.signed_in(request)
        try:
            first_day, last_day = _form_day(data.first_day), _form_day(data.last_day)
            with portal.db.session() as s:
                AbsenceService(s).add(household_id, first_day, last_day, data.note)
                slug = HouseholdService(s).get(household_id).contest_slug
        except ConfigError as exc:
            shown = error_text(exc, request_language(request))
            return portal.page(request, household_id, absence_error=shown, status_code=422)
        self._republish(portal, slug, "absence")
        return Redirect("/portal/?absence=saved#absences")

    @post("/absences/{absence_id:int}/delete", sync_to_thread=True)
    def remove_absence(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], absence_id: FromPath[int]
    ) -> Template | Redirect:
        household_id = portal.signed_in(request)
        try:
            with portal.db.session() as s:
                AbsenceService(s).remove(household_id, absence_id)
                slug = HouseholdService(s).get(household_id).contest_slug
        except ConfigError as exc:
            shown = error_text(exc, request_language(request))
            return portal.page(request, household_id, absence_error=shown, status_code=422)
        self._republish(portal, slug, "absence")
        return Redirect("/portal/?absence=removed#absences")

    @staticmethod
    def _republish(portal: PortalDeps, slug: str, reason: str) -> None:
        """Publish the household's contest again in the background (after the change was committed)."""
        if portal.publishing is not None:
            portal.publishing.publish_soon(slug, reason=reason)

    @staticmethod
    def _own_meter(request: Request[Any, Any, Any], portal: PortalDeps, meter: str) -> tuple[int, str, str]:
        """The signed-in household if ``meter`` is its own (:class:`PermissionDenied` otherwise), with
        its contest's zone and slug."""
        with portal.db.session() as s:
            household_id = portal.signer.household_id(request, s)
            households = HouseholdService(s)
            households.require_own_meter(household_id, meter)
            info = households.get(household_id)
            return household_id, info.contest_timezone, info.contest_slug

    @post("/delete", sync_to_thread=True)
    def delete_account(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[DeleteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Delete the household and all its data; it disappears from future leaderboards."""
        with portal.db.session() as s:
            household_id = portal.signer.household_id(request, s)
            if data.confirm.strip().upper() not in ("LÖSCHEN", "DELETE"):
                return _home(
                    request,
                    portal,
                    s,
                    household_id,
                    error=TEXTS[request_language(request)]["delete_confirm_needed"],
                    status_code=422,
                )
            slug = HouseholdService(s).delete(household_id)
        if portal.publishing is not None:
            portal.publishing.publish_soon(slug, reason="deletion")
        return Redirect("/portal/?deleted=1", cookies=[Cookie(key=COOKIE, value="", max_age=0)])

    @get("/imports/{batch_id:int}", sync_to_thread=True)
    def report(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], batch_id: FromPath[int]
    ) -> Template:
        with portal.db.session() as s:
            household_id = portal.signer.household_id(request, s)
            households = HouseholdService(s)
            batch = households.batch_of_household(household_id, batch_id)
            rejections = households.import_rejections(household_id, batch_id)
            zone = households.get(household_id).contest_timezone
        lang = request_language(request)
        return Template(
            "upload_report.html",
            context=page_context(
                lang,
                batch=batch,
                rejections=rejections,
                when=lambda v: fmt_datetime(v, zone, lang),
                reason=lambda r: rejection_reason(r, lang),
            ),
        )

    @get("/imports/{batch_id:int}/rejected.csv", sync_to_thread=True)
    def rejected_csv(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], batch_id: FromPath[int]
    ) -> Response[bytes]:
        with portal.db.session() as s:
            household_id = portal.signer.household_id(request, s)
            rejections = HouseholdService(s).import_rejections(household_id, batch_id)
        lang = request_language(request)
        t = TEXTS[lang]
        return csv_download(
            f"{t['rejected_file']}-{batch_id}.csv",
            [t["line"], t["reason"], t["rejection_key"], t["content"]],
            ([r.line_no or "", rejection_reason(r, lang), r.key, r.raw] for r in rejections),
        )
