"""Leaderboards are published as snapshots by scheduled jobs; pages serve the latest snapshot and never
score on a view; several instances on one PostgreSQL publish once per tick; a finished contest closes."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.households import HouseholdService
from contest.leaderboards import LeaderboardService
from contest.publishing import PublishingService, job_lock
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, write_contest_files


@pytest.fixture
def contest_db(db: Database, tmp_path: Path) -> Database:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABCDE":
        CsvImporter(db).import_file(files[meter], meter)
    return db


def test_a_page_view_serves_the_snapshot_and_never_scores(
    contest_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    first = publishing.publish("test-2026", reason="schedule")
    calls = []
    original = LeaderboardService.score
    monkeypatch.setattr(LeaderboardService, "score", lambda *a, **k: calls.append(1) or original(*a, **k))
    for _ in range(5):
        view = publishing.latest("test-2026")
    assert calls == []  # five views, no scoring
    assert view.as_of == AS_OF.astimezone(dt.UTC) and len(view.households) == 4
    # Another instance (a second service on the same database) sees the newer snapshot.
    other = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    second = other.publish("test-2026", reason="import")
    assert second.id > first.id
    assert publishing.latest_id("test-2026") == second.id
    publishing.close()
    other.close()


def test_publish_running_skips_recent_and_closes_a_finished_contest(contest_db: Database) -> None:
    now = [AS_OF]
    publishing = PublishingService(contest_db, clock=lambda: now[0])
    assert publishing.publish_running(min_interval_s=300) == ["test-2026"]
    assert publishing.publish_running(min_interval_s=300) == []  # published moments ago
    now[0] = AS_OF + dt.timedelta(minutes=6)
    assert publishing.publish_running(min_interval_s=300) == ["test-2026"]
    now[0] = dt.datetime(2026, 2, 2, 12, 0, tzinfo=dt.UTC)  # the competition ended on 31 January
    assert publishing.publish_running(min_interval_s=300) == ["test-2026"]  # due to change: closing
    last = publishing.history("test-2026", limit=1)[0]
    assert not last.final and publishing.latest("test-2026").contest.state == "closing"  # provisional
    now[0] = dt.datetime(2026, 2, 15, 12, 0, tzinfo=dt.UTC)  # the 14-day grace period ended on 14 February
    assert publishing.publish_running(min_interval_s=300) == ["test-2026"]
    last = publishing.history("test-2026", limit=1)[0]
    assert last.final and last.reason == "close"
    assert publishing.publish_running(min_interval_s=0) == []  # closed: frozen
    final = publishing.latest("test-2026")
    assert final.competition_days_elapsed == 21
    publishing.close()


@pytest.mark.postgres
def test_two_instances_on_postgresql_publish_once_per_tick(pg_server_url: str, tmp_path: Path) -> None:
    from tests.conftest import _fresh_pg_database

    url = _fresh_pg_database(pg_server_url)
    db_a, db_b = Database(url), Database(url)
    files = write_contest_files(tmp_path / "files")
    with db_a.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "AB":
        CsvImporter(db_a).import_file(files[meter], meter)
    a = PublishingService(db_a, clock=lambda: AS_OF)
    b = PublishingService(db_b, clock=lambda: AS_OF)
    # While one instance holds the job lock, the other does not work.
    with job_lock(db_a, "publish_running") as got:
        assert got
        assert b.publish_running(min_interval_s=300) == []
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def tick(service: PublishingService) -> None:
        barrier.wait()
        results.append(service.publish_running(min_interval_s=300))

    threads = [threading.Thread(target=tick, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(len(r) for r in results) == [0, 1]  # exactly one instance published this tick
    assert len(a.history("test-2026")) == 1
    for s in (a, b):
        s.close()
    db_a.dispose()
    db_b.dispose()


def test_small_teams_are_not_shown_publicly(db: Database, tmp_path: Path) -> None:
    """Privacy: with min_team_size_public = 4, the 3-member team of the fixture is left out of the
    public leaderboard (its members' figures could be told apart), but staff still see it."""
    files = write_contest_files(tmp_path / "files")
    text = files["toml"].read_text(encoding="utf-8") + "\n[privacy]\nmin_team_size_public = 4\n"
    files["toml"].write_text(text, encoding="utf-8")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    publishing = PublishingService(db, clock=lambda: AS_OF)
    publishing.publish("test-2026")
    assert publishing.latest("test-2026").teams == ()
    with db.session() as session:
        staff = LeaderboardService(session).leaderboard("test-2026", AS_OF, public_only=False)
    assert [t.name for t in staff.teams] == ["Nordviertel"]
    publishing.close()


def test_the_page_charts_each_teams_progress_from_daily_snapshots(contest_db: Database) -> None:
    import httpx

    from tests.servers import live_server
    from web.app import create_app

    now = [AS_OF - dt.timedelta(days=2)]
    publishing = PublishingService(contest_db, clock=lambda: now[0], cache_ttl_s=0.0)
    for _ in range(3):
        publishing.publish("test-2026", reason="schedule")
        now[0] += dt.timedelta(days=1)
    now[0] = AS_OF
    with live_server(create_app(contest_db, clock=lambda: AS_OF, publishing=publishing)) as url:
        html = httpx.get(f"{url}/contests/test-2026").text
    assert 'id="progress"' in html and "<polyline" in html and "<title>Nordviertel</title>" in html
    series = publishing.team_progress("test-2026", "Europe/Berlin")
    assert len(series["Nordviertel"]) == 3  # one point per day
    publishing.close()


def test_the_json_api_answers_conditional_requests_until_a_new_snapshot(contest_db: Database) -> None:
    """City displays poll the leaderboard: an unchanged snapshot costs them a 304, a new one a new ETag."""
    from litestar.testing import TestClient

    from web.app import create_app

    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    with TestClient(create_app(contest_db, publishing=publishing)) as client:
        url = "/api/contests/test-2026/leaderboard"
        first = client.get(url)
        assert first.status_code == 200 and first.json()["households_total"] == 4
        etag = first.headers["etag"]
        assert "set-cookie" not in first.headers  # no CSRF or language cookie on the API
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        publishing.publish("test-2026", reason="import")
        fresh = client.get(url, headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.headers["etag"] != etag
        assert fresh.json()["as_of"] == first.json()["as_of"]
        assert client.get(url + "?offset=2&limit=1").json()["households"][0]["rank"] >= 1
    publishing.close()


def test_the_newest_snapshot_is_always_the_one_scored_last(
    contest_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow background publication that read the data first must not land after (and above) a
    publication of newer data."""
    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    original = LeaderboardService.leaderboard
    started = threading.Event()

    def slow(self: LeaderboardService, *args: object, **kwargs: object) -> object:
        view = original(self, *args, **kwargs)  # type: ignore[arg-type]
        if threading.current_thread().name.startswith("publish"):
            started.set()
            time.sleep(1.0)  # the data it read are now older than what comes next
        return view

    monkeypatch.setattr(LeaderboardService, "leaderboard", slow)
    publishing.publish_soon("test-2026", reason="import")
    assert started.wait(10)
    with contest_db.session() as session:
        HouseholdService(session).add("test-2026", "Zaunkönig", persons=1, public_listing=True)
    publishing.publish("test-2026", reason="manual")
    publishing.close()  # waits for the background publication
    newest = PublishingService(contest_db, clock=lambda: AS_OF).latest("test-2026")
    assert any(h.pseudonym == "Zaunkönig" for h in newest.households)


def test_a_snapshot_from_a_newer_version_still_loads_after_a_rollback(contest_db: Database) -> None:
    from sqlalchemy import update

    from contest.models import LeaderboardSnapshot

    first = PublishingService(contest_db, clock=lambda: AS_OF).publish("test-2026")
    with contest_db.session() as session:
        body = dict(session.get(LeaderboardSnapshot, first.id).body)  # type: ignore[union-attr]
        body["contest"] = {**body["contest"], "a_field_from_the_future": 1}
        body["households"] = [{**h, "another_new_field": "x"} for h in body["households"]]
        body["all_households"] = [{**h, "another_new_field": "x"} for h in body["all_households"]]
        session.execute(
            update(LeaderboardSnapshot).where(LeaderboardSnapshot.id == first.id).values(body=body)
        )
    fresh = PublishingService(contest_db, clock=lambda: AS_OF)
    view = fresh.latest("test-2026")
    assert view.contest.slug == "test-2026" and len(view.households) == 4
    amsel = next(h for h in view.households if h.pseudonym == "Amsel")
    assert fresh.standing("test-2026", amsel.household_id) == amsel


def test_a_snapshot_keeps_its_rules_from_before_0012_and_from_a_newer_version(contest_db: Database) -> None:
    """Snapshots published before the rules were one value carry them as flat fields of the contest; a
    newer version may add a rule this one does not know. Both still load with the rules they state."""
    from sqlalchemy import update

    from contest.models import LeaderboardSnapshot

    first = PublishingService(contest_db, clock=lambda: AS_OF).publish("test-2026")
    with contest_db.session() as session:
        body = dict(session.get(LeaderboardSnapshot, first.id).body)  # type: ignore[union-attr]
    flat = {k: v for k, v in body["contest"].items() if k != "rules"}
    flat |= {"baseline_method": "prior_period_mean", "min_coverage_fraction": 0.7, "min_team_members": 2}
    flat |= {"min_day_coverage_fraction": 0.5, "min_team_size_public": 4}
    newer = dict(body["contest"])
    newer["rules"] = {**newer["rules"], "scoring": {**newer["rules"]["scoring"], "a_rule_from_the_future": 1}}
    for contest, expected in ((flat, (0.7, 2, 0.5, 4)), (newer, (0.8, 3, 0.9, 3))):
        with contest_db.session() as session:
            session.execute(
                update(LeaderboardSnapshot)
                .where(LeaderboardSnapshot.id == first.id)
                .values(body={**body, "contest": contest})
            )
        fresh = PublishingService(contest_db, clock=lambda: AS_OF)
        rules = fresh.latest("test-2026").contest.rules
        scoring = rules.scoring
        got = (scoring.min_coverage_fraction, scoring.min_team_members, scoring.min_day_coverage_fraction)
        assert (*got, rules.privacy.min_team_size_public) == expected
        fresh.close()
