"""Every published leaderboard is a revision; late data rescores, and a household's rank history says why
its rank moved. The scheduled job stores a revision only when the result changed, and each revision
records how it was computed (method, parameters, input fingerprint)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.history import Change, RankHistoryService, _Line, explain
from contest.households import HouseholdService
from contest.models import Household, LeaderboardSnapshot
from contest.publishing import PublishingService
from contest.settings import WebSettings
from contest.snapshots import content_hash
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, english_hourly, write_contest_files
from tests.integration.test_portal import Portal
from tests.servers import live_server
from web.app import create_app


@pytest.fixture
def contest_db(db: Database, tmp_path: Path) -> Database:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABCDE":
        CsvImporter(db).import_file(files[meter], meter)
    return db


def _id(db: Database, pseudonym: str) -> int:
    with db.session() as session:
        return session.scalars(select(Household.id).where(Household.pseudonym == pseudonym)).one()


def _late_data_for_dachs(db: Database, tmp_path: Path) -> None:
    """Dachs's meter was offline from 15 Jan; its data (5 kWh a day, half its baseline) arrive late."""
    late = tmp_path / "dachs-nachgeliefert.csv"
    late.write_text(english_hourly(10.0, 5.0), encoding="utf-8")
    CsvImporter(db).import_file(late, "D")


def test_late_data_rescores_and_the_history_says_why(contest_db: Database, tmp_path: Path) -> None:
    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    publishing.publish("test-2026", reason="schedule")
    _late_data_for_dachs(contest_db, tmp_path)
    publishing.publish("test-2026", reason="import")
    with contest_db.session() as session:
        dachs = RankHistoryService(session).household(_id(contest_db, "Dachs"))
        amsel = RankHistoryService(session).household(_id(contest_db, "Amsel"))

    # Dachs: first unranked (data on 4 of 10 competition days), then ranked first with 50 %.
    newest, first = dachs
    assert [c.key for c in first.changes] == ["first"] and first.rank is None
    assert newest.rank == 1 and newest.savings_fraction == pytest.approx(0.5) and newest.reason == "import"
    keys = {c.key: c for c in newest.changes}
    assert keys["status"].after == "ranked"
    assert (keys["coverage"].before, keys["coverage"].after) == (pytest.approx(0.4), pytest.approx(1.0))
    assert (keys["field_size"].before, keys["field_size"].after) == (4, 5)
    # Amsel (20 %, rank 1 with Elster) did nothing and lost a place: the history says others moved.
    newest, first = amsel
    assert (first.rank, newest.rank, newest.moved) == (1, 2, -1)
    assert {c.key for c in newest.changes} == {"rank", "field_size", "others"}
    assert newest.savings_fraction == first.savings_fraction == pytest.approx(0.2)
    publishing.close()


def test_the_schedule_stores_a_revision_only_when_the_result_changed(
    contest_db: Database, tmp_path: Path
) -> None:
    now = [AS_OF]
    publishing = PublishingService(contest_db, clock=lambda: now[0], cache_ttl_s=0.0)
    first = publishing.publish("test-2026", reason="schedule", skip_unchanged=True)
    now[0] = AS_OF + dt.timedelta(minutes=15)  # the next tick, the same complete days: same result
    assert publishing.publish("test-2026", reason="schedule", skip_unchanged=True).id == first.id
    assert len(publishing.history("test-2026")) == 1
    _late_data_for_dachs(contest_db, tmp_path)
    changed = publishing.publish("test-2026", reason="schedule", skip_unchanged=True)
    assert changed.id > first.id and len(publishing.history("test-2026")) == 2
    publishing.close()


def test_each_revision_records_how_it_was_computed_and_reproduces(contest_db: Database) -> None:
    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    one = publishing.publish("test-2026", reason="manual")
    two = publishing.publish("test-2026", reason="manual")
    with contest_db.session() as session:
        a, b = (session.get(LeaderboardSnapshot, i) for i in (one.id, two.id))
        assert a is not None and b is not None
        provenance = a.body["provenance"]
        assert provenance["method"] == "prior_period_mean"
        assert provenance["input_fingerprint"].startswith("sha256:")
        assert provenance["parameters"]["min_coverage_fraction"] == 0.8
        # The same inputs give the same result, byte for byte.
        assert a.body == b.body and a.content_hash == b.content_hash == content_hash(a.body)
    assert publishing.latest("test-2026").provenance == provenance
    # The public API shows how the result was computed, so anyone can check it.
    from litestar.testing import TestClient

    from web.app import create_app

    with TestClient(create_app(contest_db, publishing=publishing)) as client:
        api = client.get("/api/contests/test-2026/leaderboard").json()["provenance"]
        assert api["method"] == "prior_period_mean"
        assert api["input_fingerprint"] == provenance["input_fingerprint"]
    publishing.close()


def test_explain_names_the_households_own_causes_before_the_field() -> None:
    t = dt.datetime(2026, 1, 21, tzinfo=dt.UTC)
    before = _Line(1, t, "schedule", 10, "ranked", 3, 0.10, 8.0, 0.9)
    # It saved more and climbed: its own savings are the reason, not the others.
    better = _Line(2, t, "import", 10, "ranked", 1, 0.15, 8.0, 1.0)
    assert [c.key for c in explain(before, better)] == ["rank", "coverage", "savings"]
    # Its numbers stayed; two more households were ranked ahead of it.
    passed = _Line(3, t, "import", 12, "ranked", 5, 0.10, 8.0, 0.9)
    assert explain(before, passed) == (
        Change("rank", 3, 5),
        Change("field_size", 10, 12),
        Change("others", 3, 5),
    )
    # A rounding-level wobble is no change at all.
    assert explain(before, _Line(4, t, "schedule", 10, "ranked", 3, 0.10001, 8.001, 0.9)) == ()


def test_the_portal_shows_the_rank_history(contest_db: Database, tmp_path: Path) -> None:
    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    publishing.publish("test-2026", reason="schedule")
    _late_data_for_dachs(contest_db, tmp_path)
    publishing.publish("test-2026", reason="import")
    with contest_db.session() as session:
        households = HouseholdService(session)
        code = households.issue_access_code(households.find("test-2026", "Dachs").id)[1]
    web = WebSettings(secret_key="test-secret", upload_dir=str(tmp_path / "up"))
    with live_server(create_app(contest_db, web, clock=lambda: AS_OF, publishing=publishing)) as url:
        p = Portal(url)
        page = p.login(code).text
        # The household is told what its baseline is.
        assert "Ihr mittlerer Tagesverbrauch im Vergleichszeitraum vor dem Wettbewerb" in page
        table = page.split('id="rank-history"')[1].split("</table>")[0]
        assert "Jetzt in der Wertung: genug Daten" in table
        assert "Datenabdeckung im Wettbewerb 40,0\u00a0% → 100,0\u00a0%" in table
        assert "Erste Wertung" in table and "neue Daten" in table
        english = p.client.get("/portal/?lang=en").text
        assert "Your rank history" in english and "Now ranked: enough data" in english
    publishing.close()
