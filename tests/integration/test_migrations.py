"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and can
be rolled back and forward again (the app migrates on every start)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from contest.contests import ContestService
from contest.db import Database, alembic_config, make_engine, migrate
from contest.models import Base, Household, UTCDateTime
from contest.rules import ContestRules


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


# --- 0012: the rule columns and scoring_spec become one rules value ---------------------------------
_NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
#: the rule columns of revision 0011
_RULE_COLUMNS = (
    "baseline_method",
    "min_coverage_fraction",
    "min_team_members",
    "min_day_coverage_fraction",
    "min_team_size_public",
)
_OTHER_COLUMNS = (
    "id",
    "slug",
    "name",
    "timezone",
    "carrier",
    "gas_brennwert_kwh_per_m3",
    "gas_zustandszahl",
    "state",
    "grace_days",
    "hold_open",
    "baseline_start",
    "baseline_end",
    "competition_start",
    "competition_end",
)
_OLD_CONTEST = sa.table(
    "contest",
    *(sa.column(name) for name in (*_OTHER_COLUMNS, *_RULE_COLUMNS)),
    sa.column("scoring_spec", sa.JSON()),
    sa.column("created_at", UTCDateTime()),
)
_OLD_SPEC = {
    "baseline": {
        "method": "degree_day_regression",
        "min_baseline_coverage_fraction": 0.9,
        "heating_balance_points_c": [12.0, 15.0],
    },
    "team_aggregation": "median",
    "category_by": "household_size",
    "excluded_days": ["2026-01-15"],
    "plausibility": {"rank_flagged": False},
    "emission_factors": {"electricity_kg_per_kwh": 0.5},
}


def _store_contests_as_of_0011(db_url: str) -> None:
    """Two contests the way revision 0011 stored them: one with every rule set, one with the defaults
    of a contest set up before the scoring spec existed; the first with a team and a household."""
    common = {
        "name": "Alt",
        "timezone": "Europe/Berlin",
        "carrier": "electricity",
        "gas_brennwert_kwh_per_m3": 10.0,
        "gas_zustandszahl": 0.9529,
        "state": "running",
        "grace_days": 14,
        "hold_open": False,
        "baseline_start": dt.date(2025, 1, 1),
        "baseline_end": dt.date(2025, 12, 31),
        "competition_start": dt.date(2026, 1, 1),
        "competition_end": dt.date(2026, 3, 31),
        "created_at": _NOW,
    }
    household = sa.table(
        "household",
        *(sa.column(n) for n in ("id", "contest_id", "team_id", "pseudonym", "persons", "public_listing")),
        sa.column("created_at", UTCDateTime()),
    )
    engine = make_engine(db_url)
    try:
        command.upgrade(alembic_config(engine), "0011")
        with engine.begin() as conn:
            conn.execute(
                _OLD_CONTEST.insert(),
                [
                    {
                        **common,
                        "id": 1,
                        "slug": "alt-2026",
                        **dict(zip(_RULE_COLUMNS, ("degree_day_regression", 0.7, 2, 0.5, 4), strict=True)),
                        "scoring_spec": _OLD_SPEC,
                    },
                    {
                        **common,
                        "id": 2,
                        "slug": "uralt-2026",
                        **dict(zip(_RULE_COLUMNS, ("prior_period_mean", 0.8, 3, 0.9, 3), strict=True)),
                        "scoring_spec": {},
                    },
                ],
            )
            conn.execute(sa.text("INSERT INTO team (id, contest_id, name) VALUES (1, 1, 'Nord')"))
            conn.execute(
                household.insert().values(
                    id=1,
                    contest_id=1,
                    team_id=1,
                    pseudonym="Amsel",
                    persons=2,
                    public_listing=True,
                    created_at=_NOW,
                )
            )
    finally:
        engine.dispose()


def test_a_contest_stored_before_0012_keeps_its_rules_and_its_households(db_url: str) -> None:
    _store_contests_as_of_0011(db_url)
    database = Database(db_url)  # migrates to the newest revision, as every start does
    try:
        with database.session() as session:
            stored = ContestService(session).get("alt-2026")
            plain = ContestService(session).get("uralt-2026")
            households = session.scalar(sa.select(sa.func.count()).select_from(Household))
        rules = stored.scoring_rules()
        assert rules.baseline.method == "degree_day_regression"
        assert rules.baseline.min_baseline_coverage_fraction == 0.9
        assert rules.baseline.heating_balance_points_c == (12.0, 15.0)
        assert (rules.min_coverage_fraction, rules.min_team_members, rules.min_day_coverage_fraction) == (
            0.7,
            2,
            0.5,
        )
        assert (rules.team_aggregation, rules.category_by) == ("median", "household_size")
        assert rules.excluded_days == (dt.date(2026, 1, 15),)
        assert rules.plausibility.rank_flagged is False
        assert rules.emission_factors.electricity_kg_per_kwh == 0.5
        assert stored.rules.privacy.min_team_size_public == 4
        assert plain.rules == ContestRules()  # the old defaults are today's defaults
        assert households == 1  # the contest's row was changed in place: nothing cascaded away

        # Down again: the old columns hold the same rules (the spec keeps the method, as 0011 wrote it).
        command.downgrade(alembic_config(database.engine), "0011")
        with database.engine.connect() as conn:
            row = conn.execute(_OLD_CONTEST.select().where(_OLD_CONTEST.c.slug == "alt-2026")).one()
        assert tuple(getattr(row, name) for name in _RULE_COLUMNS) == (
            "degree_day_regression",
            0.7,
            2,
            0.5,
            4,
        )
        spec = row.scoring_spec
        assert spec["baseline"]["method"] == "degree_day_regression"
        assert spec["baseline"]["heating_balance_points_c"] == [12.0, 15.0]
        assert (spec["team_aggregation"], spec["category_by"]) == ("median", "household_size")
        assert spec["excluded_days"] == ["2026-01-15"]
        assert spec["plausibility"]["rank_flagged"] is False
        assert spec["emission_factors"]["electricity_kg_per_kwh"] == 0.5
        migrate(database.engine)  # and up once more: the same rules
        with database.session() as session:
            assert ContestService(session).get("alt-2026").scoring_rules() == rules
    finally:
        database.dispose()
