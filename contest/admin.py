"""Staff administration: API tokens (hashed) and the operations the admin API offers."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import secrets

from sqlalchemy import select

from contest.db import Database
from contest.errors import ConfigError, PermissionDenied
from contest.models import RejectedRecord, StaffToken
from contest.services import LeaderboardService


def _hash(token: str) -> str:
    # Tokens are 256-bit random: a fast hash is enough (see contest.access for the same reasoning).
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


class StaffService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_token(self, name: str) -> str:
        """A new staff API token, shown once (only its hash is stored)."""
        name = name.strip()
        if not name:
            raise ConfigError("a token needs a name (who or what uses it)")
        token = "cst_" + secrets.token_urlsafe(32)
        with self.db.session() as session:
            if session.scalars(select(StaffToken).where(StaffToken.name == name)).first() is not None:
                raise ConfigError(f"a token named {name!r} exists; revoke it first")
            session.add(StaffToken(name=name, token_hash=_hash(token)))
        return token

    def revoke(self, name: str) -> None:
        with self.db.session() as session:
            row = session.scalars(select(StaffToken).where(StaffToken.name == name)).first()
            if row is None:
                raise ConfigError(f"no token named {name!r}")
            row.revoked_at = dt.datetime.now(dt.UTC)
            row.name = f"{row.name} (revoked {row.revoked_at:%Y-%m-%d %H:%M:%S})"

    def authenticate(self, token: str | None) -> str:
        """The token's name, or :class:`PermissionDenied`."""
        if not token:
            raise PermissionDenied(
                "staff token required (Authorization: Bearer <token>)", key="auth.staff_required"
            )
        with self.db.session() as session:
            row = session.scalars(
                select(StaffToken).where(
                    StaffToken.token_hash == _hash(token), StaffToken.revoked_at.is_(None)
                )
            ).first()
            if row is None:
                raise PermissionDenied("invalid staff token", key="auth.staff_invalid")
            return row.name

    def rejected_records(self, source: str | None = None, limit: int = 200) -> list[dict[str, object]]:
        with self.db.session() as session:
            query = select(RejectedRecord).order_by(RejectedRecord.id.desc()).limit(limit)
            if source:
                query = query.where(RejectedRecord.source == source)
            return [
                {
                    "id": r.id,
                    "source": r.source,
                    "batch_id": r.batch_id,
                    "meter_id": r.meter_id,
                    "line_no": r.line_no,
                    "topic": r.topic,
                    "raw": r.raw,
                    "reason": r.reason,
                    "key": r.key,
                    "created_at": r.created_at.isoformat(),
                }
                for r in session.scalars(query).all()
            ]

    def results_csv(self, slug: str) -> str:
        """Every household's result (staff view: also those not listed publicly), as CSV."""
        view = LeaderboardService(self.db).leaderboard(slug, public_only=False)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(
            [
                "rank",
                "pseudonym",
                "team",
                "persons",
                "status",
                "savings_fraction",
                "savings_kwh",
                "savings_kwh_per_person",
                "expected_kwh",
                "actual_kwh",
                "baseline_kwh_per_day",
                "baseline_coverage_fraction",
                "competition_coverage_fraction",
                "public_listing",
            ]
        )
        for h in view.households:
            writer.writerow(
                [
                    h.rank or "",
                    h.pseudonym,
                    h.team or "",
                    h.persons,
                    h.status,
                    h.savings_fraction,
                    h.savings_kwh,
                    h.savings_kwh_per_person,
                    h.expected_kwh,
                    h.actual_kwh,
                    h.baseline_kwh_per_day,
                    h.baseline_coverage_fraction,
                    h.competition_coverage_fraction,
                    h.public_listing,
                ]
            )
        return out.getvalue()
