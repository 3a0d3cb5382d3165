"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and can
be rolled back and forward again (the app migrates on every start)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from contest.db import Database, alembic_config, migrate
from contest.models import Base, UTCDateTime


def _compare_types(context, inspected_column, metadata_column, inspected_type, metadata_type):  # type: ignore[no-untyped-def]
    # UTC times are declared DATETIME everywhere; on SQLite they hold integer microseconds
    # (models.UTCDateTime), which autogenerate would otherwise report as a type change.
    if isinstance(metadata_column.type, UTCDateTime):
        return False
    return None  # default comparison


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": _compare_types})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_and_upgrade_again(db: Database) -> None:
    command.downgrade(alembic_config(db.engine), "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate(db.engine)
    migrate(db.engine)  # idempotent: a second start changes nothing
    assert {"contest", "reading", "daily_consumption", "rejected_record"} <= set(
        inspect(db.engine).get_table_names()
    )
