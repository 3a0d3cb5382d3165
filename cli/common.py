"""What the ``contest`` commands share: the database from the settings, errors as exit codes, reports."""

from __future__ import annotations

import typer

from contest.db import Database
from contest.domain import ImportReport
from contest.errors import ContestError
from contest.settings import Settings


def open_db(settings: Settings) -> Database:
    return Database(settings.db.url)


def fail(exc: ContestError) -> typer.Exit:
    typer.secho(f"Error: {exc.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def print_report(report: ImportReport) -> None:
    typer.echo(
        f"{report.filename or report.meter_external_id}: read {report.rows_read}, stored {report.rows_stored}, "
        f"duplicates {report.rows_duplicate}, rejected {report.rows_rejected}"
    )
    for reason in report.first_reasons():
        typer.echo(f"  rejected {reason}")


def cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (a container without passwd entry)
        return "cli"
