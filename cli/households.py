"""``contest household`` and ``contest meter``: households, their access codes, meters and devices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cli.common import fail, open_db
from contest.errors import ContestError
from contest.settings import load_settings

household_app = typer.Typer(help="Households of a contest.", no_args_is_help=True)


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
    from contest.households import HouseholdService

    if carrier not in CARRIERS or kind not in METER_KINDS:
        raise typer.BadParameter(f"carrier must be one of {CARRIERS}, kind one of {METER_KINDS}")
    settings = load_settings()
    meters = [MeterInfo(m, carrier, kind) for m in (meter or [])]
    try:
        with open_db(settings).session() as s:
            info, code = HouseholdService(s).add(
                slug,
                pseudonym,
                persons=persons,
                team=team,
                public_listing=public,
                meters=meters,
                create_team=create_team,
            )
    except ContestError as exc:
        raise fail(exc) from exc
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
    from contest.households import HouseholdService

    try:
        with open_db(load_settings()).session() as s:
            households = HouseholdService(s)
            info, code = households.issue_access_code(households.find(slug, pseudonym).id)
    except ContestError as exc:
        raise fail(exc) from exc
    typer.echo(f"New access code for household {info.pseudonym!r}; the old code no longer works.")
    _print_code(code)


meter_app = typer.Typer(help="Meters of households.", no_args_is_help=True)


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

    from contest.meters import MeterService

    settings = load_settings()
    try:
        when = dt.datetime.fromisoformat(at.replace(" ", "T"))
    except ValueError as exc:
        raise typer.BadParameter(f"--at {at!r} is not a date and time like 2026-11-10T14:30") from exc
    try:
        with open_db(settings).session() as session:  # the swap and its two readings: one transaction
            meters = MeterService(session)
            ctx = meters.import_context(old)
            if when.tzinfo is None:
                when = when.replace(tzinfo=ZoneInfo(ctx.timezone))
            new_ctx = meters.replace(
                old, new, when, old_final_kwh=_parse_number(final), new_initial_kwh=_parse_number(initial)
            )
    except ContestError as exc:
        raise fail(exc) from exc
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
    from contest.meters import MeterService

    db = open_db(load_settings())
    try:
        with db.session() as session:
            bound = MeterService(session).bind(meter, device, channel, unit=unit)
    except ContestError as exc:
        raise fail(exc) from exc
    typer.echo(
        f"Device {device!r} channel {channel!r} feeds meter {bound.external_id}"
        + (f" (values without a unit are {bound.unit})" if bound.unit else "")
        + "."
    )
    if bound.series_start is not None:
        typer.echo(f"Its register is a new series from {bound.series_start:%Y-%m-%d %H:%M:%S} UTC on.")
    with db.session() as session:
        seen = MeterService(session).last_seen(device.strip())
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
