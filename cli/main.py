"""The ``contest`` command: the one place that wires web, ingest and the services together."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import cli_actor, fail, open_db, print_report
from cli.households import household_app, meter_app
from cli.season import season_app
from cli.staff import admin_app, mqtt_app, weather_app
from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.errors import ConfigError, ContestError
from contest.season import FROZEN
from contest.settings import Settings, load_settings

app = typer.Typer(
    help="Energiesparwettbewerb: set up a contest, import meter data, score, and serve the leaderboard.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def setup(file: Annotated[Path, typer.Argument(help="Contest description (TOML)")]) -> None:
    """Create or update a contest with its periods, settings, teams, households and meters."""
    settings = load_settings()
    try:
        cfg = read_contest_config(file)
        with open_db(settings).session() as s:
            info = ContestService(s).setup(cfg)
    except ContestError as exc:
        raise fail(exc) from exc
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
    importer = CsvImporter(open_db(settings))
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
        raise fail(exc) from exc
    print_report(report)


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
    from contest.publishing import PublishingService

    try:
        publishing = PublishingService(open_db(settings))
        view = publishing.score(slug, when or publishing.clock(), public_only=False)
        publishing.close()
    except ContestError as exc:
        raise fail(exc) from exc
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
    from cli import webserver
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

    publishing = PublishingService(open_db(load_settings()))
    try:
        state_before = publishing.seasons.get(slug).state
        info = publishing.publish(slug, reason="manual", actor=cli_actor())
    except ContestError as exc:
        raise fail(exc) from exc
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
        raise fail(exc) from exc
    _serve(open_db(settings), settings, host, port)


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
    from cli.demo import generate_demo_season
    from contest.households import HouseholdService
    from contest.publishing import PublishingService
    from contest.season import ANNOUNCED, ARCHIVED, FINAL, RUNNING, STATES
    from ingest.importer import CsvImporter

    settings = load_settings()
    db = open_db(settings)
    typer.echo(f"Writing demo data to {directory} ...")
    contests = generate_demo_season(directory, households=households, teams=teams)
    base = f"http://{host or settings.web.host}:{port or settings.web.port}"
    try:
        for written in contests:
            with db.session() as s:
                ContestService(s).setup(read_contest_config(written.toml_path))
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
            with db.session() as s:
                portal = HouseholdService(s)
                code = portal.issue_access_code(portal.find(written.slug, pick).id)[1]
            tries.append((order, f"  {state:<9} {pick!r} with the access code {code} ({hint})"))
        publishing.close()
    except ContestError as exc:
        raise fail(exc) from exc
    typer.echo(f"Demo contests on {base}/ :")
    typer.echo("\n".join(line for _, line in sorted(lines)))
    typer.echo(f"Try the household portal {base}/portal/ as")
    typer.echo("\n".join(line for _, line in sorted(tries)))
    if serve_after:
        _serve(db, settings, host, port)


@app.command()
def ingest() -> None:
    """Run the MQTT ingest worker: readings from the broker into the store (Ctrl-C stops it cleanly)."""
    import signal

    from ingest.mqtt_worker import MqttWorker

    logging.getLogger().setLevel(logging.INFO)
    settings = load_settings()
    worker = MqttWorker(open_db(settings), settings.mqtt)
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    typer.echo(
        f"MQTT ingest from {settings.mqtt.host}:{settings.mqtt.port} as {settings.mqtt.session_id}"
        + (f" (shared group {settings.mqtt.share_group})" if settings.mqtt.share_group else "")
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: run_forever's finally writes and acks the rest
        worker.run_forever()
    s = worker.stats
    typer.echo(f"received {s.received}, stored {s.stored}, duplicates {s.duplicates}, rejected {s.rejected}")


app.add_typer(household_app, name="household")
app.add_typer(meter_app, name="meter")
app.add_typer(mqtt_app, name="mqtt")
app.add_typer(admin_app, name="admin")
app.add_typer(weather_app, name="weather")
app.add_typer(season_app, name="season")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except ConfigError as exc:  # a setting (load_settings) stops the start: say which, no traceback
        typer.secho(f"Error: {exc.message}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
