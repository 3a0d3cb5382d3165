"""The ``contest`` command: the one place that wires web, ingest and the services together."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from contest.config import read_contest_config
from contest.db import Database
from contest.domain import ImportReport
from contest.errors import ContestError
from contest.season import FROZEN
from contest.services import ContestService, LeaderboardService
from contest.settings import Settings, load_settings

app = typer.Typer(
    help="Energiesparwettbewerb: set up a contest, import meter data, score, and serve the leaderboard.",
    no_args_is_help=True,
    add_completion=False,
)


def _open(settings: Settings) -> Database:
    return Database(settings.db.url)


def _fail(exc: ContestError) -> typer.Exit:
    typer.secho(f"Error: {exc.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _print_report(report: ImportReport) -> None:
    typer.echo(
        f"{report.filename or report.meter_external_id}: read {report.rows_read}, stored {report.rows_stored}, "
        f"duplicates {report.rows_duplicate}, rejected {report.rows_rejected}"
    )
    for reason in report.first_reasons():
        typer.echo(f"  rejected {reason}")


@app.command()
def setup(file: Annotated[Path, typer.Argument(help="Contest description (TOML)")]) -> None:
    """Create or update a contest with its periods, settings, teams, households and meters."""
    settings = load_settings()
    try:
        cfg = read_contest_config(file)
        info = ContestService(_open(settings)).setup(cfg)
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(f"Contest {info.slug!r} ready: {len(cfg.teams)} teams, {len(cfg.households)} households.")


#: Files larger than this show a progress bar while their rows are stored [bytes].
PROGRESS_MIN_BYTES = 2_000_000


class _StoreProgress:
    """A progress bar over the rows of an import, opened once the row count is known (after parsing)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> _StoreProgress:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = typer.progressbar(length=total, label="Storing rows", show_pos=True)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV export or manual readings")],
    meter: Annotated[str, typer.Option("--meter", help="Meter id as set up for the contest")],
) -> None:
    """Import a household's CSV file for one meter; bad rows are reported with their line numbers."""
    from ingest.importer import CsvImporter

    settings = load_settings()
    importer = CsvImporter(_open(settings))
    try:
        large = file.stat().st_size > PROGRESS_MIN_BYTES
    except OSError:
        large = False
    try:
        if not large:
            report = importer.import_file(file, meter)
        else:
            typer.echo(f"Reading {file.name} ({file.stat().st_size / 1e6:.0f} MB) ...")
            with _StoreProgress() as progress:
                report = importer.import_file(file, meter, progress=progress)
    except ContestError as exc:
        raise _fail(exc) from exc
    _print_report(report)


@app.command()
def score(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    as_of: Annotated[str | None, typer.Option(help="ISO time the result is as of (default: now)")] = None,
) -> None:
    """Compute and print the leaderboard of a contest."""
    settings = load_settings()
    when = None
    if as_of:
        when = dt.datetime.fromisoformat(as_of)
        if when.tzinfo is None:
            raise typer.BadParameter("--as-of needs a time zone, e.g. 2026-11-01T00:00:00+01:00")
    try:
        view = LeaderboardService(_open(settings)).leaderboard(slug, when, public_only=False)
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"{view.contest.name} — as of {view.as_of:%Y-%m-%d %H:%M} UTC, "
        f"day {view.competition_days_elapsed} of the competition"
    )
    typer.echo("\nTeams")
    for t in view.teams:
        pct = f"{t.savings_fraction * 100:6.1f} %" if t.savings_fraction is not None else "       –"
        typer.echo(f"  {t.rank or '-':>3}  {t.name:<22} {pct}  {t.ranked_members}/{t.members} ranked")
    typer.echo("\nHouseholds")
    for h in view.households:
        pct = f"{h.savings_fraction * 100:6.1f} %" if h.savings_fraction is not None else "       –"
        typer.echo(
            f"  {h.rank or '-':>3}  {h.pseudonym:<26} {pct}  coverage {h.coverage_fraction * 100:3.0f} %"
            + ("" if h.status == "ranked" else f"  ({h.status})")
        )


def _serve(db: Database, settings: Settings, host: str | None, port: int | None) -> None:
    from contest import webserver
    from contest.jobs import start_scheduler
    from contest.publishing import PublishingService
    from ingest.importer import CsvImporter
    from web.app import create_app

    host = host or settings.web.host
    port = port or settings.web.port
    feed = None
    if settings.mqtt.leaderboard_username:  # city displays get each snapshot, retained
        from ingest.mqtt_publish import RetainedLeaderboardPublisher

        feed = RetainedLeaderboardPublisher(settings.mqtt)
    publishing = PublishingService(db, on_published=feed)
    scheduler = start_scheduler(publishing, settings.scheduler) if settings.scheduler.enabled else None
    typer.secho(f"Leaderboard: http://{host}:{port}/", fg=typer.colors.GREEN, bold=True)
    typer.echo(f"Household portal: http://{host}:{port}/portal/   API: http://{host}:{port}/schema")
    app_ = create_app(db, settings.web, importer=CsvImporter(db), publishing=publishing)
    try:
        webserver.run(app_, settings.web, host, port)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        publishing.close()
        if feed is not None:
            feed.close()


@app.command()
def publish(slug: Annotated[str, typer.Argument(help="Contest slug")]) -> None:
    """Score a contest now and publish the result as its newest leaderboard snapshot."""
    from contest.publishing import PublishingService

    publishing = PublishingService(_open(load_settings()))
    try:
        state_before = publishing.seasons.get(slug).state
        info = publishing.publish(slug, reason="manual", actor=_cli_actor())
    except ContestError as exc:
        raise _fail(exc) from exc
    finally:
        publishing.close()
    if state_before in FROZEN:
        typer.echo(
            f"{slug!r} is {state_before}: its final result (snapshot {info.id}) is frozen; nothing new was "
            "published. Late data is kept; `contest season reopen` lets it count."
        )
        return
    typer.echo(
        f"Published snapshot {info.id} of {slug!r} as of {info.as_of:%Y-%m-%d %H:%M} UTC"
        f"{' (final result)' if info.final else ''}."
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
) -> None:
    """Serve the public leaderboard, the JSON API and the OpenAPI schema."""
    settings = load_settings()
    try:
        settings.web.check_secret_key()  # only the demo may run with a key made up at start
    except ContestError as exc:
        raise _fail(exc) from exc
    _serve(_open(settings), settings, host, port)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo CSV files and TOML go")] = Path(
        "var/demo"
    ),
    households: Annotated[int, typer.Option(help="Number of households")] = 200,
    teams: Annotated[int, typer.Option(help="Number of teams")] = 10,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the leaderboard after")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
) -> None:
    """Build the demo: a running contest (synthetic households, CSV files in both dialects) and small
    announced, final and archived ones; import, score, publish, serve."""
    from contest.demo import generate_demo_season
    from contest.publishing import PublishingService
    from contest.season import ANNOUNCED, ARCHIVED, FINAL, RUNNING, STATES
    from contest.services import HouseholdService
    from ingest.importer import CsvImporter

    settings = load_settings()
    db = _open(settings)
    typer.echo(f"Writing demo data to {directory} ...")
    contests = generate_demo_season(directory, households=households, teams=teams)
    base = f"http://{host or settings.web.host}:{port or settings.web.port}"
    try:
        for written in contests:
            ContestService(db).setup(read_contest_config(written.toml_path))
        importer = CsvImporter(db)
        uploads = [h for c in contests for h in c.households if h.uploaded]
        stored = rejected = 0
        with typer.progressbar(uploads, label="Importing CSV files") as progress:
            for h in progress:
                report = importer.import_file(h.csv_path, h.meter_id)
                stored += report.rows_stored
                rejected += report.rows_rejected
        typer.echo(f"Imported {len(uploads)} files: {stored} readings stored, {rejected} rows rejected.")
        publishing = PublishingService(db)
        portal = HouseholdService(db)
        lines: list[tuple[int, str]] = []
        tries: list[tuple[int, str]] = []
        for written in contests:
            # The clock places each contest by its dates; a past one is closed with its final result.
            publishing.publish(written.slug, reason="import")
            if written.state == ARCHIVED and publishing.seasons.get(written.slug).state == FINAL:
                publishing.archive(written.slug, actor="demo", reason="last year's demo contest")
            state = publishing.seasons.get(written.slug).state
            if state != written.state:
                raise ContestError(f"demo contest {written.slug!r} is {state}, expected {written.state}")
            order = STATES.index(state)
            view = publishing.latest(written.slug)
            best = next((h.pseudonym for h in view.households if h.rank is not None), None)
            if written.slug == "demo":
                ranked = sum(1 for h in view.households if h.rank is not None)
                typer.echo(f"Scored: {len(view.teams)} teams, {ranked} public households ranked.")
            with_data = sum(h.uploaded for h in written.households)
            lines.append(
                (
                    order,
                    f"  {state:<9} {written.name}: {base}/contests/{written.slug} "
                    f"({len(written.households)} households, {with_data} with data)",
                )
            )
            # A household to try the portal with: the best-placed listed one (running: its standing;
            # final: its certificate), or one that has yet to upload its baseline (announced).
            waiting = next((h for h in written.households if not h.uploaded), None)
            if state == ANNOUNCED and waiting is not None:
                pick, hint = (
                    waiting.pseudonym,
                    f"upload its baseline file {waiting.csv_path} before the start",
                )
            elif state == RUNNING and best is not None:
                pick, hint = best, "its standing and savings so far"
            elif state == FINAL and best is not None:
                pick, hint = best, f"its certificate: {base}/portal/certificate.pdf"
            else:
                continue
            code = portal.issue_access_code(portal.find(written.slug, pick).id)[1]
            tries.append((order, f"  {state:<9} {pick!r} with the access code {code} ({hint})"))
        publishing.close()
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(f"Demo contests on {base}/ :")
    typer.echo("\n".join(line for _, line in sorted(lines)))
    typer.echo(f"Try the household portal {base}/portal/ as")
    typer.echo("\n".join(line for _, line in sorted(tries)))
    if serve_after:
        _serve(db, settings, host, port)


household_app = typer.Typer(help="Households of a contest.", no_args_is_help=True)
app.add_typer(household_app, name="household")


@household_app.command("add")
def household_add(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    pseudonym: Annotated[str, typer.Argument(help="Public pseudonym of the household")],
    persons: Annotated[int, typer.Option(help="Persons living in the household")] = 1,
    team: Annotated[str | None, typer.Option(help="Team name (must exist unless --create-team)")] = None,
    create_team: Annotated[
        bool, typer.Option("--create-team", help="Create the team given with --team if it is new")
    ] = False,
    public: Annotated[
        bool, typer.Option("--public/--private", help="Listed on the public leaderboard")
    ] = False,
    meter: Annotated[list[str] | None, typer.Option(help="Meter id; repeat for several meters")] = None,
    carrier: Annotated[
        str, typer.Option(help="Carrier of the meters: electricity, gas or heat")
    ] = "electricity",
    kind: Annotated[str, typer.Option(help="register or interval")] = "register",
) -> None:
    """Add a new household and print its access code once (an existing pseudonym is an error that
    changes nothing; a new code for it: contest household code)."""
    from contest.domain import CARRIERS, METER_KINDS, MeterInfo
    from contest.services import HouseholdService

    if carrier not in CARRIERS or kind not in METER_KINDS:
        raise typer.BadParameter(f"carrier must be one of {CARRIERS}, kind one of {METER_KINDS}")
    settings = load_settings()
    meters = [MeterInfo(m, carrier, kind) for m in (meter or [])]
    try:
        info, code = HouseholdService(_open(settings)).add(
            slug,
            pseudonym,
            persons=persons,
            team=team,
            public_listing=public,
            meters=meters,
            create_team=create_team,
        )
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"Household {info.pseudonym!r} (meters: {', '.join(m.external_id for m in info.meters) or '-'})"
    )
    _print_code(code)


def _print_code(code: str) -> None:
    typer.secho(f"Access code: {code}", bold=True)
    typer.echo("Give this code to the household; it is stored only as a hash and cannot be shown again.")


@household_app.command("code")
def household_code(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    pseudonym: Annotated[str, typer.Argument(help="Pseudonym of the household")],
) -> None:
    """Issue a new access code for a household and print it once; its old code stops working."""
    from contest.services import HouseholdService

    households = HouseholdService(_open(load_settings()))
    try:
        info, code = households.issue_access_code(households.find(slug, pseudonym).id)
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(f"New access code for household {info.pseudonym!r}; the old code no longer works.")
    _print_code(code)


meter_app = typer.Typer(help="Meters of households.", no_args_is_help=True)
app.add_typer(meter_app, name="meter")


def _parse_number(text: str | None) -> float | None:
    """A meter value as people write it: "12345,6", "12.345,6" or "12345.6"."""
    if text is None:
        return None
    cleaned = text.strip()
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        return float(cleaned)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a number") from exc


@meter_app.command("replace")
def meter_replace(
    old: Annotated[str, typer.Argument(help="Id of the meter taken out")],
    new: Annotated[str, typer.Argument(help="Id of the meter put in")],
    at: Annotated[
        str, typer.Option(help="When it was swapped: 2026-11-10T14:30 (contest time zone) or with offset")
    ],
    final: Annotated[str | None, typer.Option(help="Last register value of the old meter [kWh]")] = None,
    initial: Annotated[str, typer.Option(help="First register value of the new meter [kWh]")] = "0",
) -> None:
    """Replace a meter from a date on; the household's consumption stays continuous across the swap."""
    from zoneinfo import ZoneInfo

    from contest.services import MeterService

    settings = load_settings()
    try:
        when = dt.datetime.fromisoformat(at.replace(" ", "T"))
    except ValueError as exc:
        raise typer.BadParameter(f"--at {at!r} is not a date and time like 2026-11-10T14:30") from exc
    meters = MeterService(_open(settings))
    try:
        ctx = meters.import_context(old)
        if when.tzinfo is None:
            when = when.replace(tzinfo=ZoneInfo(ctx.timezone))
        new_ctx = meters.replace(
            old, new, when, old_final_kwh=_parse_number(final), new_initial_kwh=_parse_number(initial)
        )
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(f"Meter {old} replaced by {new_ctx.external_id} from {when.isoformat()}.")


@meter_app.command("bind")
def meter_bind(
    meter: Annotated[str, typer.Argument(help="Meter id as set up for the contest")],
    device: Annotated[str, typer.Option(help="Device id as its MQTT topic names it, e.g. tasmota_DC0386")],
    channel: Annotated[
        str,
        typer.Option(
            help="Register of the device (1.8.0, Total_in, emeter/0/total); * = its only import register"
        ),
    ] = "*",
    unit: Annotated[
        str | None,
        typer.Option(help="Unit of the device's values when its messages state none (vzlogger): kWh, Wh, m3"),
    ] = None,
) -> None:
    """Bind a smart-meter device (MQTT) to a household's meter and show its last message.

    The device's register counts from its own zero: if the meter has readings already, a new register
    series starts now (uploads for the meter from then on are refused while the device is bound)."""
    from contest.streams import StreamService

    settings = load_settings()
    streams = StreamService(_open(settings))
    try:
        bound = streams.bind(meter, device, channel, unit=unit)
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"Device {device!r} channel {channel!r} feeds meter {bound.external_id}"
        + (f" (values without a unit are {bound.unit})" if bound.unit else "")
        + "."
    )
    if bound.series_start is not None:
        typer.echo(f"Its register is a new series from {bound.series_start:%Y-%m-%d %H:%M:%S} UTC on.")
    seen = streams.last_seen(device.strip())
    if not seen:
        typer.echo("No message from this device seen yet: check its topic, user name and password.")
    for m in seen:
        outcome = (
            f"rejected: {m.rejection_reason} ({m.rejection_key})"
            if m.rejection_key
            else f"stored for {m.meter}"
        )
        typer.echo(
            f"Last message on {m.channel}: {m.received_at:%Y-%m-%d %H:%M:%S} UTC, topic {m.topic}, "
            f"{m.energy_kwh:.3f} kWh, {outcome}"
        )


@app.command()
def ingest() -> None:
    """Run the MQTT ingest worker: readings from the broker into the store (Ctrl-C stops it cleanly)."""
    import signal

    from ingest.mqtt_worker import MqttWorker

    logging.getLogger().setLevel(logging.INFO)
    settings = load_settings()
    worker = MqttWorker(_open(settings), settings.mqtt)
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    typer.echo(
        f"MQTT ingest from {settings.mqtt.host}:{settings.mqtt.port} as {settings.mqtt.session_id}"
        + (f" (shared group {settings.mqtt.share_group})" if settings.mqtt.share_group else "")
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: run_forever's finally writes and acks the rest
        worker.run_forever()
    s = worker.stats
    typer.echo(f"received {s.received}, stored {s.stored}, duplicates {s.duplicates}, rejected {s.rejected}")


mqtt_app = typer.Typer(help="MQTT: rejected messages.", no_args_is_help=True)
app.add_typer(mqtt_app, name="mqtt")


@mqtt_app.command("rejected")
def mqtt_rejected(limit: Annotated[int, typer.Option(help="How many, newest first")] = 20) -> None:
    """Show the newest rejected MQTT messages with topic, time, reason and payload."""
    from contest.streams import StreamService

    service = StreamService(_open(load_settings()))
    typer.echo(f"{service.rejected_count()} rejected MQTT messages in total")
    for r in service.rejected(limit):
        typer.echo(f"{r.received_at:%Y-%m-%d %H:%M:%S} {r.topic}  [{r.key}] {r.reason}")
        typer.echo(f"    {r.payload.decode('utf-8', 'replace')[:200]}")


admin_app = typer.Typer(help="Staff access to the admin API.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


@admin_app.command("token")
def admin_token(
    name: Annotated[str, typer.Argument(help="Who or what uses the token, e.g. 'stadtwerke-team'")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke the token of this name")] = False,
) -> None:
    """Create a staff API token (printed once; only its hash is stored) or revoke one."""
    from contest.admin import StaffService

    staff = StaffService(_open(load_settings()))
    try:
        if revoke:
            staff.revoke(name)
            typer.echo(f"Token {name!r} revoked.")
            return
        token = staff.create_token(name)
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.secho(f"Staff token for {name!r}: {token}", bold=True)
    typer.echo("Use it as 'Authorization: Bearer <token>'. It is shown only now.")


weather_app = typer.Typer(help="Weather data for degree-day baselines.", no_args_is_help=True)
app.add_typer(weather_app, name="weather")


@weather_app.command("import")
def weather_import(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    file: Annotated[Path, typer.Argument(help="DWD produkt_klima_tag_*.txt or a CSV (date, °C)")],
) -> None:
    """Import daily mean temperatures (German weather service daily file, or a plain CSV)."""
    from contest.services import WeatherService
    from ingest.weather import parse_dwd_daily, parse_temperature_csv

    data = file.read_bytes()
    try:
        is_dwd = b"MESS_DATUM" in data[:2000]
        weather = parse_dwd_daily(data) if is_dwd else parse_temperature_csv(data)
        days = WeatherService(_open(load_settings())).store(slug, weather)
    except ContestError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{days} days of temperature stored for {slug!r} ({'DWD' if is_dwd else 'CSV'}).")


season_app = typer.Typer(
    help="A contest's season: draft -> announced -> running -> closing -> final -> archived.",
    no_args_is_help=True,
)
app.add_typer(season_app, name="season")


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (a container without passwd entry)
        return "cli"


def _print_season(slug: str) -> None:
    from contest.publishing import PublishingService

    publishing = PublishingService(_open(load_settings()))
    try:
        season = publishing.seasons.get(slug)
        now = publishing.clock()
        events = publishing.seasons.events(slug, limit=20)
        late = publishing.seasons.late_imports(slug, limit=20)
    finally:
        publishing.close()
    typer.echo(f"{season.name} ({slug}): {season.public_state(now)}")
    typer.echo(
        f"  competition {season.competition_start} – {season.competition_end}, late data until "
        f"{season.grace_end} ({season.grace_days} days){', reopened by staff' if season.hold_open else ''}"
    )
    if season.closed_at and season.state in FROZEN:
        typer.echo(f"  final since {season.closed_at:%Y-%m-%d %H:%M} UTC")
    elif season.closed_at:
        typer.echo(f"  last closed {season.closed_at:%Y-%m-%d %H:%M} UTC, reopened since (provisional)")
    typer.echo(
        "  last publication: "
        + (f"{season.last_published_at:%Y-%m-%d %H:%M} UTC" if season.last_published_at else "none yet")
    )
    if season.last_error_at:
        typer.secho(f"  last error {season.last_error_at:%Y-%m-%d %H:%M} UTC: {season.last_error}", fg="red")
    for e in events:
        why = f" – {e.reason}" if e.reason else ""
        typer.echo(f"  {e.at:%Y-%m-%d %H:%M} UTC  {e.from_state} -> {e.to_state}  by {e.actor}{why}")
    for i in late:
        typer.echo(
            f"  late data (not in the final result): {i.created_at:%Y-%m-%d %H:%M} UTC, meter {i.meter_external_id}, "
            f"{i.rows_stored} readings ({i.filename or i.source})"
        )


@season_app.command("status")
def season_status(slug: Annotated[str, typer.Argument(help="Contest slug")]) -> None:
    """Show where a contest stands: its state, last publication and error, log of changes, late data."""
    try:
        _print_season(slug)
    except ContestError as exc:
        raise _fail(exc) from exc


def _season_action(slug: str, action: Callable[[Any, str], object]) -> None:
    """Run a staff action on a contest's season (``action(publishing, actor)``), then show the season."""
    from contest.publishing import PublishingService

    publishing = PublishingService(_open(load_settings()))
    try:
        action(publishing, _cli_actor())
        _print_season(slug)
    except ContestError as exc:
        raise _fail(exc) from exc
    finally:
        publishing.close()


@season_app.command("announce")
def season_announce(slug: Annotated[str, typer.Argument(help="Contest slug")]) -> None:
    """Announce a draft: its public page appears, with the countdown and how to join."""
    _season_action(slug, lambda publishing, actor: publishing.announce(slug, actor=actor))


@season_app.command("close")
def season_close(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    reason: Annotated[str | None, typer.Option(help="Why now (logged), e.g. 'award ceremony'")] = None,
) -> None:
    """Close now: publish the final, frozen result (before the grace period ends)."""
    _season_action(slug, lambda publishing, actor: publishing.close_now(slug, actor=actor, reason=reason))


@season_app.command("reopen")
def season_reopen(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    reason: Annotated[str, typer.Option(help="Why the final result is reopened (required, logged)")],
) -> None:
    """Reopen a final result for late data; `contest season close` makes a new final revision."""
    _season_action(slug, lambda publishing, actor: publishing.reopen(slug, actor=actor, reason=reason))


@season_app.command("archive")
def season_archive(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    reason: Annotated[str | None, typer.Option(help="Note for the log")] = None,
) -> None:
    """Archive a final result: it stays listed with its winners, its pages and API."""
    _season_action(slug, lambda publishing, actor: publishing.archive(slug, actor=actor, reason=reason))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
