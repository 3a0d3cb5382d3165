"""a contest's rules as one value: the rule columns (baseline_method, min_coverage_fraction,
min_team_members, min_day_coverage_fraction, min_team_size_public) and the scoring_spec JSON move into
one JSON column ``rules`` shaped like contest.rules.ContestRules (the contest file's [scoring], [co2]
and [privacy] tables)

Columns are added and dropped with plain ALTER TABLE (SQLite >= 3.35 drops columns in place): a batch
copy of ``contest`` would drop the table, and with foreign keys on, SQLite's implicit delete would
cascade to its teams and households.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The old columns and their schema as of revision 0011 (defaults for rows written without them).
_OLD_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], str], ...] = (
    ("baseline_method", sa.String(length=40), "prior_period_mean"),
    ("min_coverage_fraction", sa.Float(), "0.8"),
    ("min_team_members", sa.Integer(), "3"),
    ("min_day_coverage_fraction", sa.Float(), "0.9"),
    ("min_team_size_public", sa.Integer(), "3"),
    ("scoring_spec", sa.JSON(), "{}"),
)
#: Keys of the old scoring_spec that are keys of the [scoring] table as they are.
_SCORING_KEYS = ("team_aggregation", "category_by", "excluded_days", "uncertainty", "plausibility")


def _contests(*columns: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table("contest", sa.column("id", sa.Integer()), *columns)


def rules_of(row: dict[str, Any]) -> dict[str, Any]:
    """The rules value of a contest row as of revision 0011. The method is the spec's (what was scored)
    or else the column's (what the file said and the pages showed)."""
    spec = dict(row["scoring_spec"] or {})
    baseline = dict(spec.get("baseline") or {})
    scoring: dict[str, Any] = {
        "method": baseline.pop("method", None) or row["baseline_method"],
        "min_coverage_fraction": row["min_coverage_fraction"],
        "min_team_members": row["min_team_members"],
        "min_day_coverage_fraction": row["min_day_coverage_fraction"],
    }
    scoring.update({key: spec[key] for key in _SCORING_KEYS if key in spec})
    if baseline:
        scoring["baseline"] = baseline
    rules: dict[str, Any] = {
        "scoring": scoring,
        "privacy": {"min_team_size_public": row["min_team_size_public"]},
    }
    if spec.get("emission_factors"):
        rules["co2"] = dict(spec["emission_factors"])
    return rules


def columns_of(rules: dict[str, Any]) -> dict[str, Any]:
    """The revision-0011 columns of a rules value (the inverse of :func:`rules_of`)."""
    scoring = dict(rules.get("scoring") or {})
    method = scoring.pop("method", "prior_period_mean")
    spec: dict[str, Any] = {"baseline": {**dict(scoring.pop("baseline", None) or {}), "method": method}}
    spec.update({key: scoring[key] for key in _SCORING_KEYS if key in scoring})
    if rules.get("co2"):
        spec["emission_factors"] = dict(rules["co2"])
    return {
        "baseline_method": method,
        "min_coverage_fraction": scoring.get("min_coverage_fraction", 0.8),
        "min_team_members": scoring.get("min_team_members", 3),
        "min_day_coverage_fraction": scoring.get("min_day_coverage_fraction", 0.9),
        "min_team_size_public": dict(rules.get("privacy") or {}).get("min_team_size_public", 3),
        "scoring_spec": spec,
    }


def upgrade() -> None:
    op.add_column("contest", sa.Column("rules", sa.JSON(), nullable=False, server_default="{}"))
    old = _contests(*(sa.column(name, kind) for name, kind, _ in _OLD_COLUMNS))
    new = _contests(sa.column("rules", sa.JSON()))
    conn = op.get_bind()
    for row in conn.execute(sa.select(old)).mappings().all():
        conn.execute(new.update().where(new.c.id == row["id"]).values(rules=rules_of(dict(row))))
    for name, _kind, _default in _OLD_COLUMNS:
        op.drop_column("contest", name)


def downgrade() -> None:
    # The old columns come back with their values; their server defaults stay (rows need one when the
    # column is added), which the older models never read.
    for name, kind, default in _OLD_COLUMNS:
        op.add_column("contest", sa.Column(name, kind, nullable=False, server_default=default))
    old = _contests(*(sa.column(name, kind) for name, kind, _ in _OLD_COLUMNS))
    new = _contests(sa.column("rules", sa.JSON()))
    conn = op.get_bind()
    for row in conn.execute(sa.select(new)).mappings().all():
        conn.execute(old.update().where(old.c.id == row["id"]).values(**columns_of(dict(row["rules"] or {}))))
    op.drop_column("contest", "rules")
