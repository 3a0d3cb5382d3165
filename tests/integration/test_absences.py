"""Declared absences (a household's holiday) drop out of both periods of its score; households enter them
in the portal, only their own, and refused ranges get a clear message. Household facts for the peer
benchmark (building type, electric hot water) come from the contest file or the portal's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contest.absences import MAX_ABSENCE_DAYS, AbsenceService
from contest.config import parse_contest_config, read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.domain import AbsenceInfo
from contest.errors import ConfigError, NotFoundError
from contest.households import HouseholdService
from contest.leaderboards import LeaderboardService
from contest.models import Absence, Household
from contest.publishing import PublishingService
from contest.settings import WebSettings
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, BERLIN, CONTEST_TOML, DAYS, write_contest_files
from tests.integration.test_portal import Portal
from tests.servers import live_server
from web.app import create_app
from web.i18n import error_text

HOLIDAY = (dt.date(2026, 1, 14), dt.date(2026, 1, 16))


def hourly_with_holiday() -> str:
    """Household B: 12 kWh a day, except 2 kWh a day on the three holiday days (nobody at home)."""
    lines = ["Interval start,Consumption (Wh)"]
    for day in DAYS:
        per_day = 2.0 if HOLIDAY[0] <= day <= HOLIDAY[1] else 12.0
        for hour in range(24):
            start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
            lines.append(f"{start.isoformat()},{per_day * 1000 / 24:.4f}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def contest_db(db: Database, tmp_path: Path) -> Database:
    files = write_contest_files(tmp_path / "files")
    files["B"].write_text(hourly_with_holiday(), encoding="utf-8")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABCDE":
        CsvImporter(db).import_file(files[meter], meter)
    return db


def _household_id(db: Database, pseudonym: str) -> int:
    with db.session() as session:
        return session.scalars(select(Household.id).where(Household.pseudonym == pseudonym)).one()


def _biene(db: Database) -> dict[str, object]:
    with db.session() as session:
        board = LeaderboardService(session, clock=lambda: AS_OF).leaderboard("test-2026", public_only=False)
    row = next(h for h in board.households if h.pseudonym == "Biene")
    return {"rank": row.rank, "fraction": row.savings_fraction, "kwh": row.savings_kwh}


def test_a_declared_holiday_drops_out_of_the_score(contest_db: Database) -> None:
    # Without the absence the holiday looks like savings: expected 10 x 12 = 120 kWh, actual
    # 7 x 12 + 3 x 2 = 90 kWh, savings 30 kWh = 25 % -- Biene would lead the contest.
    before = _biene(contest_db)
    assert before == {"rank": 1, "fraction": pytest.approx(0.25), "kwh": pytest.approx(30.0)}
    biene = _household_id(contest_db, "Biene")
    with contest_db.session() as session:
        AbsenceService(session).add(biene, *HOLIDAY, note="Skiurlaub")
    # With it: 7 days count, expected 7 x 12 = 84 kWh, actual 84 kWh, savings 0 -> behind A, C and E.
    after = _biene(contest_db)
    assert after == {"rank": 4, "fraction": pytest.approx(0.0), "kwh": pytest.approx(0.0)}
    # Removing it restores the first result.
    with contest_db.session() as session:
        (absence,) = AbsenceService(session).of_household(biene)
    assert (absence.days, absence.note) == (3, "Skiurlaub")
    with contest_db.session() as session:
        AbsenceService(session).remove(biene, absence.id)
    assert _biene(contest_db) == before


class _Absences:
    """The household's absence requests, each in its own transaction (as the portal makes them)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, household_id: int, first: dt.date, last: dt.date, note: str | None = None) -> AbsenceInfo:
        with self.db.session() as session:
            return AbsenceService(session).add(household_id, first, last, note)

    def remove(self, household_id: int, absence_id: int) -> None:
        with self.db.session() as session:
            AbsenceService(session).remove(household_id, absence_id)

    def of_household(self, household_id: int) -> list[AbsenceInfo]:
        with self.db.session() as session:
            return AbsenceService(session).of_household(household_id)


def test_refused_absences_say_why(contest_db: Database) -> None:
    absences = _Absences(contest_db)
    amsel = _household_id(contest_db, "Amsel")
    jan = dt.date(2026, 1, 1)
    cases = {
        "reversed": (jan + dt.timedelta(days=5), jan),
        "too_long": (jan, jan + dt.timedelta(days=MAX_ABSENCE_DAYS)),
        "outside_contest": (dt.date(2026, 2, 1), dt.date(2026, 2, 3)),
    }
    for key, (first, last) in cases.items():
        with pytest.raises(ConfigError) as refused:
            absences.add(amsel, first, last)
        assert refused.value.key == f"absence.{key}"
    absences.add(amsel, dt.date(2026, 1, 12), dt.date(2026, 1, 13))
    with pytest.raises(ConfigError, match=r"2026-01-12") as overlap:
        absences.add(amsel, dt.date(2026, 1, 13), dt.date(2026, 1, 15))
    assert overlap.value.key == "absence.overlap"
    # The household reads which absence it clashes with, in its language (the web's catalog).
    assert "12.01.2026" in error_text(overlap.value, "de") and "2026-01-12" in error_text(overlap.value, "en")
    with pytest.raises(ConfigError) as bad_note:
        absences.add(amsel, dt.date(2026, 1, 20), dt.date(2026, 1, 20), note="x\x00y")
    assert bad_note.value.key == "absence.note"
    # Another household cannot remove Amsel's absence: it does not exist for them.
    (mine,) = absences.of_household(amsel)
    with pytest.raises(NotFoundError):
        absences.remove(_household_id(contest_db, "Biene"), mine.id)
    # A closed contest keeps its final leaderboard: absences can no longer change.
    publishing = PublishingService(contest_db, clock=lambda: AS_OF + dt.timedelta(days=30))
    publishing.publish_running()
    with pytest.raises(ConfigError) as closed:
        absences.add(amsel, dt.date(2026, 1, 20), dt.date(2026, 1, 20))
    assert closed.value.key == "absence.contest_closed"
    with pytest.raises(ConfigError):
        absences.remove(amsel, mine.id)
    publishing.close()


def test_absences_are_in_the_household_export_and_go_with_its_deletion(contest_db: Database) -> None:
    biene = _household_id(contest_db, "Biene")
    with contest_db.session() as session:
        AbsenceService(session).add(biene, *HOLIDAY)
    with contest_db.session() as session:
        data = HouseholdService(session).export(biene)
    assert data["absences"] == [{"first_day": "2026-01-14", "last_day": "2026-01-16", "note": None}]
    with contest_db.session() as session:
        HouseholdService(session).delete(biene)
    with contest_db.session() as session:
        assert session.scalar(select(func.count()).select_from(Absence)) == 0


@pytest.fixture
def portal_url(contest_db: Database, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    with contest_db.session() as session:
        households = HouseholdService(session)
        code_b = households.issue_access_code(households.find("test-2026", "Biene").id)[1]
        code_a = households.issue_access_code(households.find("test-2026", "Amsel").id)[1]
    web = WebSettings(secret_key="test-secret", upload_dir=str(tmp_path / "up"))
    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    app = create_app(contest_db, web, clock=lambda: AS_OF, publishing=publishing)
    with live_server(app) as url:
        yield url, code_b, code_a
    publishing.close()


def test_a_household_enters_and_removes_its_absence_in_the_portal(
    portal_url: tuple[str, str, str], contest_db: Database
) -> None:
    url, code_b, code_a = portal_url
    p = Portal(url)
    home = p.login(code_b)
    assert "Abwesenheiten" in home.text and "Keine Abwesenheiten eingetragen" in home.text
    saved = p.post(
        "/portal/absences", data={"first_day": "2026-01-14", "last_day": "16.01.2026", "note": "Ski"}
    )
    assert saved.status_code == 200 and "Abwesenheit eingetragen" in saved.text
    assert "14.01.2026" in saved.text and "16.01.2026" in saved.text and ">3<" in saved.text
    # The portal republishes; the next leaderboard scores Biene without the holiday.
    publishing = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    publishing.publish("test-2026", reason="test")
    assert publishing.standing("test-2026", _household_id(contest_db, "Biene")).savings_fraction == 0.0
    publishing.close()
    # Mistakes get a message in the household's language (only that one), and nothing is stored.
    wrong = p.post("/portal/absences?lang=en", data={"first_day": "2026-01-20", "last_day": "2026-01-18"})
    assert wrong.status_code == 422 and "The end is before the start" in wrong.text
    assert "Das Ende liegt vor dem Beginn" not in wrong.text
    garbage = p.post("/portal/absences?lang=de", data={"first_day": "morgen", "last_day": "2026-01-18"})
    assert garbage.status_code == 422 and "kein Datum" in garbage.text and "not a date" not in garbage.text
    # Another household neither sees nor removes it.
    other = Portal(url)
    assert "absence-list" not in other.login(code_a).text  # its own list is empty
    absence_id = saved.text.split("/portal/absences/")[1].split("/delete")[0]
    assert other.post(f"/portal/absences/{absence_id}/delete").status_code == 404
    removed = p.post(f"/portal/absences/{absence_id}/delete?lang=de")  # back to German
    assert removed.status_code == 200 and "Abwesenheit entfernt" in removed.text
    assert "Keine Abwesenheiten eingetragen" in removed.text


def test_peer_benchmark_facts_from_the_contest_file_and_the_portal(db: Database, tmp_path: Path) -> None:
    toml = CONTEST_TOML.replace(
        'pseudonym = "Amsel"', 'pseudonym = "Amsel"\nbuilding_type = "house"\nelectric_hot_water = true'
    )
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(toml))
    with db.session() as session:
        amsel = HouseholdService(session).get(_household_id(db, "Amsel"))
    assert (amsel.building_type, amsel.electric_hot_water) == ("house", True)
    with pytest.raises(ConfigError, match="building_type"):
        parse_contest_config(toml.replace('"house"', '"castle"'))
    # The household corrects them in its settings (and can say "not stated").
    web = WebSettings(secret_key="test-secret", upload_dir=str(tmp_path / "up"))
    with db.session() as session:
        households = HouseholdService(session)
        code = households.issue_access_code(households.find("test-2026", "Amsel").id)[1]
    with live_server(create_app(db, web, clock=lambda: AS_OF)) as url:
        p = Portal(url)
        p.login(code)
        form = {"pseudonym": "Amsel", "public": "on", "building_type": "flat", "electric_hot_water": ""}
        assert p.post("/portal/settings", data=form).status_code == 200
        page = p.client.get("/portal/").text
        assert '<option value="flat" selected>' in page
        bad = p.post("/portal/settings", data={**form, "building_type": "castle"})
        assert bad.status_code == 422
    with db.session() as session:
        amsel = HouseholdService(session).get(amsel.id)
    assert (amsel.building_type, amsel.electric_hot_water) == ("flat", None)
