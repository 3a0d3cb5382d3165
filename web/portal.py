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

from contest.absences import AbsenceService
from contest.domain import HouseholdInfo
from contest.errors import ConfigError, IngestError, NotFoundError, PermissionDenied
from contest.history import Change, RankHistoryService
from contest.ports import CsvImportPort
from contest.publishing import PublishingService
from contest.season import FROZEN
from contest.services import HouseholdDataService, HouseholdService, ReadingService, update_household_settings
from contest.spreadsheet import write_csv
from web.auth import COOKIE, MAX_AGE_S, LoginThrottle, SessionSigner
from web.certificate import CertificateData, render_certificate
from web.charts import daily_bars_svg
from web.controllers import _lang, page_context
from web.i18n import TEXTS, category_label, fmt_datetime, fmt_number, fmt_percent
from web.pending import PendingUploads
from web.seasons import show_season

#: Bytes that never occur in a text CSV; their presence means a binary file (zip, xlsx, pdf, image).
_BINARY_MARKERS = (b"\x00", b"PK\x03\x04", b"%PDF", b"\x89PNG", b"\xff\xd8\xff")
#: Byte order marks of UTF-16 (little and big endian).
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Longest file name kept with an import [characters] (the database holds 300).
FILENAME_MAX_CHARS = 200


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
    """What the portal needs, handed in by the app factory."""

    households: HouseholdService
    readings: ReadingService
    importer: CsvImportPort | None
    pending: PendingUploads
    signer: SessionSigner
    max_upload_bytes: int
    publishing: PublishingService | None = None
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    absences: AbsenceService | None = None


def _home(
    request: Request[Any, Any, Any],
    portal: PortalDeps,
    household_id: int,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    lang = _lang(request)
    info = portal.households.get(household_id)
    batches = portal.households.batches(household_id)
    absences = portal.absences.of_household(household_id) if portal.absences else []
    history = RankHistoryService(portal.households.db).household(household_id)
    progress = _progress(portal, info, lang)
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
            when=lambda v: fmt_datetime(v, "Europe/Berlin", lang),
            **progress,
            **extra,
        ),
        status_code=status_code,
    )


def _progress(portal: PortalDeps, info: HouseholdInfo, lang: str) -> dict[str, Any]:
    """The household's own standing, where its contest stands in its season, and its daily
    consumption against its baseline (chart)."""
    if portal.publishing is None:
        return {"standing": None, "chart": ""}
    standing = portal.publishing.standing(info.contest_slug, info.id)
    view = portal.publishing.latest(info.contest_slug)
    contest = view.contest
    season = portal.publishing.season(info.contest_slug)
    season_shown = show_season(season, view, portal.publishing.clock(), lang)
    daily = portal.readings.household_daily(info.id, contest.carrier)
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
        "baseline_needed": fmt_percent(contest.min_coverage_fraction, lang, 0),
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


def csv_download(filename: str, header: list[str], rows: Iterable[Sequence[Any]]) -> Response[bytes]:
    """A CSV download as German spreadsheet programs open it directly: ``;``, UTF-8 with BOM, no cell
    that starts a formula (:func:`contest.spreadsheet.safe_cell`)."""
    return Response(
        ("\ufeff" + write_csv(header, rows)).encode("utf-8"),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def check_upload(data: bytes, max_bytes: int) -> None:
    """Refuse files that cannot be a CSV before parsing, with a message for the household."""
    if not data.strip():
        raise IngestError("Die Datei ist leer. / The file is empty.", key="upload.empty")
    if len(data) > max_bytes:
        raise IngestError(
            f"Die Datei ist größer als {max_bytes // (1024 * 1024)} MB. / The file is larger than "
            f"{max_bytes // (1024 * 1024)} MB.",
            key="upload.too_large",
        )
    head = data[:4096]
    # UTF-16 text (Excel's "Unicode text", with its BOM) is full of NUL bytes; the importer decodes it.
    markers = _BINARY_MARKERS[1:] if data.startswith(_UTF16_BOMS) else _BINARY_MARKERS
    if any(marker in head for marker in markers):
        raise IngestError(
            "Das ist keine CSV-Datei (Binärdaten, z. B. Excel, ZIP oder PDF). Bitte als CSV exportieren. / "
            "This is not a CSV file (binary content such as Excel, ZIP or PDF). Please export as CSV.",
            key="upload.binary",
        )


def upload_filename(name: str | None) -> str | None:
    """The name an uploaded file is shown and stored with: without folders or control characters,
    at most :data:`FILENAME_MAX_CHARS` long (the end, with the extension, is kept)."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    if len(clean) > FILENAME_MAX_CHARS:
        clean = "…" + clean[-(FILENAME_MAX_CHARS - 1) :]
    return clean or None


def _form_day(text: str) -> dt.date:
    """A day from a form: ISO (what date inputs send) or German dd.mm.yyyy (typed by hand)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ConfigError(
        f"{text!r} ist kein Datum (TT.MM.JJJJ). / {text!r} is not a date (YYYY-MM-DD).", key="absence.date"
    )


class Portal(Controller):
    path = "/portal"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps]) -> Template:
        try:
            household_id = portal.signer.household_id(request)
        except PermissionDenied:
            deleted = request.query_params.get("deleted") == "1"
            return Template("portal_login.html", context=page_context(_lang(request), deleted=deleted))
        return _home(
            request,
            portal,
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
            info, session_key = portal.households.sign_in(data.code)
        except PermissionDenied:
            portal.throttle.failed(client)
            if was_blocked:
                return Template(
                    "portal_login.html",
                    context=page_context(_lang(request), throttled=True),
                    status_code=429,
                    headers={"Retry-After": str(portal.throttle.retry_after_s(client))},
                )
            return Template(
                "portal_login.html",
                context=page_context(_lang(request), error=True),
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
        with contextlib.suppress(PermissionDenied):  # already signed out: only the cookie goes
            portal.households.end_sessions(portal.signer.household_id(request))
        return Redirect("/portal/", cookies=[Cookie(key=COOKIE, value="", max_age=0)])

    @post("/upload")
    async def upload(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        household_id = await anyio.to_thread.run_sync(portal.signer.household_id, request)
        # A household can only upload to its own meters: checked before anything is read.
        await anyio.to_thread.run_sync(portal.households.require_own_meter, household_id, data.meter)
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
            message = exc.message
            return await anyio.to_thread.run_sync(
                lambda: _home(request, portal, household_id, error=message, status_code=422)
            )
        token = await anyio.to_thread.run_sync(
            portal.pending.put, household_id, data.meter, filename, content
        )
        lang = _lang(request)
        return Template(
            "upload_preview.html",
            context=page_context(
                lang, preview=preview, token=token, when=lambda v: fmt_datetime(v, "Europe/Berlin", lang)
            ),
        )

    @post("/upload/{token:str}/confirm", sync_to_thread=True)
    def confirm(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], token: FromPath[str]
    ) -> Template:
        household_id = portal.signer.household_id(request)
        pending = portal.pending.take(token, household_id)
        assert portal.importer is not None
        try:
            portal.households.require_own_meter(household_id, pending.meter_external_id)
            report = portal.importer.import_bytes(
                pending.data, pending.meter_external_id, filename=upload_filename(pending.filename)
            )
        except IngestError as exc:
            portal.pending.restore(pending)  # the household may try again
            return _home(request, portal, household_id, error=exc.message, status_code=422)
        except Exception:
            portal.pending.restore(pending)  # nothing was imported: the upload waits as before
            raise
        if report.rows_stored:  # new data: republish the contest's leaderboard in the background
            self._republish(portal, household_id, "import")
        return Redirect(f"/portal/imports/{report.batch_id}")  # type: ignore[return-value]

    @post("/upload/{token:str}/cancel", sync_to_thread=True)
    def cancel(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], token: FromPath[str]
    ) -> Redirect:
        household_id = portal.signer.household_id(request)
        with contextlib.suppress(PermissionDenied):  # already gone: nothing to cancel
            portal.pending.take(token, household_id)
        return Redirect("/portal/")

    @get("/certificate.pdf", sync_to_thread=True)
    def certificate(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps]
    ) -> Response[bytes]:
        """The household's certificate (Urkunde) of a final result: its rank, savings and CO2."""
        household_id = portal.signer.household_id(request)
        info = portal.households.get(household_id)
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
        lang = _lang(request)
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
        household_id = portal.signer.household_id(request)
        body = json.dumps(
            HouseholdDataService(portal.households.db).export(household_id), ensure_ascii=False, indent=1
        )
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
        household_id = portal.signer.household_id(request)
        data = HouseholdDataService(portal.households.db).export(household_id)
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
        household_id = portal.signer.household_id(request)
        try:
            update_household_settings(
                portal.households.db,
                household_id,
                pseudonym=data.pseudonym,
                public_listing=data.public == "on",
                building_type=data.building_type or None,
                electric_hot_water={"yes": True, "no": False}.get(data.electric_hot_water),
            )
        except ConfigError as exc:
            return _home(request, portal, household_id, error=exc.message, status_code=422)
        self._republish(portal, household_id, "settings")
        return Redirect("/portal/?saved=1")

    @post("/absences", sync_to_thread=True)
    def add_absence(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[AbsenceForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Declare days away (a holiday): they drop out of both periods of the household's score."""
        household_id = portal.signer.household_id(request)
        assert portal.absences is not None
        try:
            portal.absences.add(household_id, _form_day(data.first_day), _form_day(data.last_day), data.note)
        except ConfigError as exc:
            return _home(request, portal, household_id, absence_error=exc.message, status_code=422)
        self._republish(portal, household_id, "absence")
        return Redirect("/portal/?absence=saved#absences")

    @post("/absences/{absence_id:int}/delete", sync_to_thread=True)
    def remove_absence(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], absence_id: FromPath[int]
    ) -> Template | Redirect:
        household_id = portal.signer.household_id(request)
        assert portal.absences is not None
        try:
            portal.absences.remove(household_id, absence_id)
        except ConfigError as exc:
            return _home(request, portal, household_id, absence_error=exc.message, status_code=422)
        self._republish(portal, household_id, "absence")
        return Redirect("/portal/?absence=removed#absences")

    @staticmethod
    def _republish(portal: PortalDeps, household_id: int, reason: str) -> None:
        if portal.publishing is not None:
            portal.publishing.publish_soon(portal.households.get(household_id).contest_slug, reason=reason)

    @post("/delete", sync_to_thread=True)
    def delete_account(
        self,
        request: Request[Any, Any, Any],
        portal: NamedDependency[PortalDeps],
        data: Annotated[DeleteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Delete the household and all its data; it disappears from future leaderboards."""
        household_id = portal.signer.household_id(request)
        if data.confirm.strip().upper() not in ("LÖSCHEN", "DELETE"):
            return _home(
                request,
                portal,
                household_id,
                error=TEXTS[_lang(request)]["delete_confirm_needed"],
                status_code=422,
            )
        slug = HouseholdDataService(portal.households.db).delete(household_id)
        if portal.publishing is not None:
            portal.publishing.publish_soon(slug, reason="deletion")
        return Redirect("/portal/?deleted=1", cookies=[Cookie(key=COOKIE, value="", max_age=0)])

    @get("/imports/{batch_id:int}", sync_to_thread=True)
    def report(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], batch_id: FromPath[int]
    ) -> Template:
        household_id = portal.signer.household_id(request)
        batch = portal.households.batch_of_household(household_id, batch_id)
        rejections = portal.readings.rejected_records(batch_id)
        lang = _lang(request)
        return Template(
            "upload_report.html",
            context=page_context(
                lang,
                batch=batch,
                rejections=rejections,
                when=lambda v: fmt_datetime(v, "Europe/Berlin", lang),
            ),
        )

    @get("/imports/{batch_id:int}/rejected.csv", sync_to_thread=True)
    def rejected_csv(
        self, request: Request[Any, Any, Any], portal: NamedDependency[PortalDeps], batch_id: FromPath[int]
    ) -> Response[bytes]:
        household_id = portal.signer.household_id(request)
        portal.households.batch_of_household(household_id, batch_id)
        return csv_download(
            f"abgelehnt-import-{batch_id}.csv",
            ["Zeile/line", "Grund/reason", "Schlüssel/key", "Inhalt/raw"],
            ([r.line_no or "", r.reason, r.key, r.raw] for r in portal.readings.rejected_records(batch_id)),
        )
