"""A contest outside Germany shows every time of the household portal in its own zone, not in Berlin's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.households import HouseholdService
from contest.settings import WebSettings
from ingest.importer import CsvImporter
from tests.integration.test_portal import Portal
from tests.servers import live_server
from web.app import create_app
from web.i18n import fmt_datetime

ZONE = "America/New_York"  # Berlin is six hours ahead in January

CONTEST_TOML = f"""
[contest]
slug = "hudson-2026"
name = "Hudson Energy Challenge 2026"
timezone = "{ZONE}"
carrier = "electricity"
baseline = {{ start = 2026-01-01, end = 2026-01-10 }}
competition = {{ start = 2026-01-11, end = 2026-01-31 }}

[[households]]
pseudonym = "Heron"
persons = 2
public = true
meters = [{{ id = "NY-1", kind = "register" }}]
"""

#: Midnight readings, local to the contest (the importer reads them in the contest's zone).
REGISTER_CSV = "Datum;Zählerstand (kWh)\n" + "".join(
    f"{day:02d}.01.2026 00:00;{1000 + 10 * day},0\n" for day in range(1, 6)
)


@pytest.fixture
def portal_url(db: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    toml = tmp_path / "hudson.toml"
    toml.write_text(CONTEST_TOML, encoding="utf-8")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(toml))
    with db.session() as session:
        households = HouseholdService(session)
        _, code = households.issue_access_code(households.find("hudson-2026", "Heron").id)
    web = WebSettings(secret_key="test-secret", max_upload_bytes=200_000, upload_dir=str(tmp_path / "up"))
    clock = lambda: dt.datetime(2026, 1, 21, 5, 0, tzinfo=dt.UTC)  # noqa: E731
    app = create_app(db, web, clock=clock, importer=CsvImporter(db))
    with live_server(app) as url:
        yield url, code


def test_the_portal_shows_times_in_the_contests_own_zone(portal_url: tuple[str, str], db: Database) -> None:
    url, code = portal_url
    p = Portal(url)
    p.login(code)
    preview = p.upload("NY-1", "meter.csv", REGISTER_CSV.encode("utf-8"))
    assert preview.status_code == 200, preview.text
    # The file's first reading is midnight in New York: shown as midnight, not as Berlin's 06:00.
    assert "01.01.2026, 00:00 Uhr" in preview.text and "06:00 Uhr" not in preview.text
    token = preview.text.split("/portal/upload/")[1].split("/confirm")[0]
    report = p.post(f"/portal/upload/{token}/confirm")
    assert report.status_code == 200 and 'id="stored">5<' in report.text
    # The import's own time (the server's clock, stored in UTC) is shown in New York time too.
    with db.session() as session:
        households = HouseholdService(session)
        (batch,) = households.batches(households.find("hudson-2026", "Heron").id)
    assert fmt_datetime(batch.created_at, ZONE, "de") in report.text
    home = p.client.get("/portal/?lang=en").text
    assert fmt_datetime(batch.created_at, ZONE, "en") in home
