"""``contest season``: a contest's state, its log, and the staff actions that move it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from cli.common import cli_actor, fail, open_db
from contest.errors import ContestError
from contest.season import FROZEN
from contest.settings import load_settings

season_app = typer.Typer(
    help="A contest's season: draft -> announced -> running -> closing -> final -> archived.",
    no_args_is_help=True,
)


def _print_season(slug: str) -> None:
    from contest.publishing import PublishingService

    publishing = PublishingService(open_db(load_settings()))
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
        raise fail(exc) from exc


def _season_action(slug: str, action: Callable[[Any, str], object]) -> None:
    """Run a staff action on a contest's season (``action(publishing, actor)``), then show the season."""
    from contest.publishing import PublishingService

    publishing = PublishingService(open_db(load_settings()))
    try:
        action(publishing, cli_actor())
        _print_season(slug)
    except ContestError as exc:
        raise fail(exc) from exc
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
