"""Issue 11, point 3, replayed through the real database (SQLite and PostgreSQL) and real HTTP: an
interval of 1e12 s or a register of 1e300 kWh is rejected at the edge with its reason and nothing else is
lost; and data stored before the bounds existed (written straight into the tables here) never stops
publishing: its household is held back with a finding, the others, and every other contest on the same
instance, are published, and every page answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy import select

from contest.config import parse_contest_config, read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.households import HouseholdService
from contest.models import DailyDirty, Meter, Reading, RejectedRecord
from contest.publishing import PublishingService
from contest.reading_store import ReadingService
from contest.readings import DURATION_S, ENERGY_KWH, KIND, KIND_INTERVAL, TS_UTC
from contest.settings import WebSettings
from ingest.importer import CsvImporter
from scoring.schema import FINDING_HOUSEHOLD_UNSCORABLE, STATUS_RANKED, STATUS_UNDER_REVIEW
from tests import stored as readback
from tests.integration.contest_fixture import (
    AS_OF,
    CONTEST_TOML,
    english_hourly,
    german_register,
    write_contest_files,
)
from tests.servers import live_server
from web.app import create_app

SLUG, OTHER = "test-2026", "other-2026"


def other_contest_toml() -> str:
    """The same contest under another slug, with its own meters (meter ids are unique per instance)."""
    text = CONTEST_TOML.replace(f'slug = "{SLUG}"', f'slug = "{OTHER}"')
    for meter in "ABCDE":
        text = text.replace(f'id = "{meter}"', f'id = "{meter}2"')
    return text


@pytest.fixture
def contests_db(db: Database, tmp_path: Path) -> Database:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(other_contest_toml()))
    importer = CsvImporter(db)
    for meter in "ABCDE":
        importer.import_file(files[meter], meter)
        importer.import_file(files[meter], f"{meter}2")
    return db


def _meter_id(db: Database, external_id: str) -> int:
    with db.session() as session:
        return int(session.scalars(select(Meter.id).where(Meter.external_id == external_id)).one())


def _poison(db: Database) -> None:
    """What the issue found stored: an interval of 1e12 s on B (as the MQTT worker stored it: the day
    marked for rebuild) and a register of 1e300 kWh on A; and a reading of C dated in the year 3000.
    Written past every bound, as old data is."""
    b, a, c = _meter_id(db, "B"), _meter_id(db, "A"), _meter_id(db, "C")
    at = dt.datetime(2026, 1, 5, 0, 30, tzinfo=dt.UTC)
    with db.session() as session:
        far = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)
        session.add(Reading(meter_id=c, ts_utc=far, energy_kwh=99_999.0, kind="register", source="mqtt"))
        session.add(DailyDirty(meter_id=c, since_utc=dt.datetime(2026, 1, 20, tzinfo=dt.UTC)))
        session.add(
            Reading(meter_id=b, ts_utc=at, energy_kwh=1.0, kind=KIND_INTERVAL, duration_s=1e12, source="mqtt")
        )
        register = session.scalars(
            select(Reading).where(Reading.meter_id == a).order_by(Reading.ts_utc).offset(14).limit(1)
        ).one()
        register.energy_kwh = 1e300
        session.add(DailyDirty(meter_id=b, since_utc=at))
        session.add(DailyDirty(meter_id=a, since_utc=register.ts_utc))


@pytest.fixture
def poisoned_server(contests_db: Database, tmp_path: Path) -> Iterator[tuple[str, PublishingService, str]]:
    _poison(contests_db)
    with contests_db.session() as session:
        households = HouseholdService(session)
        _, code = households.issue_access_code(households.find(SLUG, "Amsel").id)
    publishing = PublishingService(contests_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    web = WebSettings(secret_key="test-secret", upload_dir=str(tmp_path / "up"))
    app = create_app(
        contests_db, web, clock=lambda: AS_OF, importer=CsvImporter(contests_db), publishing=publishing
    )
    with live_server(app) as url:
        yield url, publishing, code
    publishing.close()


def test_stored_absurd_readings_never_stop_publishing_nor_any_page(
    poisoned_server: tuple[str, PublishingService, str],
) -> None:
    url, publishing, code = poisoned_server
    # No snapshot exists yet: the first page view publishes. The other contest comes first: it shares
    # the instance (and the rebuild of streamed days) with the broken one, and answered 500 before.
    with httpx.Client(base_url=url) as client:
        for slug in (OTHER, SLUG):
            assert client.get(f"/contests/{slug}").status_code == 200
            assert client.get(f"/contests/{slug}/widget").status_code == 200
            api = client.get(f"/api/contests/{slug}/leaderboard")
            assert api.status_code == 200
            status = {h["pseudonym"]: h["status"] for h in api.json()["households"]}
            assert status["Biene"] == STATUS_RANKED and status["Elster"] == STATUS_RANKED
            assert status["Amsel"] == (STATUS_UNDER_REVIEW if slug == SLUG else STATUS_RANKED)
            assert publishing.season(slug).last_error is None
    # The staff's publication works and tells them which household and why.
    publishing.publish(SLUG, reason="manual")
    view = publishing.latest(SLUG)
    (finding,) = [f for f in view.findings if f.key == FINDING_HOUSEHOLD_UNSCORABLE]
    with publishing.db.session() as session:
        amsel = HouseholdService(session).find(SLUG, "Amsel").id
    assert finding.subject == f"household:{amsel}" and "1e+300" in finding.detail
    ranked = [h.pseudonym for h in view.households if h.status == STATUS_RANKED]
    assert sorted(ranked) == ["Biene", "Elster"]  # Dachs lacks data, as always
    # The household's own portal answers, and shows it is not ranked.
    portal = httpx.Client(base_url=url, follow_redirects=True)
    portal.get("/portal/")
    token = portal.cookies.get("csrftoken") or ""
    assert (
        portal.post("/portal/login", data={"code": code}, headers={"x-csrftoken": token}).status_code == 200
    )
    assert portal.get("/portal/").status_code == 200
    portal.close()


def _rejected(db: Database, batch_id: int) -> list[RejectedRecord]:
    with db.session() as session:
        rows = session.scalars(select(RejectedRecord).where(RejectedRecord.batch_id == batch_id)).all()
        session.expunge_all()
        return list(rows)


def test_an_absurd_row_of_a_file_is_rejected_with_its_line_and_nothing_else_is_lost(
    contests_db: Database,
) -> None:
    importer = CsvImporter(contests_db)
    before = readback.daily(contests_db, "B2")
    clean = english_hourly(12.0, 12.0).encode()
    # 500 MWh in one hour (a unit slip), and a register that jumps by a million kWh in a day.
    interval_file = clean + b"2026-01-21T00:00:00+01:00,500000000000.0000\n"
    preview = importer.preview(interval_file, "B2")
    assert [r.key for r in preview.rejections] == ["reading.interval_power_too_high"]
    report = importer.import_bytes(interval_file, "B2")
    assert report.rows_rejected == 1 and report.rows_duplicate == 20 * 24 and report.rows_stored == 0
    (record,) = _rejected(contests_db, report.batch_id)
    assert record.key == "reading.interval_power_too_high" and record.line_no == 20 * 24 + 2
    assert record.raw.startswith("2026-01-21T00:00:00+01:00") and "100 kW" in record.reason
    assert readback.daily(contests_db, "B2").equals(before)

    register_file = german_register(10.0, 8.0) + "22.01.2026 00:00;1.004.500,00\n"
    report = importer.import_bytes(register_file.encode(), "A2")
    (record,) = _rejected(contests_db, report.batch_id)
    assert record.key == "reading.register_rise_too_fast" and record.line_no == 23
    assert readback.count_readings(contests_db, "A2") == 21


def test_the_issues_interval_is_rejected_where_every_reading_is_stored(contests_db: Database) -> None:
    """ReadingService.store is where every frame of readings is stored (files, manual and swap
    readings): the issue's interval of 1e12 s and a register of 1e300 kWh are rejected there, the
    readings beside them are stored."""
    frame = pd.DataFrame(
        {
            TS_UTC: pd.to_datetime(["2026-01-21T00:00Z", "2026-01-21T01:00Z"], utc=True),
            ENERGY_KWH: [1.0, 0.5],
            KIND: [KIND_INTERVAL, KIND_INTERVAL],
            DURATION_S: [1e12, 3600.0],
        }
    )
    with contests_db.session() as session:
        readings = ReadingService(session, clock=lambda: AS_OF)
        report = readings.store(
            readback.import_context(contests_db, "B2"), frame, (), source="manual", rows_read=2
        )
    assert report.rows_stored == 1 and report.rows_rejected == 1
    (rejection,) = report.rejections
    assert rejection.key == "reading.duration_out_of_range" and "1e+12 s" in rejection.reason
    assert rejection.line_no is None and rejection.raw.startswith("2026-01-21T00:00:00+00:00 interval 1 kWh")
    assert [r.key for r in readback.rejected_records(contests_db, report.batch_id)] == [
        "reading.duration_out_of_range"
    ]
    register = frame.iloc[:1].assign(**{KIND: "register", ENERGY_KWH: 1e300, DURATION_S: float("nan")})
    with contests_db.session() as session:
        report = ReadingService(session, clock=lambda: AS_OF).store(
            readback.import_context(contests_db, "A2"), register, (), source="manual", rows_read=1
        )
    assert report.rows_stored == 0 and [r.key for r in report.rejections] == ["reading.register_out_of_range"]
    view = PublishingService(contests_db, clock=lambda: AS_OF).publish(OTHER)
    assert view.id > 0


def test_a_meter_whose_days_cannot_be_rebuilt_holds_up_no_other_meter(
    contests_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring first rebuilds the days of streamed readings, for every contest: one meter that fails
    there is logged and stays marked, and every other meter is brought up to date."""
    from contest import consumption

    a, b = _meter_id(contests_db, "A"), _meter_id(contests_db, "B2")
    since = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    with contests_db.session() as session:
        session.add(DailyDirty(meter_id=a, since_utc=since))
        session.add(DailyDirty(meter_id=b, since_utc=since))
    plan = consumption.plan_days

    def failing(session: object, meter_id: int, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if meter_id == a:
            raise RuntimeError("a fault for this test")
        return plan(session, meter_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(consumption, "plan_days", failing)
    assert consumption.refresh_daily(contests_db) == 1
    with contests_db.session() as session:
        still = set(session.scalars(select(DailyDirty.meter_id)).all())
    assert still == {a}  # the failing one stays marked, the other is done
    # And the contests are published all the same.
    publishing = PublishingService(contests_db, clock=lambda: AS_OF)
    try:
        assert publishing.publish(SLUG).id > 0 and publishing.publish(OTHER).id > 0
    finally:
        publishing.close()
