"""Every publication path (command line, schedule, upload, admin) works for a contest in every state of
its season, also one without any readings, and one contest's failure never stops another's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from typer.testing import CliRunner

from cli.main import app as cli
from contest.db import Database
from contest.households import HouseholdService
from contest.leaderboards import LeaderboardService
from contest.publishing import PublishingService
from contest.staff import StaffService
from ingest.importer import CsvImporter
from web.app import create_app

BERLIN = ZoneInfo("Europe/Berlin")
#: The command line and the schedule run on the real clock: the contests are dated around today.
TODAY = dt.datetime.now(BERLIN).date()


def contest_file(slug: str, start: dt.date, end: dt.date, state: str = "announced") -> str:
    return f"""
[contest]
slug = "{slug}"
name = "Wettbewerb {slug}"
state = "{state}"
baseline = {{ start = {start - dt.timedelta(days=60)}, end = {start - dt.timedelta(days=1)} }}
competition = {{ start = {start}, end = {end} }}

[[teams]]
name = "Nord"

[[households]]
pseudonym = "Igel"
team = "Nord"
public = true
meters = [{{ id = "{slug}-M", kind = "register" }}]
"""


#: state -> (first competition day, last competition day, initial state), relative to today
SEASONS = {
    "draft": (7, 60, "draft"),
    "announced": (7, 60, "announced"),  # set up today for a start next week
    "running": (-3, 30, "announced"),
    "closing": (-40, -3, "announced"),
    "final": (-80, -30, "announced"),
    "archived": (-80, -30, "announced"),
}


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CONTEST_DB_URL", db_url)
    return CliRunner()


@pytest.mark.parametrize("state", list(SEASONS))
def test_every_publication_path_works_in_every_state(
    state: str, run: CliRunner, db: Database, tmp_path: Path
) -> None:
    first, last, initial = SEASONS[state]
    slug = f"c-{state}"
    path = tmp_path / "contest.toml"
    path.write_text(
        contest_file(slug, TODAY + dt.timedelta(days=first), TODAY + dt.timedelta(days=last), initial),
        encoding="utf-8",
    )
    assert run.invoke(cli, ["setup", str(path)]).exit_code == 0
    if state == "archived":
        assert run.invoke(cli, ["publish", slug]).exit_code == 0  # the grace period is over: final
        archived = run.invoke(cli, ["season", "archive", slug])
        assert archived.exit_code == 0, archived.output
    # The command line, with no readings at all.
    published = run.invoke(cli, ["publish", slug])
    assert published.exit_code == 0, published.output
    status = run.invoke(cli, ["season", "status", slug])
    assert status.exit_code == 0 and f"({slug}): {state}" in status.output, status.output
    publishing = PublishingService(db)
    try:
        # The schedule: everything whose season is not over.
        assert (slug in publishing.publish_running()) == (state in ("announced", "running", "closing"))
        # An upload (from the meter's display, in the baseline period) and the publication after it.
        day = TODAY + dt.timedelta(days=first - 30)
        readings = f"Datum;Zählerstand (kWh)\n{day:%d.%m.%Y} 00:00;100,0\n{day + dt.timedelta(days=1):%d.%m.%Y} 00:00;110,0\n"
        report = CsvImporter(db).import_bytes(readings.encode(), f"{slug}-M", filename="ablesung.csv")
        assert report.rows_stored == 2
        after_upload = publishing.publish(slug, reason="import")
        assert after_upload.final == (state in ("final", "archived"))
        assert publishing.seasons.get(slug).state == state
        assert publishing.seasons.get(slug).last_error is None
        # Staff and the pages, through the app.
        with db.session() as session:
            token = StaffService(session).create_token("staff")
        with db.session() as session:
            households = HouseholdService(session)
            code = households.issue_access_code(households.find(slug, "Igel").id)[1]
        with TestClient(create_app(db, publishing=publishing)) as client:
            staff = {"Authorization": f"Bearer {token}"}
            assert client.post(f"/api/admin/contests/{slug}/publish", headers=staff).status_code == 201
            detail = client.get(f"/api/admin/contests/{slug}", headers=staff)
            assert detail.status_code == 200 and detail.json()["status"] == state
            public = 404 if state == "draft" else 200
            for page in (
                f"/contests/{slug}",
                f"/contests/{slug}/widget",
                f"/api/contests/{slug}/leaderboard",
            ):
                assert client.get(page).status_code == public, page
            assert client.get("/").status_code == 200
            client.get("/portal/")
            login = client.post(
                "/portal/login",
                data={"code": code},
                headers={"x-csrftoken": client.cookies.get("csrftoken") or ""},
            )
            assert login.status_code == 200 and f'data-state="{state}"' in login.text, login.text[:2000]
    finally:
        publishing.close()


def test_one_contests_failure_never_stops_another(
    db: Database, tmp_path: Path, run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for slug in ("broken", "healthy"):
        path = tmp_path / f"{slug}.toml"
        path.write_text(
            contest_file(slug, TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=30)), encoding="utf-8"
        )
        assert run.invoke(cli, ["setup", str(path)]).exit_code == 0
    score = LeaderboardService.score

    def failing(self: LeaderboardService, slug: str, as_of: dt.datetime | None = None):  # type: ignore[no-untyped-def]
        if slug == "broken":
            raise RuntimeError("a fault for this test")
        return score(self, slug, as_of)

    monkeypatch.setattr(LeaderboardService, "score", failing)
    publishing = PublishingService(db)
    try:
        # "broken" comes first and fails; "healthy" is published all the same.
        assert publishing.publish_running() == ["healthy"]
        broken = publishing.seasons.get("broken")
        assert broken.last_error is not None and "a fault for this test" in broken.last_error
        assert broken.last_published_at is None
        assert publishing.seasons.get("healthy").last_error is None
        with db.session() as session:
            token = StaffService(session).create_token("staff")
        with TestClient(create_app(db, publishing=publishing)) as client:
            # Staff see the error; the public page of the broken contest still answers, empty.
            detail = client.get("/api/admin/contests/broken", headers={"Authorization": f"Bearer {token}"})
            assert "a fault for this test" in detail.json()["last_error"]
            page = client.get("/contests/broken")
            assert page.status_code == 200 and 'data-state="running"' in page.text
            assert client.get("/contests/healthy").status_code == 200
            assert client.get("/").status_code == 200
        monkeypatch.setattr(LeaderboardService, "score", score)  # mended
        assert publishing.publish_running() == ["broken", "healthy"]
        assert publishing.seasons.get("broken").last_published_at is not None
    finally:
        publishing.close()


def test_a_close_by_another_process_wins_over_a_slower_publication(
    db: Database, tmp_path: Path, run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff close the contest on one instance while another is still scoring an upload: the final
    result stands, and nothing provisional is stored after it (the public would see that)."""
    path = tmp_path / "closing.toml"
    path.write_text(
        contest_file("closing", TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=3)), encoding="utf-8"
    )
    assert run.invoke(cli, ["setup", str(path)]).exit_code == 0
    slow, staff = PublishingService(db), PublishingService(db)
    score = PublishingService.score
    closed: list[int] = []

    def scoring_while_staff_close(self: PublishingService, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        view = score(self, *args, **kwargs)  # type: ignore[arg-type]
        if self is slow and not closed:
            closed.append(staff.close_now("closing", actor="staff:test", reason="Preisverleihung").id)
        return view

    monkeypatch.setattr(PublishingService, "score", scoring_while_staff_close)
    try:
        info = slow.publish("closing", reason="import")
        assert closed and info.id == closed[0] and info.final
        newest = slow.history("closing", limit=1)[0]
        assert newest.id == closed[0] and newest.final  # nothing provisional after the final result
        events = slow.seasons.events("closing")
        assert [(e.to_state, e.actor) for e in events][:1] == [("final", "staff:test")]
        assert sum(e.to_state == "final" for e in events) == 1
    finally:
        slow.close()
        staff.close()
