"""``contest mqtt``, ``contest admin`` and ``contest weather``: rejected messages, staff tokens, weather."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail, open_db
from contest.errors import ContestError
from contest.settings import load_settings

mqtt_app = typer.Typer(help="MQTT: rejected messages.", no_args_is_help=True)


@mqtt_app.command("rejected")
def mqtt_rejected(limit: Annotated[int, typer.Option(help="How many, newest first")] = 20) -> None:
    """Show the newest rejected MQTT messages with topic, time, reason and payload."""
    from contest.reading_store import ReadingService

    with open_db(load_settings()).session() as session:
        service = ReadingService(session)
        total, rejected = service.rejected_stream_count(), service.rejected_stream(limit)
    typer.echo(f"{total} rejected MQTT messages in total")
    for r in rejected:
        typer.echo(f"{r.received_at:%Y-%m-%d %H:%M:%S} {r.topic}  [{r.key}] {r.reason}")
        typer.echo(f"    {r.payload.decode('utf-8', 'replace')[:200]}")


admin_app = typer.Typer(help="Staff access to the admin API.", no_args_is_help=True)


@admin_app.command("token")
def admin_token(
    name: Annotated[str, typer.Argument(help="Who or what uses the token, e.g. 'stadtwerke-team'")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke the token of this name")] = False,
) -> None:
    """Create a staff API token (printed once; only its hash is stored) or revoke one."""
    from contest.staff import StaffService

    try:
        with open_db(load_settings()).session() as s:
            if revoke:
                StaffService(s).revoke(name)
            else:
                token = StaffService(s).create_token(name)
    except ContestError as exc:
        raise fail(exc) from exc
    if revoke:
        typer.echo(f"Token {name!r} revoked.")
        return
    typer.secho(f"Staff token for {name!r}: {token}", bold=True)
    typer.echo("Use it as 'Authorization: Bearer <token>'. It is shown only now.")


weather_app = typer.Typer(help="Weather data for degree-day baselines.", no_args_is_help=True)


@weather_app.command("import")
def weather_import(
    slug: Annotated[str, typer.Argument(help="Contest slug")],
    file: Annotated[Path, typer.Argument(help="DWD produkt_klima_tag_*.txt or a CSV (date, °C)")],
) -> None:
    """Import daily mean temperatures (German weather service daily file, or a plain CSV)."""
    from contest.weather import WeatherService
    from ingest.weather import parse_dwd_daily, parse_temperature_csv

    data = file.read_bytes()
    try:
        is_dwd = b"MESS_DATUM" in data[:2000]
        weather = parse_dwd_daily(data) if is_dwd else parse_temperature_csv(data)
        with open_db(load_settings()).session() as session:
            days = WeatherService(session).store(slug, weather)
    except ContestError as exc:
        raise fail(exc) from exc
    typer.echo(f"{days} days of temperature stored for {slug!r} ({'DWD' if is_dwd else 'CSV'}).")
